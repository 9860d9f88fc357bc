"""PollFunction: a schedule tick queues the due sources; a SourcePollQueue record polls one.

Two events, one function (one package, one role):

* the EventBridge schedule (``source: aws.events``): every source that is due is claimed (its
  next poll moved ``POLL_LEASE_SECONDS`` ahead, conditionally, so a slow poll is not queued
  twice) and queued on SourcePollQueue, so a thousand sources poll in parallel;
* a SourcePollQueue batch: each record names a source; ``SourcePoller`` fetches it (a
  conditional GET through the polite fetcher: robots.txt, the host's pace, the safe fetch),
  pushes its new entries to IngestQueue and writes the source back. A source's own failures
  (unreachable, not a feed, too large...) are recorded on the source, which backs off, and the
  record is consumed; only table or queue failures raise, so SQS retries the poll (and
  dead-letters it to SourcePollDLQ after MaxReceiveCount deliveries).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsflow.politeness import polite_fetcher
from newsflow.settings import get_fetch_policy, get_politeness_settings
from newsflow.sources import (
    BatchQueue,
    PollMessage,
    SourcePoller,
    SourceTable,
    queue_due_sources,
)
from newsflow.sources.settings import get_poll_settings, get_schedule_settings
from newsflow.tracing import make_tracer

SERVICE = "poll"
logger = Logger(service=SERVICE)
tracer = make_tracer(SERVICE)
metrics = Metrics(service=SERVICE)
# Records stay Powertools' SQSRecord: a pydantic record model would import every Powertools
# event model at cold start.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@lru_cache(maxsize=1)
def _poller() -> SourcePoller:
    """Built on the first record, once per container."""
    settings = get_poll_settings()
    dynamodb = boto3.client("dynamodb")
    return SourcePoller(
        fetcher=polite_fetcher(
            settings.ARTICLES_TABLE, dynamodb, get_fetch_policy(), get_politeness_settings()
        ),
        table=SourceTable(settings.ARTICLES_TABLE, dynamodb),
        ingest=BatchQueue(settings.INGEST_QUEUE_URL, boto3.client("sqs")),
        limits=settings.limits(),
    )


@tracer.capture_method
def handle_record(record: SQSRecord) -> dict[str, Any]:
    try:
        message = PollMessage.model_validate_json(record.body)
    except ValueError as exc:
        logger.warning("poll message rejected", extra={"detail": str(exc)[:512]})
        metrics.add_metric(name="PollMessagesRejected", unit=MetricUnit.Count, value=1)
        return {"status": "REJECTED"}
    result = _poller().poll_id(message)
    if result is None:
        logger.info("source removed before its poll", extra={"source_id": message.source_id})
        return {"status": "GONE"}
    source = result.source
    metrics.add_metric(name="SourcesPolled", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="EntriesPushed", unit=MetricUnit.Count, value=len(result.pushed))
    if result.failed:
        metrics.add_metric(name="SourcePollsFailed", unit=MetricUnit.Count, value=1)
    log = logger.warning if result.failed else logger.info
    log(
        "source %s",
        result.outcome,
        extra={
            "source_id": source.source_id,
            "url": source.url[:512],
            "entries": len(result.entries),
            "pushed": len(result.pushed),
            "requests": result.requests,
            "error": source.last_error.model_dump(mode="json") if source.last_error else None,
            "next_poll_at": source.next_poll_at.isoformat(),
        },
    )
    return {"status": result.outcome, "source_id": source.source_id}


def queue_due() -> dict[str, int]:
    """The schedule tick: queue every due source once."""
    settings = get_schedule_settings()
    queued = queue_due_sources(
        SourceTable(settings.ARTICLES_TABLE, boto3.client("dynamodb")),
        BatchQueue(settings.SOURCE_POLL_QUEUE_URL, boto3.client("sqs")),
        now=datetime.now(UTC),
        lease=timedelta(seconds=settings.POLL_LEASE_SECONDS),
    )
    metrics.add_metric(name="SourcesQueued", unit=MetricUnit.Count, value=len(queued))
    logger.info("due sources queued", extra={"queued": len(queued)})
    return {"queued": len(queued)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext
) -> PartialItemFailureResponse | dict[str, int]:
    if event.get("source") == "aws.events":
        return queue_due()
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
