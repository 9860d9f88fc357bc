"""SourceScheduleFunction: on each EventBridge tick, queue every source that is due.

The sources live in one partition of the table (one paginated Query); each due source is
claimed (its next poll moved ``POLL_LEASE_SECONDS`` ahead, conditionally) and queued on
SourcePollQueue, where PollFunction fans the polls out. A source whose poll is lost comes due
again when its lease runs out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsflow.sources import BatchQueue, SourceTable, queue_due_sources
from newsflow.sources.settings import get_schedule_settings

SERVICE = "schedule"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
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
