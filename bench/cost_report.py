"""6. The cost model fed with this run's measurements and the template's settings.

Per article, three enrichment backends side by side (the local spaCy + VADER model, Amazon
Comprehend entities + sentiment, and ``auto`` on a stream of which
:data:`AUTO_COMPREHEND_SHARE` is in languages routed to Comprehend), each in two scenarios:

* ``measured``: billed duration = the CPU time measured here only (moto and loopback stand in
  for AWS and the web), stretched for the function's CPU share - a lower bound;
* ``with_io``: the same plus assumed waits for what cannot be measured here (the remote web
  page, S3/DynamoDB/SQS round trips, Comprehend calls), see :class:`bench.costs.Latencies`.

Costs use means (a bill is a sum), the tables elsewhere quote medians. Calls per article come
from the fetch-stage run (fetch side) and from the enrich stage's code path (enrich side: one S3
GET and PUT, one BatchWriteItem for up to 25 entity items, one GetItem for the previous entity
keys, one UpdateItem).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.costs import (
    ArticleUsage,
    DuplicateIndexUsage,
    FunctionLoad,
    Latencies,
    Prices,
    concurrent_duration_ms,
    lambda_duration_ms,
    pipeline_cost,
    routed,
    routed_usage,
    sqs_requests_per_article,
    write_units,
)
from newsflow.fingerprints import BANDS
from newsflow_cli.sam_template import load_template

ARTICLES = 1_000_000
DYNAMODB_ITEM_OVERHEAD_BYTES = 100  # per item, and per item copy in an index
GSI_PROJECTION_BYTES = 300  # the DomainDateIndex copy: keys + url, status, title, date, language
DEFAULT_LOG_BYTES = 1100  # per article, both functions, when no local stack run measured it
AUTO_COMPREHEND_SHARE = 0.30
HOST_GATE_CALLS = 2  # per article: GetItem of the host's slot, conditional UpdateItem to take it
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
    fetch_memory = settings["FetchFunction"]["memory_mb"]
    enrich_memory = settings["EnrichFunction"]["memory_mb"]
    batch = settings["FetchFunction"]["batch_size"]

    # ---- durations per article
    timing = fetch["timing_ms_fetched"]
    fetch_cpu = (
        _mean(timing, "split", "fetch", "cpu")
        + _mean(timing, "split", "parse", "cpu")
        + _mean(timing, "other_cpu")
    )
    calls = fetch["calls_per_article"]
    fetch_io = (
        latencies.web_fetch_ms
        + calls["s3"] * latencies.s3_put_ms
        + (calls["dynamodb"] + HOST_GATE_CALLS) * latencies.dynamodb_ms
        + calls["sqs"] * latencies.sqs_send_ms
    )
    concurrency = settings["FetchFunction"]["concurrency"]
    local_cpu = _mean(enrich, "variants", "newsflow", "ms_per_doc", "cpu")
    comprehend = enrich["comprehend_offline"]
    comprehend_cpu = _mean(comprehend, "ms_per_doc_cpu_without_network")
    enrich_io = latencies.s3_get_ms + latencies.s3_put_ms + 3 * latencies.dynamodb_ms
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

    # ---- requests and bytes per article
    stored = fetch["stored"]
    article_item = stored["dynamodb_article_item_bytes_mean"]
    enriched_item = article_item + enrich["article_item_extra_bytes_mean"]
    entity_items = enrich["entity_items_per_article_mean"]
    entity_item = enrich["entity_item_bytes_mean"]
    duplicates = DuplicateIndexUsage(keys=1 + BANDS)
    wru = (
        write_units(article_item)  # save_fetched
        + 1  # DomainDateIndex: new item with its keys and projection
        + write_units(article_item)  # mark_handoff (an update is billed on the item size)
        + entity_items * write_units(entity_item)  # BatchWriteItem of entity index items
        + write_units(enriched_item)  # save_enriched
        + 1  # DomainDateIndex: status is projected, so the index item changes
        + duplicates.write_units  # content + band keys claimed, cluster member item
        + 1  # the host gate: the slot reserved (UpdateItem of a small item)
    )
    # fetch: get article (consistent); enrich: entity keys of the article; + duplicate lookups
    # + the host gate's consistent read of its slot
    rru = 2.0 + duplicates.read_units + 1
    dynamodb_bytes = (
        enriched_item
        + GSI_PROJECTION_BYTES
        + 2 * DYNAMODB_ITEM_OVERHEAD_BYTES
        + entity_items * (entity_item + DYNAMODB_ITEM_OVERHEAD_BYTES)
        + duplicates.stored_bytes(DYNAMODB_ITEM_OVERHEAD_BYTES)
    )
    enriched_json = stored["s3_article_json_bytes_mean"] + enrich["enrichment_json_bytes_mean"]
    s3_bytes = stored["s3_raw_gz_bytes_mean"] + stored["s3_article_json_bytes_mean"] + enriched_json
    log_bytes = _log_bytes(results.get("throughput"))
    base = {
        "sqs_requests": sqs_requests_per_article(batch),
        "s3_puts": 3.0,
        "s3_gets": 1.0,
        "s3_bytes": s3_bytes,
        "dynamodb_wru": wru,
        "dynamodb_rru": rru,
        "dynamodb_bytes": dynamodb_bytes,
        "log_bytes": log_bytes,
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
            "enrich_local_cpu_ms": round(local_cpu, 2),
            "enrich_comprehend_cpu_ms": round(comprehend_cpu, 3),
            "usage": base,
            "comprehend_units": {
                "entities": comprehend["entity_units_per_article_mean"],
                "sentiment": comprehend["sentiment_units_per_article_mean"],
            },
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
