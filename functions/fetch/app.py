"""FetchFunction: IngestQueue batch -> safe fetch + parse + store per record.

Thin by design: each SQS record goes through ``FetchStage`` by ``newsflow.records``. Permanent
failures are recorded by the stage and count as processed; transient ones raise, so Powertools
reports them in ``batchItemFailures`` and SQS redelivers (then dead-letters).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsflow.duplicates import DuplicateDetector
from newsflow.extraction import parse_html
from newsflow.fetching import SafeFetcher
from newsflow.models import parse_ingest_body
from newsflow.observability import RecordReporter
from newsflow.pipeline import FetchStage
from newsflow.records import process_record
from newsflow.settings import get_fetch_policy, get_fetch_settings
from newsflow.storage import ArticleTable, DocumentStore, MessageQueue
from newsflow.storage.fingerprints import FingerprintIndex


class IngestRecord(SqsRecordModel):
    """An SQS record whose body stays text: the stage decides what a bad body means."""

    body: str


SERVICE = "fetch"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)
reporter = RecordReporter(logger, metrics, SERVICE)
# Report every failed record instead of raising when all fail: SQS retries exactly those
# records either way, and a raise would count ordinary transient failures as function errors.
processor = BatchProcessor(
    event_type=EventType.SQS, model=IngestRecord, raise_on_entire_batch_failure=False
)


@lru_cache(maxsize=1)
def _stage() -> FetchStage:
    """Built on the first record, once per container (clients are not created at import)."""
    settings = get_fetch_settings()
    documents = DocumentStore(settings.ARTICLES_BUCKET, boto3.client("s3"))
    dynamodb = boto3.client("dynamodb")
    return FetchStage(
        fetcher=SafeFetcher(get_fetch_policy()),
        parse=parse_html,
        documents=documents,
        table=ArticleTable(settings.ARTICLES_TABLE, dynamodb),
        enrich_queue=MessageQueue(settings.ENRICH_QUEUE_URL, boto3.client("sqs")),
        duplicates=DuplicateDetector(
            FingerprintIndex(settings.ARTICLES_TABLE, dynamodb), documents
        ),
    )


@tracer.capture_method
def handle_record(record: IngestRecord) -> dict[str, Any]:
    return process_record(
        message_id=record.messageId,
        body=record.body,
        receive_count=int(record.attributes.ApproximateReceiveCount),
        parse_body=parse_ingest_body,
        stage=_stage(),
        reporter=reporter,
        describe=lambda message: {"url": message.url[:512]},
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
