"""FetchFunction's handler with politeness on moto: concurrent records keep their own outcomes,
a host that is not ready defers records instead of failing them, a batch never starts what it
cannot finish, and every URL still ends as one article, one queued message or one dead letter."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from newsflow.storage import ArticleTable
from newsflow.urls import article_id_for, canonicalize_url

from .sqs_events import event_of, sqs_event


@dataclass
class ShortContext:
    """A Lambda context with little time left."""

    seconds_left: float
    function_name: str = "fetch"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fetch"
    aws_request_id: str = "11111111-1111-1111-1111-111111111111"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


def polite_handler(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    **settings: str,
) -> ModuleType:
    monkeypatch.setenv("NEWSFLOW_ALLOW_LOOPBACK", "true")
    env = {**pipeline.fetch_env(), "INGEST_QUEUE_URL": pipeline.ingest_queue_url, **settings}
    return load_function("FetchFunction", env)


def status_of(pipeline: Any, url: str) -> tuple[str, str | None] | None:
    record = ArticleTable(pipeline.table, pipeline.dynamodb).get(
        article_id_for(canonicalize_url(url))
    )
    if record is None:
        return None
    return record.status.value, record.failure.reason if record.failure else None


def queue_counts(pipeline: Any, url: str) -> tuple[int, int]:
    """(visible or in flight, delayed) messages on a queue."""
    attributes = pipeline.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"])
        + int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        int(attributes["ApproximateNumberOfMessagesDelayed"]),
    )


def test_concurrent_records_keep_partial_batch_semantics(
    pipeline: Any,
    load_function: Any,
    monkeypatch: pytest.MonkeyPatch,
    page_server: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN a batch mixing a good page, a 404, a 500, a body with no URL and a page robots.txt
    # forbids, all on one host allowed 100 requests per second
    handler = polite_handler(pipeline, load_function, monkeypatch, HOST_REQUESTS_PER_SECOND="100")
    page_server.add(
        "/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    good = page_server.add("/news/harbour-bridge", make_article_page())
    gone = page_server.url("/gone")
    broken = page_server.add("/broken", b"<html>oops</html>", status=500)
    private = page_server.add("/private/memo", make_article_page())
    event = sqs_event(pipeline, [good, gone, broken, '{"url": ', private])

    # WHEN the handler runs the records concurrently
    response = handler.lambda_handler(event, lambda_context)

    # THEN only the 500 goes back to SQS
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["messageId"]}]}
    # AND each other record has its own outcome
    assert status_of(pipeline, good) == ("FETCHED", None)
    assert status_of(pipeline, gone) == ("FAILED", "http_error")
    assert status_of(pipeline, private) == ("FAILED", "robots_disallowed")
    assert status_of(pipeline, broken) is None
    assert len(pipeline.keys("rejected/")) == 1
    # AND the forbidden page was never asked for
    assert page_server.hits.get("/private/memo", 0) == 0


def test_records_beyond_the_host_rate_are_deferred_not_failed(
    pipeline: Any,
    load_function: Any,
    monkeypatch: pytest.MonkeyPatch,
    page_server: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN ten articles on one host that takes one request per 100 s
    handler = polite_handler(
        pipeline,
        load_function,
        monkeypatch,
        HOST_REQUESTS_PER_SECOND="0.01",
        RESPECT_ROBOTS="false",
    )
    urls = [page_server.add(f"/news/{i}", make_article_page(title=f"Story {i}")) for i in range(10)]
    event = sqs_event(pipeline, urls)

    # WHEN one batch runs
    response = handler.lambda_handler(event, lambda_context)

    # THEN nothing goes back to SQS as a failure (no receive counted toward the DLQ)
    assert response == {"batchItemFailures": []}
    # AND one page was fetched; the nine others wait on the ingest queue, delayed
    fetched = [url for url in urls if status_of(pipeline, url) == ("FETCHED", None)]
    assert len(fetched) == 1
    assert sum(page_server.hits.values()) == 1
    assert queue_counts(pipeline, pipeline.ingest_queue_url) == (0, 9)
    # AND the invariant: ten pushed = one article + nine queued
    assert len(fetched) + 9 == len(urls)


def test_a_batch_with_no_time_left_starts_nothing_and_loses_nothing(
    pipeline: Any,
    load_function: Any,
    monkeypatch: pytest.MonkeyPatch,
    page_server: Any,
    make_article_page: Any,
) -> None:
    # GIVEN a batch of three that arrives with 3 s of the invocation left
    handler = polite_handler(pipeline, load_function, monkeypatch, HOST_REQUESTS_PER_SECOND="100")
    urls = [page_server.add(f"/late/{i}", make_article_page()) for i in range(3)]
    event = sqs_event(pipeline, urls)

    # WHEN the handler runs
    response = handler.lambda_handler(event, ShortContext(seconds_left=3.0))

    # THEN no page is requested, no record fails, and all three are back on the queue at once,
    # their defer count untouched
    assert response == {"batchItemFailures": []}
    assert page_server.hits == {}
    resent = pipeline.receive_all(pipeline.ingest_queue_url)
    assert sorted(json.loads(m["Body"])["url"] for m in resent) == sorted(urls)
    assert {json.loads(m["Body"])["defer_count"] for m in resent} == {0}


def test_a_host_that_stays_busy_ends_failed_after_the_deferral_bound(
    pipeline: Any,
    load_function: Any,
    monkeypatch: pytest.MonkeyPatch,
    page_server: Any,
    lambda_context: Any,
) -> None:
    # GIVEN a page that always answers 429 "retry at once", and at most 2 deferrals
    handler = polite_handler(
        pipeline,
        load_function,
        monkeypatch,
        HOST_REQUESTS_PER_SECOND="100",
        MAX_DEFERRALS="2",
        RESPECT_ROBOTS="false",
    )
    url = page_server.add("/busy", b"slow down", status=429, headers={"Retry-After": "0"})
    pipeline.sqs.send_message(QueueUrl=pipeline.ingest_queue_url, MessageBody=url)

    # WHEN the queue is played like Lambda's event source until it is empty
    rounds = 0
    while messages := pipeline.receive_all(pipeline.ingest_queue_url):
        rounds += 1
        assert rounds < 10
        response = handler.lambda_handler(event_of(messages), lambda_context)
        assert response == {"batchItemFailures": []}

    # THEN it was tried three times (two deferrals), then recorded FAILED host_unavailable
    assert page_server.hits["/busy"] == 3
    assert status_of(pipeline, url) == ("FAILED", "host_unavailable")
    # AND nothing is left anywhere: one URL, one article
    assert queue_counts(pipeline, pipeline.ingest_queue_url) == (0, 0)
    assert queue_counts(pipeline, pipeline.ingest_dlq_url) == (0, 0)


def test_every_record_of_a_full_batch_runs_at_once(
    pipeline: Any, load_function: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    # GIVEN a batch larger than asyncio's default thread pool (min(32, CPUs + 4) threads) and
    # FETCH_CONCURRENCY as large as the batch
    size = min(32, (os.cpu_count() or 1) + 4) + 1
    handler = polite_handler(pipeline, load_function, monkeypatch, FETCH_CONCURRENCY=str(size))
    everyone_started = threading.Barrier(size, timeout=10)

    def record_waiting_for_the_others(record: Any) -> dict[str, Any]:
        everyone_started.wait()  # broken (and the record failed) unless all run together
        return {}

    monkeypatch.setattr(handler, "handle_record", record_waiting_for_the_others)
    event = sqs_event(pipeline, [f"https://example.com/story-{i}" for i in range(size)])

    # WHEN the handler runs the batch
    response = handler.lambda_handler(event, lambda_context)

    # THEN all the records were in flight at the same time (their network waits overlap)
    assert response == {"batchItemFailures": []}
