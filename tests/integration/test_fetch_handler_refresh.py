"""FetchFunction's refresh policy on moto: a new article schedules its re-fetch on the ingest
queue (delayed), and a due refresh re-fetches it, noting only ``checked_at`` when unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from newsflow.storage import ArticleTable
from newsflow.urls import article_id_for, canonicalize_url

from .sqs_events import sqs_event
from .test_fetch_handler_politeness import polite_handler, queue_counts


def refresh_of(url: str, *, hours: float) -> str:
    due = datetime.now(UTC) + timedelta(hours=hours)
    return json.dumps(
        {"url": url, "force": True, "refresh_step": 0, "refresh_due": due.isoformat()}
    )


@dataclass
class Stack:
    pipeline: Any
    handler: ModuleType
    url: str
    context: Any

    def run(self, body: str) -> Any:
        return self.handler.lambda_handler(sqs_event(self.pipeline, [body]), self.context)

    def pending(self) -> tuple[int, int]:
        return queue_counts(self.pipeline, self.pipeline.ingest_queue_url)


@pytest.fixture
def stack_with(
    pipeline: Any,
    load_function: Any,
    monkeypatch: pytest.MonkeyPatch,
    page_server: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> Callable[[str], Stack]:
    """The fetch handler with ``REFRESH_AFTER`` set as given, and one article page served."""

    def build(refresh_after: str) -> Stack:
        handler = polite_handler(
            pipeline,
            load_function,
            monkeypatch,
            RESPECT_ROBOTS="false",
            REFRESH_AFTER=refresh_after,
        )
        url = page_server.add("/news/harbour-bridge", make_article_page())
        return Stack(pipeline, handler, url, lambda_context)

    return build


@pytest.mark.parametrize(("refresh_after", "scheduled"), [("", 0), ("1h", 1)])
def test_a_new_article_schedules_a_refresh_only_when_the_policy_is_on(
    stack_with: Callable[[str], Stack], refresh_after: str, scheduled: int
) -> None:
    stack = stack_with(refresh_after)
    assert stack.run(stack.url) == {"batchItemFailures": []}
    assert stack.pending() == (0, scheduled)


def test_a_due_refresh_re_fetches_and_the_last_step_schedules_nothing(
    stack_with: Callable[[str], Stack], page_server: Any
) -> None:
    stack = stack_with("1h")
    pipeline, url = stack.pipeline, stack.url
    stack.run(url)
    assert stack.pending() == (0, 1)  # step 0, delayed
    table = ArticleTable(pipeline.table, pipeline.dynamodb)
    article_id = article_id_for(canonicalize_url(url))
    first = table.get(article_id)
    assert first is not None and first.checked_at is None

    # a refresh not due yet is held: re-sent, delayed, and the page is not asked for
    stack.run(refresh_of(url, hours=1))
    assert stack.pending() == (0, 2)
    assert page_server.hits["/news/harbour-bridge"] == 1

    # a due refresh of the last step re-fetches and schedules nothing
    stack.run(refresh_of(url, hours=0))

    refreshed = table.get(article_id)
    assert refreshed is not None
    assert refreshed.version == 1 and refreshed.checked_at is not None
    assert page_server.hits["/news/harbour-bridge"] == 2
    assert stack.pending() == (0, 2)  # nothing more
