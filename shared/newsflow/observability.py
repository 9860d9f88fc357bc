"""How both functions report each record: metric names, log lines, batch-handler results.

Metrics go to namespace ``newsflow`` (POWERTOOLS_METRICS_NAMESPACE) with dimension ``service``
(fetch | enrich); failures are emitted once more with a ``reason`` dimension so the dashboard
can split them. The dashboard, the alarms and docs/RUNBOOK.md use these names.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from newsflow.errors import PipelineError
from newsflow.pipeline import Outcome, Rejection, StageResult

ARTICLES_FETCHED = "ArticlesFetched"
ARTICLES_ENRICHED = "ArticlesEnriched"
ARTICLES_FAILED = "ArticlesFailed"
ARTICLES_SKIPPED = "ArticlesSkipped"
MESSAGES_REJECTED = "MessagesRejected"
TRANSIENT_FAILURES = "TransientFailures"  # records handed back to SQS for a retry
ARTICLES_DEFERRED = "ArticlesDeferred"  # re-sent with a delay; reason = why (rate, back-off...)

_OUTCOME_METRIC = {
    Outcome.FETCHED: ARTICLES_FETCHED,
    Outcome.ENRICHED: ARTICLES_ENRICHED,
    Outcome.FAILED: ARTICLES_FAILED,
    Outcome.SKIPPED: ARTICLES_SKIPPED,
    Outcome.RESUMED: ARTICLES_SKIPPED,
    Outcome.DEFERRED: ARTICLES_DEFERRED,
    Outcome.UNCHANGED: ARTICLES_SKIPPED,  # a re-fetch found the stored text
}


class RecordReporter:
    """Logs and counts what happened to one SQS record, the same way in both functions."""

    def __init__(self, logger: Logger, metrics: Metrics, service: str) -> None:
        self._logger = logger
        self._metrics = metrics
        self._service = service

    def rejected(self, rejection: Rejection) -> dict[str, Any]:
        """A body with nothing to act on: kept under rejected/, consumed."""
        self._logger.warning(
            "message rejected",
            extra={
                "message_id": rejection.message_id,
                "reason": rejection.failure.reason,
                "detail": rejection.failure.detail,
                "stored_at": rejection.key,
            },
        )
        self._count(MESSAGES_REJECTED, rejection.failure.reason)
        return {"status": "REJECTED", "reason": rejection.failure.reason}

    def retrying(self, error: PipelineError, **context: Any) -> None:
        """A transient failure: the record goes back to SQS (and, in the end, to the DLQ)."""
        self._logger.warning(
            "transient failure, SQS will retry",
            extra={"stage": error.stage, "reason": error.reason, "detail": error.detail, **context},
        )
        self._count(TRANSIENT_FAILURES, error.reason)

    def finished(self, result: StageResult, **context: Any) -> dict[str, Any]:
        """The record is done: stored, skipped or recorded FAILED."""
        self._metrics.add_metric(
            name=_OUTCOME_METRIC[result.outcome], unit=MetricUnit.Count, value=1
        )
        if result.failure is not None:
            self._with_reason(ARTICLES_FAILED, result.failure.reason)
        if result.deferred is not None:
            self._with_reason(ARTICLES_DEFERRED, result.deferred)
        log = self._logger.warning if result.failure else self._logger.info
        log(
            "article %s",
            result.outcome.value.lower(),
            extra={
                "article_id": result.article_id,
                "outcome": result.outcome,
                "failure": result.failure.model_dump(mode="json") if result.failure else None,
                **context,
            },
        )
        return {"status": result.outcome.value, "article_id": result.article_id}

    def _count(self, name: str, reason: str) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        self._with_reason(name, reason)

    def _with_reason(self, name: str, reason: str) -> None:
        """Emit ``name`` once more with a ``reason`` dimension (its own EMF blob)."""
        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=1,
            namespace=self._metrics.namespace,
            default_dimensions={"service": self._service, "reason": reason},
        ):
            pass
