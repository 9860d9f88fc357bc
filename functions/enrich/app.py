"""EnrichFunction: EnrichQueue batch -> entities + sentiment -> S3 + DynamoDB per record.

The model loads once per container (first record); permanent failures are recorded as FAILED
by the stage, transient ones (S3/DynamoDB/Comprehend throttling) are retried by SQS.
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
from pydantic import ValidationError

from newsflow.enrichment import get_enricher
from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.models import EnrichMessage
from newsflow.observability import (
    MESSAGES_REJECTED,
    record_failure_reason,
    record_outcome,
    record_transient,
)
from newsflow.pipeline import EnrichStage, reject_message
from newsflow.settings import get_enrich_settings
from newsflow.storage import ArticleTable, DocumentStore


class EnrichRecord(SqsRecordModel):
    """An SQS record whose body stays text: the stage decides what a bad body means."""

    body: str


SERVICE = "enrich"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)
# Report every failed record instead of raising when all fail: SQS retries exactly those
# records either way, and a raise would count ordinary transient failures as function errors.
processor = BatchProcessor(
    event_type=EventType.SQS, model=EnrichRecord, raise_on_entire_batch_failure=False
)


@lru_cache(maxsize=1)
def _stage() -> EnrichStage:
    settings = get_enrich_settings()
    enricher = (
        get_enricher("comprehend", client=boto3.client("comprehend"))
        if settings.ENRICH_BACKEND == "comprehend"
        else get_enricher("local")
    )
    return EnrichStage(
        enricher=enricher,
        documents=DocumentStore(settings.ARTICLES_BUCKET, boto3.client("s3")),
        table=ArticleTable(settings.ARTICLES_TABLE, boto3.client("dynamodb")),
        min_words=settings.MIN_WORDS,
        max_entity_items=settings.MAX_ENTITY_ITEMS,
    )


@tracer.capture_method
def handle_record(record: EnrichRecord) -> dict[str, Any]:
    stage = _stage()
    try:
        message = EnrichMessage.model_validate_json(record.body)
    except ValidationError as exc:
        error = PermanentError(
            Reason.INVALID_MESSAGE,
            f"not an enrich message: {exc.errors()[0]['msg']}",
            stage=Stage.ENRICH,
        )
        rejection = reject_message(
            stage.documents, message_id=record.messageId, body=record.body, error=error
        )
        logger.warning(
            "message rejected",
            extra={
                "message_id": record.messageId,
                "detail": error.detail,
                "stored_at": rejection.key,
            },
        )
        metrics.add_metric(name=MESSAGES_REJECTED, unit="Count", value=1)
        record_failure_reason(metrics, MESSAGES_REJECTED, error.reason, SERVICE)
        return {"status": "REJECTED", "reason": error.reason}
    try:
        result = stage.run(message)
    except TransientError as error:
        logger.warning(
            "transient failure, SQS will retry",
            extra={
                "article_id": message.article_id,
                "stage": error.stage,
                "reason": error.reason,
                "detail": error.detail,
                "receive_count": record.attributes.ApproximateReceiveCount,
            },
        )
        record_transient(metrics, error.reason, SERVICE)
        raise
    record_outcome(metrics, result, SERVICE)
    log = logger.warning if result.failure else logger.info
    log(
        "article %s",
        result.outcome.value.lower(),
        extra={
            "article_id": result.article_id,
            "outcome": result.outcome,
            "failure": result.failure.model_dump(mode="json") if result.failure else None,
        },
    )
    return {"status": result.outcome.value, "article_id": result.article_id}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
