"""PollFunction's paths for the least-privilege comparison (test_least_privilege.py).

A schedule tick queues the due sources; the poll function polls a good feed (entries pushed, seen
items written), polls it again (unchanged: no entry written), polls a source that fails (the
error recorded on the source) and a source removed since it was queued.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from newsflow.sources import Source, SourceTable, source_id_for
from newsflow.sources.settings import get_poll_settings, get_schedule_settings

from .iam import CallRecorder

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Gazette</title>'
    b"<item><title>Bridge</title><link>https://news.example/bridge</link>"
    b"<pubDate>Mon, 01 Dec 2025 08:30:00 GMT</pubDate></item></channel></rss>"
)

SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2025-12-01T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/newsflow-PollFunctionTick"],
    "detail": {},
}


def run_source_paths(
    *,
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], ModuleType],
    page_server: Any,
    recorder: CallRecorder,
    context: Any,
    deliver: Callable[[Any, str, list[str]], dict[str, Any]],
) -> None:
    poll_queue = pipeline.sqs.create_queue(
        QueueName="test-SourcePollQueue", Attributes={"VisibilityTimeout": "0"}
    )["QueueUrl"]
    table = SourceTable(pipeline.table, pipeline.dynamodb)
    due = datetime.now(UTC) - timedelta(minutes=1)
    urls = [
        page_server.add("/feed.xml", FEED, content_type="application/rss+xml"),
        page_server.url("/no-feed-here.xml"),  # 404: the source records the error
    ]
    for url in urls:
        table.add(Source(source_id=source_id_for(url), url=url, created_at=due, next_poll_at=due))
    get_poll_settings.cache_clear()
    get_schedule_settings.cache_clear()
    poll = load_function(
        "PollFunction",
        {
            "ARTICLES_TABLE": pipeline.table,
            "INGEST_QUEUE_URL": pipeline.ingest_queue_url,
            "SOURCE_POLL_QUEUE_URL": poll_queue,
        },
    )
    with recorder.calls_of("PollFunction"):
        assert poll.lambda_handler(SCHEDULED_EVENT, context) == {"queued": 2}
    bodies = [m["Body"] for m in pipeline.receive_all(poll_queue)]
    bodies.append(json.dumps({"source_id": "src-removed"}))
    event = deliver(pipeline, poll_queue, bodies)
    with recorder.calls_of("PollFunction"):
        assert poll.lambda_handler(event, context) == {"batchItemFailures": []}
        assert poll.lambda_handler(event, context) == {"batchItemFailures": []}  # unchanged
    sources = {s.url: s for s in table.all()}
    assert sources[urls[0]].pushed == 1
    assert sources[urls[1]].last_error is not None
