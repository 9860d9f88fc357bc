"""FetchFunction: IngestQueue batch -> polite, safe fetch + parse + store per record.

Thin by design: each SQS record goes through ``FetchStage`` by ``newsflow.records``. Permanent
failures are recorded by the stage and count as processed; transient ones raise, so Powertools
reports them in ``batchItemFailures`` and SQS redelivers (then dead-letters). A record whose host
is not ready, or that the invocation has no time left for, is deferred (re-sent with a delay)
and counts as processed.

The records of a batch run concurrently (``FETCH_CONCURRENCY`` at once): network waits overlap,
each record still succeeds or fails on its own, and parsing runs one page at a time.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsflow import snapstart
from newsflow.budget import TimeBudget
from newsflow.duplicates import DuplicateDetector
from newsflow.extraction import parse_html
from newsflow.handoff import BatchedHandOff
from newsflow.language import load_identifier
from newsflow.models import (
    ArticleRecord,
    ArticleVersion,
    EnrichMessage,
    ExtractorInfo,
    Failure,
    IngestMessage,
    ParsedArticle,
    build_models,
    parse_ingest_body,
)
from newsflow.observability import RecordReporter
from newsflow.pipeline import FetchStage, FetchTiming
from newsflow.politeness import Deferrer, polite_fetcher
from newsflow.records import process_record
from newsflow.refresh import Refresher, get_refresh_delays
from newsflow.settings import (
    PARSE_BUDGET_SECONDS,
    get_fetch_policy,
    get_fetch_settings,
    get_politeness_settings,
)
from newsflow.storage import ArticleTable, DocumentStore, MessageQueue
from newsflow.storage.fingerprints import FingerprintIndex
from newsflow.storage.items import RetryNote
from newsflow.tracing import make_tracer

SERVICE = "fetch"
logger = Logger(service=SERVICE)
tracer = make_tracer(SERVICE)
metrics = Metrics(service=SERVICE)
reporter = RecordReporter(logger, metrics, SERVICE)
# Report every failed record instead of raising when all fail: SQS retries exactly those
# records either way, and a raise would count ordinary transient failures as function errors.
# Records stay Powertools' SQSRecord (the body is text: the stage decides what a bad body
# means). A pydantic record model would import every Powertools event model at cold start, as
# the batch module does when pydantic is imported before it (tests/unit/coldstart checks both).
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class _InvocationClock:
    """Seconds left in the running invocation (Lambda's context, set per batch)."""

    context: LambdaContext | None = None

    def __call__(self) -> float:
        if self.context is None:
            return math.inf
        return self.context.get_remaining_time_in_millis() / 1000


remaining = _InvocationClock()


@lru_cache(maxsize=1)
def _stage() -> FetchStage:
    """Built on the first record, once per container (clients are not created at import)."""
    # before the records' threads start (lambda_handler builds the stage first): the models
    # they use, whose schemas newsflow.models defers to first use
    build_models(
        IngestMessage,
        ParsedArticle,
        ExtractorInfo,
        EnrichMessage,
        ArticleRecord,
        ArticleVersion,
        Failure,
        RetryNote,
    )
    settings = get_fetch_settings()
    policy = get_fetch_policy()
    polite = get_politeness_settings()
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    fetcher = polite_fetcher(settings.ARTICLES_TABLE, dynamodb, policy, polite)
    # The parse budget is CPU seconds; with less than a full vCPU they take longer on the clock.
    parse_and_store = PARSE_BUDGET_SECONDS / polite.cpu_share + polite.STORE_MARGIN_SECONDS
    robots_seconds = (
        min(polite.ROBOTS_TIMEOUT_SECONDS, policy.timeout_seconds) if polite.RESPECT_ROBOTS else 0.0
    )
    documents = DocumentStore(settings.ARTICLES_BUCKET, boto3.client("s3"))
    refresh_delays = get_refresh_delays()
    return FetchStage(
        fetcher=fetcher,
        parse=parse_html,
        documents=documents,
        table=ArticleTable(settings.ARTICLES_TABLE, dynamodb),
        # the records running at once send their enrich messages together (SendMessageBatch)
        enrich_queue=BatchedHandOff(MessageQueue(settings.ENRICH_QUEUE_URL, sqs)),
        duplicates=DuplicateDetector(
            FingerprintIndex(settings.ARTICLES_TABLE, dynamodb), documents
        ),
        deferrer=Deferrer(
            MessageQueue(polite.INGEST_QUEUE_URL, sqs), max_deferrals=polite.MAX_DEFERRALS
        )
        if polite.INGEST_QUEUE_URL
        else None,
        refresher=Refresher(MessageQueue(polite.INGEST_QUEUE_URL, sqs), refresh_delays)
        if polite.INGEST_QUEUE_URL and refresh_delays
        else None,
        timing=FetchTiming(
            budget=TimeBudget(remaining),
            record_seconds=polite.HOST_MAX_WAIT_SECONDS
            + robots_seconds
            + policy.timeout_seconds
            + parse_and_store,
            parse_seconds=parse_and_store,
        ),
    )


@lru_cache(maxsize=1)
def _slots() -> asyncio.Semaphore:
    return asyncio.Semaphore(get_politeness_settings().FETCH_CONCURRENCY)


def handle_record(record: SQSRecord) -> dict[str, Any]:
    return process_record(
        message_id=record.message_id,
        body=record.body,
        receive_count=int(record.attributes.approximate_receive_count),
        parse_body=parse_ingest_body,
        stage=_stage(),
        reporter=reporter,
        describe=lambda message: {"url": message.url[:512]},
    )


@lru_cache(maxsize=1)
def _workers() -> ThreadPoolExecutor:
    """A thread per concurrent record, kept for the container's life. asyncio's default pool
    has ``min(32, CPUs + 4)`` threads: 6 on a 2-vCPU function, which would run a batch of 10
    in two waves of network waits."""
    return ThreadPoolExecutor(
        max_workers=get_politeness_settings().FETCH_CONCURRENCY, thread_name_prefix="record"
    )


async def handle_record_concurrently(record: SQSRecord) -> dict[str, Any]:
    """One record in a worker thread, at most ``FETCH_CONCURRENCY`` at a time."""
    async with _slots():
        # as asyncio.to_thread does: the worker sees the invocation's context variables
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            _workers(), partial(context.run, handle_record, record)
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    remaining.context = context
    _stage()  # built before the workers start, so they share one stage
    _slots.cache_clear()  # a semaphore belongs to one event loop: one per batch
    return async_process_partial_response(
        event=event,
        record_handler=handle_record_concurrently,
        processor=processor,
        context=context,
    )


# SnapStart: the stage and the language classifier land in the snapshot; a restored
# container rebuilds the stage (its own clients and connection pools).
snapstart.prepare(_stage, load_identifier)
