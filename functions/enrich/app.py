"""EnrichFunction: EnrichQueue batch -> entities + sentiment -> S3 + DynamoDB per record.

The model loads once per container (first record); permanent failures are recorded as FAILED
by the stage, transient ones (S3/DynamoDB/Comprehend throttling) are retried by SQS.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsflow import snapstart
from newsflow.enrichment import get_enricher
from newsflow.language import load_identifier
from newsflow.models import parse_enrich_body
from newsflow.observability import RecordReporter
from newsflow.pipeline import EnrichStage
from newsflow.records import process_record
from newsflow.settings import get_enrich_settings
from newsflow.storage import ArticleTable, DocumentStore
from newsflow.tracing import make_tracer

SERVICE = "enrich"
logger = Logger(service=SERVICE)
tracer = make_tracer(SERVICE)
metrics = Metrics(service=SERVICE)
reporter = RecordReporter(logger, metrics, SERVICE)
# Report every failed record instead of raising when all fail: SQS retries exactly those
# records either way, and a raise would count ordinary transient failures as function errors.
# Records stay Powertools' SQSRecord (the body is text: the stage decides what a bad body
# means). A pydantic record model would import every Powertools event model at cold start, as
# the batch module does when pydantic is imported before it (tests/unit/coldstart checks both).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@lru_cache(maxsize=1)
def _stage() -> EnrichStage:
    settings = get_enrich_settings()
    enricher = (
        get_enricher("local")
        if settings.ENRICH_BACKEND == "local"
        else get_enricher(settings.ENRICH_BACKEND, client=boto3.client("comprehend"))
    )
    return EnrichStage(
        enricher=enricher,
        documents=DocumentStore(settings.ARTICLES_BUCKET, boto3.client("s3")),
        table=ArticleTable(settings.ARTICLES_TABLE, boto3.client("dynamodb")),
        min_words=settings.MIN_WORDS,
        max_entity_items=settings.MAX_ENTITY_ITEMS,
    )


@tracer.capture_method
def handle_record(record: SQSRecord) -> dict[str, Any]:
    return process_record(
        message_id=record.message_id,
        body=record.body,
        receive_count=int(record.attributes.approximate_receive_count),
        parse_body=parse_enrich_body,
        stage=_stage(),
        reporter=reporter,
        describe=lambda message: {"article_id": message.article_id},
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )


# SnapStart: the model, the stage and the language classifier land in the snapshot;
# a restored container rebuilds the stage (its own clients and connection pools).
snapstart.prepare(_stage, load_identifier)
