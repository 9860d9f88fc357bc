"""Deferral and the time budget in the fetch stage, against in-memory fakes (no AWS, no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from newsflow.budget import TimeBudget
from newsflow.errors import PermanentError, Reason, TransientError
from newsflow.fetching import FetchedPage
from newsflow.models import ArticleStatus, IngestMessage
from newsflow.pipeline import FetchStage, FetchTiming, Outcome
from newsflow.politeness import Deferrer, HostNotReadyError
from newsflow.politeness.polite import HOST_BACKOFF, RATE_LIMITED
from newsflow.urls import article_id_for, canonicalize_url

from .fakes import Clock, FakeArticles, FakeDocuments, FakeQueue, Journal
from .fakes import parse_page as fake_parse

URL = "https://news.example.com/harbour/solar-ferry"


class DelayedQueue:
    """The ingest queue: what was re-sent, with its delay."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []

    def send(self, message: BaseModel | str, *, delay_seconds: int = 0) -> str:
        body = message if isinstance(message, str) else message.model_dump_json()
        self.sent.append((json.loads(body), delay_seconds))
        return f"deferred-{len(self.sent)}"


class ScriptedFetcher:
    """Raises ``error`` if set, else serves a small page; counts calls."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls = 0

    def fetch(self, url: str) -> FetchedPage:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return FetchedPage(url, url, 200, "text/html", "utf-8", b"<html>a story</html>")


def make_stage(
    fetcher: ScriptedFetcher,
    ingest: DelayedQueue | None,
    *,
    seconds_left: float = 60.0,
    max_deferrals: int = 3,
) -> tuple[FetchStage, FakeArticles]:
    journal = Journal()
    articles = FakeArticles(journal)
    stage = FetchStage(
        fetcher=fetcher,
        parse=fake_parse,
        documents=FakeDocuments(journal),
        table=articles,
        enrich_queue=FakeQueue(journal),
        clock=Clock(),
        deferrer=Deferrer(ingest, max_deferrals=max_deferrals) if ingest else None,
        timing=FetchTiming(
            budget=TimeBudget(lambda: seconds_left), record_seconds=40.0, parse_seconds=10.0
        ),
    )
    return stage, articles


def article_id() -> str:
    return article_id_for(canonicalize_url(URL))


def test_a_record_whose_host_is_not_ready_is_re_sent_with_a_delay_and_consumed() -> None:
    # GIVEN a host whose next slot is 42.3 s away
    ingest = DelayedQueue()
    not_ready = HostNotReadyError("news.example.com", 42.3, "rate used up", kind=RATE_LIMITED)
    stage, articles = make_stage(ScriptedFetcher(not_ready), ingest)
    message = IngestMessage(url=URL, source="feed", metadata={"k": "v"})

    # WHEN the stage runs it
    result = stage.run(message)

    # THEN it is deferred (the record is consumed), re-sent due in 43 s (pacing is not counted)
    assert result.outcome is Outcome.DEFERRED and result.deferred == RATE_LIMITED
    [(body, delay)] = ingest.sent
    assert delay == 43
    assert body["defer_count"] == 0
    assert (body["url"], body["source"], body["metadata"]) == (URL, "feed", {"k": "v"})
    # AND nothing is recorded for the article yet
    assert article_id() not in articles.records


def test_a_delay_beyond_sqs_limit_is_capped_at_900_seconds() -> None:
    # GIVEN a host backed off for two hours
    ingest = DelayedQueue()
    backoff = HostNotReadyError("news.example.com", 7200, "429", kind=HOST_BACKOFF)
    stage, _ = make_stage(ScriptedFetcher(backoff), ingest)
    # WHEN the record is deferred
    stage.run(IngestMessage(url=URL))
    # THEN the delay is SQS's maximum
    assert ingest.sent[0][1] == 900


def test_after_the_bound_the_record_ends_failed_host_unavailable() -> None:
    # GIVEN a record already deferred as often as allowed
    ingest = DelayedQueue()
    busy = HostNotReadyError("news.example.com", 30, "429 Too Many Requests", kind=HOST_BACKOFF)
    stage, articles = make_stage(ScriptedFetcher(busy), ingest, max_deferrals=3)

    # WHEN it is not ready once more
    result = stage.run(IngestMessage(url=URL, defer_count=3))

    # THEN it is FAILED with host_unavailable and a detail that says why; nothing is re-sent
    assert result.outcome is Outcome.FAILED
    assert result.failure is not None and result.failure.reason == Reason.HOST_UNAVAILABLE
    assert "deferred 3 times" in result.failure.detail and "429" in result.failure.detail
    assert articles.records[article_id()].status is ArticleStatus.FAILED
    assert ingest.sent == []


def test_waiting_for_the_host_pace_never_uses_up_the_bound() -> None:
    # GIVEN a record at its deferral bound whose host is only busy with its pace
    ingest = DelayedQueue()
    paced = HostNotReadyError("news.example.com", 3, "rate used up", kind=RATE_LIMITED)
    stage, _ = make_stage(ScriptedFetcher(paced), ingest, max_deferrals=3)
    # WHEN it is not ready again
    result = stage.run(IngestMessage(url=URL, defer_count=3))
    # THEN it is deferred once more, its count unchanged
    assert result.outcome is Outcome.DEFERRED
    assert ingest.sent[0][0]["defer_count"] == 3


def test_without_a_deferral_queue_a_host_that_is_not_ready_is_transient() -> None:
    # GIVEN a stage with no ingest queue to re-send to
    not_ready = HostNotReadyError("news.example.com", 5, "rate used up", kind=RATE_LIMITED)
    stage, _ = make_stage(ScriptedFetcher(not_ready), None)
    # WHEN / THEN the record is handed back to SQS like any transient failure
    with pytest.raises(TransientError) as caught:
        stage.run(IngestMessage(url=URL))
    assert caught.value.reason == Reason.HOST_UNAVAILABLE


def test_a_record_the_invocation_has_no_time_for_is_not_started() -> None:
    # GIVEN 12 s left in the invocation and a record that may need 40 s
    ingest = DelayedQueue()
    fetcher = ScriptedFetcher()
    stage, articles = make_stage(fetcher, ingest, seconds_left=12.0)

    # WHEN the stage gets it
    result = stage.run(IngestMessage(url=URL, defer_count=2))

    # THEN it fetches nothing and re-sends the record at once, its defer count untouched
    assert fetcher.calls == 0
    assert result.outcome is Outcome.DEFERRED and result.deferred == "out_of_time"
    assert ingest.sent == [(IngestMessage(url=URL, defer_count=2).model_dump(mode="json"), 0)]
    assert article_id() not in articles.records


def test_parsing_is_not_started_without_time_for_it() -> None:
    # GIVEN a budget that allows the start (45 s) but not the parse after the fetch (5 s left)
    ingest = DelayedQueue()
    left = iter([45.0, 5.0])
    journal = Journal()
    parsed: list[str] = []

    def parse(html: str | bytes, url: str | None = None, *, charset: str | None = None) -> Any:
        parsed.append(url or "")
        return fake_parse(html, url, charset=charset)

    stage = FetchStage(
        fetcher=ScriptedFetcher(),
        parse=parse,
        documents=FakeDocuments(journal),
        table=FakeArticles(journal),
        enrich_queue=FakeQueue(journal),
        clock=Clock(),
        deferrer=Deferrer(ingest),
        timing=FetchTiming(
            budget=TimeBudget(lambda: next(left)), record_seconds=40.0, parse_seconds=10.0
        ),
    )
    # WHEN it runs
    result = stage.run(IngestMessage(url=URL))
    # THEN the page is not parsed and the record is re-sent uncounted
    assert parsed == []
    assert result.outcome is Outcome.DEFERRED and ingest.sent[0][0]["defer_count"] == 0


def test_an_ingest_message_with_a_defer_count_round_trips_and_rejects_nonsense() -> None:
    message = IngestMessage.model_validate_json('{"url": "https://a.example/x", "defer_count": 4}')
    assert message.defer_count == 4
    with pytest.raises(ValueError):
        IngestMessage.model_validate_json('{"url": "https://a.example/x", "defer_count": -1}')


def test_the_deferrer_refuses_past_the_bound_even_for_a_zero_delay() -> None:
    deferrer = Deferrer(DelayedQueue(), max_deferrals=0)
    request = HostNotReadyError("h", 0, "busy", kind=HOST_BACKOFF)
    with pytest.raises(PermanentError):
        deferrer.defer(IngestMessage(url=URL), request)
