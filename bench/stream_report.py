"""How `newsflow report` copes with a day of 100,000 articles: calls, items, seconds, page size.

    python -m bench.stream_report [--articles 100000]

moto in-process is far too slow at this size, so the reader runs against in-memory stand-ins
of S3 and DynamoDB that answer the same calls with the same page sizes (1,000 keys per
ListObjectsV2 page, 100 keys per BatchGetItem, Query pages) and items already in DynamoDB's
wire format. What is measured is therefore the report's own work - the number and kind of
calls it makes, deserialising, summarising and rendering - not network or service latency;
with real AWS add the calls' round trips (BatchGetItem calls can run in parallel).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from newsflow.errors import Reason
from newsflow.storage.items import entity_pk, serialize_item
from newsflow_cli.report import StreamReader, render
from newsflow_cli.report.summary import Commands, summarise

DAY = date(2026, 11, 20)
BUCKET = "bench-articles"
TABLE = "bench-table"
LIST_PAGE = 1000
QUERY_PAGE = 1000
LANGUAGES = ["en"] * 70 + ["de"] * 10 + ["fr"] * 8 + ["es"] * 6 + ["ja"] * 3 + ["ar"] * 3


def _article(n: int, rng: random.Random, names: list[str]) -> dict[str, Any]:
    article_id = f"{n:032x}"
    domain = f"site{int(rng.paretovariate(1.2)) % 400}.example"
    failed = rng.random() < 0.05
    language = rng.choice(LANGUAGES)
    picked = {names[min(int(rng.paretovariate(0.9)), len(names) - 1)] for _ in range(5)}
    item: dict[str, Any] = {
        "pk": f"ARTICLE#{article_id}",
        "article_id": article_id,
        "url": f"https://{domain}/story/{n}",
        "domain": domain,
        "status": "FAILED" if failed else "ENRICHED",
        "title": f"Story number {n} from {domain}",
        "language": language,
        "article_key": f"articles/dt={DAY}/{article_id}.json",
        "created_at": f"{DAY}T{n % 24:02d}:00:00+00:00",
        "fetch_ms": int(rng.lognormvariate(5.5, 0.8)),
        "source": f"feed-{n % 50}",
        "attempts": 1,
    }
    if failed:
        item["failure"] = {"stage": "enrich", "reason": "invalid_document", "detail": "bad JSON"}
    elif language in ("en", "de", "fr", "es"):
        item["sentiment"] = {"label": "NEUTRAL", "score": round(rng.uniform(-1, 1), 3)}
        item["top_entities"] = [
            {"text": name, "type": "PERSON", "count": rng.randint(1, 6), "salience": 0.3}
            for name in sorted(picked)
        ]
    if rng.random() < 0.03:
        item["cluster_id"] = f"{(n // 4):032x}"
        item["duplicate_of"] = item["cluster_id"]
    return item


class _Paginator:
    def __init__(self, pages: Any) -> None:
        self._pages = pages

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return iter(self._pages(**kwargs))


class FakeS3:
    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def get_paginator(self, name: str) -> _Paginator:
        def pages(Bucket: str, Prefix: str) -> Iterator[dict[str, Any]]:  # noqa: N803
            found = [key for key in self.keys if key.startswith(Prefix)]
            for start in range(0, max(len(found), 1), LIST_PAGE):
                yield {"Contents": [{"Key": key} for key in found[start : start + LIST_PAGE]]}

        return _Paginator(pages)


class FakeDynamoDB:
    def __init__(self, items: dict[str, dict[str, Any]], failures: list[dict[str, Any]]) -> None:
        self.items = items  # pk -> wire-format item
        self.failures = failures
        self.partitions: dict[str, list[dict[str, Any]]] = {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        request = RequestItems[TABLE]
        found = [self.items[key["pk"]["S"]] for key in request["Keys"]]
        return {"Responses": {TABLE: found}, "UnprocessedKeys": {}}

    def get_paginator(self, name: str) -> _Paginator:
        def pages(**kwargs: Any) -> Iterator[dict[str, Any]]:
            values = kwargs["ExpressionAttributeValues"]
            if kwargs.get("IndexName"):
                rows = [r for r in self.failures if r["failure_reason"]["S"] == values[":r"]["S"]]
            else:
                rows = self.partitions.get(values[":pk"]["S"], [])
            for start in range(0, max(len(rows), 1), QUERY_PAGE):
                yield {"Items": rows[start : start + QUERY_PAGE]}

        return _Paginator(pages)


def build_day(articles: int, seed: int = 7) -> tuple[FakeS3, FakeDynamoDB]:
    rng = random.Random(seed)  # noqa: S311 - made-up data, not secrets
    names = [f"Person {i}" for i in range(5000)]
    plain = [_article(n, rng, names) for n in range(articles)]
    items = {row["pk"]: serialize_item(row) for row in plain}
    failures = [
        serialize_item(
            {
                **row,
                "failure_reason": "invalid_document",
                "failed_at": f"{DAY}T09:00:00#{row['pk']}",
            }
        )
        for row in plain
        if row["status"] == "FAILED"
    ]
    # Fetch failures have no document: only the failures index knows them.
    for n in range(articles // 50):
        failures.append(
            serialize_item(
                {
                    "pk": f"ARTICLE#f{n:031x}",
                    "url": f"https://down{n % 30}.example/x/{n}",
                    "failure": {"stage": "fetch", "reason": "timeout", "detail": "no answer"},
                    "failure_reason": Reason.TIMEOUT.value,
                    "failed_at": f"{DAY}T10:00:00#{n}",
                }
            )
        )
    dynamodb = FakeDynamoDB(items, failures)
    for row in plain:
        for entity in row.get("top_entities", []):
            pk = entity_pk(entity["text"])
            dynamodb.partitions.setdefault(pk, []).append(
                serialize_item(
                    {
                        "pk": pk,
                        "sk": f"{DAY}#{row['article_id']}#PERSON",
                        "article_id": row["article_id"],
                        "url": row["url"],
                        "title": row["title"],
                        "sentiment": row["sentiment"],
                    }
                )
            )
    keys = [f"articles/dt={DAY}/{row['article_id']}.json" for row in plain]
    return FakeS3(keys), dynamodb


def run(articles: int = 100_000) -> dict[str, Any]:
    s3, dynamodb = build_day(articles)
    reader = StreamReader(bucket=BUCKET, table=TABLE, s3=s3, dynamodb=dynamodb)
    started = time.perf_counter()
    snapshot = reader.read(DAY, DAY, {"IngestDLQ": 3})
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    report = summarise(
        snapshot,
        Commands(bucket=BUCKET, since=DAY),
        stack="bench",
        entity_reader=lambda name: reader.entity_mentions(name, DAY, DAY),
        now=datetime.now(UTC),
    )
    summarise_s = time.perf_counter() - started
    started = time.perf_counter()
    page = render(report)
    render_s = time.perf_counter() - started
    stats = reader.stats
    return {
        "articles": articles,
        "report_articles": report.articles,
        "read_seconds": round(read_s, 2),
        "summarise_seconds": round(summarise_s, 2),
        "render_seconds": round(render_s, 3),
        "page_bytes": len(page.encode()),
        "s3_list_calls": stats.s3_list_calls,
        "batch_get_calls": stats.batch_get_calls,
        "items_read": stats.items_read,
        "index_query_pages": stats.index_queries,
        "index_items_read": stats.index_items_read,
        "scans": stats.scans,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_report", description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    print(json.dumps(run(parser.parse_args().articles), indent=2))


if __name__ == "__main__":
    main()
