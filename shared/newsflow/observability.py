"""Metric names shared by both functions, the dashboard and the alarms.

Namespace ``newsflow`` (POWERTOOLS_METRICS_NAMESPACE), dimension ``service`` (fetch | enrich).
Failures are also emitted with a ``reason`` dimension so the dashboard can split them.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from newsflow.pipeline import Outcome, StageResult

ARTICLES_FETCHED = "ArticlesFetched"
ARTICLES_ENRICHED = "ArticlesEnriched"
ARTICLES_FAILED = "ArticlesFailed"
ARTICLES_SKIPPED = "ArticlesSkipped"
MESSAGES_REJECTED = "MessagesRejected"
TRANSIENT_FAILURES = "TransientFailures"  # records handed back to SQS for a retry

_OUTCOME_METRIC = {
    Outcome.FETCHED: ARTICLES_FETCHED,
    Outcome.ENRICHED: ARTICLES_ENRICHED,
    Outcome.FAILED: ARTICLES_FAILED,
    Outcome.SKIPPED: ARTICLES_SKIPPED,
    Outcome.RESUMED: ARTICLES_SKIPPED,
}


def record_outcome(metrics: Metrics, result: StageResult, service: str) -> None:
    metrics.add_metric(name=_OUTCOME_METRIC[result.outcome], unit=MetricUnit.Count, value=1)
    if result.failure is not None:
        record_failure_reason(metrics, ARTICLES_FAILED, result.failure.reason, service)


def record_transient(metrics: Metrics, reason: str, service: str) -> None:
    metrics.add_metric(name=TRANSIENT_FAILURES, unit=MetricUnit.Count, value=1)
    record_failure_reason(metrics, TRANSIENT_FAILURES, reason, service)


def record_failure_reason(metrics: Metrics, name: str, reason: str, service: str) -> None:
    """Emit ``name`` once more with a ``reason`` dimension (its own EMF blob)."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": service, "reason": reason},
    ):
        pass
