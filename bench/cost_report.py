"""6. The cost model fed with this run's measurements and the template's settings.

Per article, three enrichment backends side by side (the local spaCy + VADER model, Amazon
Comprehend entities + sentiment, and ``auto`` on a stream of which
:data:`AUTO_COMPREHEND_SHARE` is in languages routed to Comprehend), each in two scenarios:

* ``measured``: billed duration = the CPU time measured here only (moto and loopback stand in
  for AWS and the web), stretched for the function's CPU share - a lower bound;
* ``with_io``: the same plus assumed waits for what cannot be measured here (the remote web
  page, S3/DynamoDB/SQS round trips, Comprehend calls), see :class:`bench.costs.Latencies`.

Costs use means (a bill is a sum), the tables elsewhere quote medians. Requests, write and read
units and stored bytes per article come from the ``billing`` section (:mod:`bench.billing`):
both stages run on moto with duplicate detection and the host gate, and every call is billed
from the items it really read and wrote. CPU comes from the fetch-stage and enrichment sections
plus the fingerprint time the billing section measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.costs import (
    ArticleUsage,
    FunctionLoad,
    Latencies,
    Prices,
    concurrent_duration_ms,
    lambda_duration_ms,
    pipeline_cost,
    routed,
    routed_usage,
    sqs_requests_per_article,
)
from newsflow_cli.sam_template import load_template

ARTICLES = 1_000_000
DEFAULT_LOG_BYTES = 1100  # per article, both functions, when no local stack run measured it
AUTO_COMPREHEND_SHARE = 0.30
"""Stated mix for EnrichBackend=auto: 70 % English (local model), 30 % other languages that
Comprehend analyses (an upper bound: a language neither backend has costs no Comprehend units)."""


def template_settings(template_path: Path) -> dict[str, dict[str, int]]:
    resources = load_template(template_path)["Resources"]
    settings = {}
    for name in ("FetchFunction", "EnrichFunction"):
        props = resources[name]["Properties"]
        batch = next(iter(props["Events"].values()))["Properties"].get("BatchSize", 10)
        variables = (props.get("Environment") or {}).get("Variables") or {}
        settings[name] = {
            "memory_mb": int(props["MemorySize"]),
            "batch_size": int(batch),
            "concurrency": int(variables.get("FETCH_CONCURRENCY", 1)),
        }
    return settings


def _mean(section: dict[str, Any], *path: str) -> float:
    value: Any = section
    for key in path:
        value = value[key]
    return float(value["mean"])


def _calls(billing: dict[str, Any], stage: str, service: str, *operations: str) -> float:
    """Round trips per article of one stage to one service (all operations when none given)."""
    calls = billing["per_article"]["dynamodb"]["calls"]
    total = 0.0
    for name, count in calls.items():
        at, on, operation = name.split(":", 2)
        if at == stage and on == service and (not operations or operation in operations):
            total += float(count)
    return total


def usage_from_billing(billing: dict[str, Any], batch_size: int) -> dict[str, float]:
    """Per-article requests, units and bytes of the billing section, as ``ArticleUsage`` fields."""
    per = billing["per_article"]
    stored = per["stored_bytes"]
    s3_calls = {
        operation: _calls(billing, "fetch", "s3", operation)
        + _calls(billing, "enrich", "s3", operation)
        for operation in ("put_object", "get_object")
    }
    sends = _calls(billing, "fetch", "sqs") + _calls(billing, "enrich", "sqs")
    return {
        # the fetch stage's sends replace the one send per article the formula assumes
        "sqs_requests": sqs_requests_per_article(batch_size) - 1 + sends,
        "s3_puts": s3_calls["put_object"],
        "s3_gets": s3_calls["get_object"],
        "s3_bytes": sum(v for k, v in stored.items() if k.startswith("s3_")),
        "dynamodb_wru": per["dynamodb"]["wru_total"],
        "dynamodb_rru": per["dynamodb"]["rru_total"],
        "dynamodb_bytes": sum(v for k, v in stored.items() if k.startswith("dynamodb_")),
    }


def build(
    results: dict[str, Any],
    template_path: Path,
    prices: Prices | None = None,
    latencies: Latencies | None = None,
) -> dict[str, Any]:
    prices = prices or Prices()
    latencies = latencies or Latencies()
    settings = template_settings(template_path)
    fetch = results["fetch_stage"]
    enrich = results["enrichment"]
    billing = results["billing"]
    fetch_memory = settings["FetchFunction"]["memory_mb"]
    enrich_memory = settings["EnrichFunction"]["memory_mb"]
    batch = settings["FetchFunction"]["batch_size"]

    # ---- durations per article
    timing = fetch["timing_ms_fetched"]
    fingerprint_cpu = float(billing["per_article"]["fingerprint_cpu_ms"])
    fetch_cpu = (
        _mean(timing, "split", "fetch", "cpu")
        + _mean(timing, "split", "parse", "cpu")
        + _mean(timing, "other_cpu")
        + fingerprint_cpu
    )
    fetch_io = (
        latencies.web_fetch_ms
        + _calls(billing, "fetch", "s3", "put_object") * latencies.s3_put_ms
        + _calls(billing, "fetch", "s3", "get_object") * latencies.s3_get_ms
        + _calls(billing, "fetch", "dynamodb") * latencies.dynamodb_ms
        + _calls(billing, "fetch", "sqs") * latencies.sqs_send_ms
    )
    concurrency = settings["FetchFunction"]["concurrency"]
    local_cpu = _mean(enrich, "variants", "newsflow", "ms_per_doc", "cpu")
    comprehend = enrich["comprehend_offline"]
    comprehend_cpu = _mean(comprehend, "ms_per_doc_cpu_without_network")
    enrich_io = (
        _calls(billing, "enrich", "s3", "get_object") * latencies.s3_get_ms
        + _calls(billing, "enrich", "s3", "put_object") * latencies.s3_put_ms
        + _calls(billing, "enrich", "dynamodb") * latencies.dynamodb_ms
    )
    comprehend_io = enrich_io + comprehend["batch_calls_per_article_mean"] * (
        latencies.comprehend_call_ms
    )
    durations = {
        "measured": {
            "fetch": lambda_duration_ms(fetch_cpu, fetch_memory),
            "enrich_local": lambda_duration_ms(local_cpu, enrich_memory),
            "enrich_comprehend": lambda_duration_ms(comprehend_cpu, enrich_memory),
        },
        "with_io": {
            "fetch": concurrent_duration_ms(
                fetch_cpu, fetch_memory, fetch_io, concurrency=concurrency, batch_size=batch
            ),
            "fetch_one_at_a_time": lambda_duration_ms(fetch_cpu, fetch_memory, fetch_io),
            "enrich_local": lambda_duration_ms(local_cpu, enrich_memory, enrich_io),
            "enrich_comprehend": lambda_duration_ms(comprehend_cpu, enrich_memory, comprehend_io),
        },
    }

    # ---- requests and bytes per article (measured, billing section)
    base = {
        **usage_from_billing(billing, batch),
        "log_bytes": _log_bytes(results.get("throughput")),
    }
    usage_local = ArticleUsage(**base)
    usage_comprehend = ArticleUsage(
        **base,
        comprehend_entity_units=comprehend["entity_units_per_article_mean"],
        comprehend_sentiment_units=comprehend["sentiment_units_per_article_mean"],
    )

    scenarios: dict[str, Any] = {}
    for scenario, ms in durations.items():
        scenarios[scenario] = {}
        for backend, usage, enrich_ms in (
            ("local", usage_local, ms["enrich_local"]),
            ("comprehend", usage_comprehend, ms["enrich_comprehend"]),
            (
                "auto",
                routed_usage(usage_local, usage_comprehend, AUTO_COMPREHEND_SHARE),
                routed(ms["enrich_local"], ms["enrich_comprehend"], AUTO_COMPREHEND_SHARE),
            ),
        ):
            functions = [
                FunctionLoad("fetch", fetch_memory, ms["fetch"], batch),
                FunctionLoad(
                    "enrich", enrich_memory, enrich_ms, settings["EnrichFunction"]["batch_size"]
                ),
            ]
            breakdown = pipeline_cost(
                articles=ARTICLES, functions=functions, usage=usage, prices=prices
            )
            scenarios[scenario][backend] = breakdown.as_dict()
    return {
        "articles": ARTICLES,
        "template": settings,
        "prices": prices.as_dict(),
        "latencies_assumed_ms": latencies.__dict__,
        "per_article": {
            "duration_ms": {
                k: {n: round(v, 1) for n, v in d.items()} for k, d in durations.items()
            },
            "fetch_cpu_ms": round(fetch_cpu, 2),
            "fingerprint_cpu_ms": round(fingerprint_cpu, 2),
            "enrich_local_cpu_ms": round(local_cpu, 2),
            "enrich_comprehend_cpu_ms": round(comprehend_cpu, 3),
            "usage": {k: round(v, 3) for k, v in base.items()},
            "dynamodb_wru_by_item": billing["per_article"]["dynamodb"]["wru"],
            "dynamodb_index_wru": billing["per_article"]["dynamodb"]["index_wru"],
            "dynamodb_rru_by_item": billing["per_article"]["dynamodb"]["rru"],
            "comprehend_units": {
                "entities": comprehend["entity_units_per_article_mean"],
                "sentiment": comprehend["sentiment_units_per_article_mean"],
            },
        },
        "basis": {
            "billing_articles": billing["enriched"],
            "max_entity_items": billing["max_entity_items"],
            "fingerprint": billing.get("fingerprint"),
        },
        "scenarios": scenarios,
        "storage_months": 1,
        "auto_comprehend_share": AUTO_COMPREHEND_SHARE,
    }


def _log_bytes(throughput: dict[str, Any] | None) -> float:
    runs = (throughput or {}).get("runs") or []
    if not runs:
        return float(DEFAULT_LOG_BYTES)
    functions = runs[-1]["functions"]
    return float(sum(f["log_bytes_per_record"] for f in functions.values()))
