"""2. The fetch stage end to end, per article, with its time split by collaborator.

``newsflow.pipeline.FetchStage`` receives its fetcher, parser, document store, table and queue
as arguments; here each is wrapped so every call is timed under its part (fetch, parse, s3,
dynamodb, sqs). Pages come from a loopback web site over real HTTP (gzip-encoded, as real sites
send them) and the AWS side is moto in-process (``mock_aws``) with the bucket, the table (key
schema and indexes from ``template.yaml``) and the queue. Bare ``trafilatura.extract`` runs on
the same bytes in the same loop, alternating before and after the stage, as the yardstick.

moto answers in-process, so the S3/DynamoDB/SQS parts measure the client side (request
building, signing, serialisation) plus moto's own work, not AWS network latency; the cost model
adds assumed latencies for that.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any, cast

import boto3
import trafilatura
from moto import mock_aws

from bench.corpus import Page
from bench.costs import dynamodb_item_bytes, strong_read_units, write_units
from bench.site import LoopbackSite
from bench.stats import ratio, summary
from bench.timing import Split, TimedProxy, timed
from newsflow.extraction import parse_html
from newsflow.fetching import SafeFetcher
from newsflow.models import IngestMessage
from newsflow.pipeline import FetchStage, Outcome
from newsflow.settings import FetchPolicy
from newsflow.storage import ArticleTable, DocumentStore, MessageQueue, deserialize_item
from newsflow_cli.sam_template import load_template

BUCKET = "bench-articles"
TABLE = "bench-articles"
QUEUE = "bench-enrich"
PARTS = ("fetch", "parse", "s3", "dynamodb", "sqs")
DRAIN_EVERY = 25  # moto's SQS slows as a queue fills; empty it between articles, untimed


def create_resources(
    template_path: Path, bucket: str = BUCKET, table: str = TABLE, queue: str = QUEUE
) -> tuple[Any, Any, Any, str]:
    """The bucket, the table (keys and indexes from the template) and the enrich queue, on moto
    in-process: boto3 clients for S3, DynamoDB and SQS, and the queue's URL."""
    table_props = load_template(template_path)["Resources"]["ArticlesTable"]["Properties"]
    s3 = boto3.client("s3", region_name="us-east-1")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    dynamodb.create_table(
        TableName=table,
        KeySchema=table_props["KeySchema"],
        AttributeDefinitions=table_props["AttributeDefinitions"],
        GlobalSecondaryIndexes=table_props["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    return s3, dynamodb, sqs, queue_url


def _bare(html: bytes) -> None:
    trafilatura.extract(html, include_comments=False)


def run(pages: list[Page], template_path: Path, progress: Any = None) -> dict[str, Any]:
    split = Split()

    def parse(html: str | bytes, url: str | None = None, *, charset: str | None = None) -> Any:
        with split.measure("parse"):
            return parse_html(html, url, charset=charset)

    policy = FetchPolicy.model_validate({"NEWSFLOW_ALLOW_LOOPBACK": True})
    with LoopbackSite() as site, mock_aws():
        s3, dynamodb, sqs, queue_url = create_resources(template_path)
        stage = FetchStage(
            fetcher=cast(Any, TimedProxy(SafeFetcher(policy), "fetch", split)),
            parse=parse,
            documents=cast(Any, TimedProxy(DocumentStore(BUCKET, s3), "s3", split)),
            table=cast(Any, TimedProxy(ArticleTable(TABLE, dynamodb), "dynamodb", split)),
            enrich_queue=cast(Any, TimedProxy(MessageQueue(queue_url, sqs), "sqs", split)),
        )
        urls = [site.add(f"/a/{i:05d}.html", page.html) for i, page in enumerate(pages)]
        # Warm-up: imports, the language model, the first connections. Not counted.
        warm = site.add("/warm-up.html", pages[0].html)
        stage.run(IngestMessage(url=warm))
        _bare(pages[0].html)
        split.reset()

        totals: list[dict[str, float]] = []
        bare: list[dict[str, float]] = []
        outcomes: Counter[str] = Counter()
        calls: Counter[str] = Counter()
        fetched = 0
        for index, (page, url) in enumerate(zip(pages, urls, strict=True)):
            split.reset()
            run_stage = partial(stage.run, IngestMessage(url=url))
            run_bare = partial(_bare, page.html)
            if index % 2:  # alternate which of the two runs first
                bare_run = timed(run_bare)
                stage_run = timed(run_stage)
            else:
                stage_run = timed(run_stage)
                bare_run = timed(run_bare)
            result, sample, error = stage_run
            if error is not None:
                raise error
            outcome = result.outcome if result is not None else Outcome.FAILED
            outcomes[outcome.value] += 1
            record = {"total_wall": sample.wall_ms, "total_cpu": sample.cpu_ms}
            for part in PARTS:
                measured = split.parts.get(part)
                record[f"{part}_wall"] = measured.wall_ms if measured else 0.0
                record[f"{part}_cpu"] = measured.cpu_ms if measured else 0.0
            if outcome is Outcome.FETCHED:
                fetched += 1
                totals.append(record)
                bare.append({"wall": bare_run[1].wall_ms, "cpu": bare_run[1].cpu_ms})
                calls.update(split.calls)
            if (index + 1) % DRAIN_EVERY == 0:
                _drain(sqs, queue_url)
            if progress is not None and (index + 1) % 50 == 0:
                progress(f"fetch stage: {index + 1}/{len(pages)} articles")
        storage = _stored_sizes(s3, dynamodb)

    return _report(pages, totals, bare, outcomes, calls, fetched, storage)


def _drain(sqs: Any, queue_url: str) -> None:
    """Receive and delete what the stage sent (PurgeQueue is limited to once a minute)."""
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )


def _stored_sizes(s3: Any, dynamodb: Any) -> dict[str, Any]:
    """Mean stored bytes per object kind and per article item (for the cost model)."""
    sizes: dict[str, list[int]] = {"raw": [], "articles": []}
    paginator = s3.get_paginator("list_objects_v2")
    for listing in paginator.paginate(Bucket=BUCKET):
        for obj in listing.get("Contents", []):
            prefix = str(obj["Key"]).split("/", 1)[0]
            if prefix in sizes:
                sizes[prefix].append(int(obj["Size"]))
    items = [
        deserialize_item(item)
        for listing in dynamodb.get_paginator("scan").paginate(TableName=TABLE)
        for item in listing.get("Items", [])
    ]
    item_bytes = [dynamodb_item_bytes(item) for item in items if item.get("status") == "FETCHED"]
    return {
        "s3_raw_gz_bytes_mean": _mean(sizes["raw"]),
        "s3_article_json_bytes_mean": _mean(sizes["articles"]),
        "dynamodb_article_item_bytes_mean": _mean(item_bytes),
        "dynamodb_article_item_wru_mean": _mean([write_units(b) for b in item_bytes]),
        "dynamodb_article_item_rru_mean": _mean([strong_read_units(b) for b in item_bytes]),
    }


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 1) if values else 0.0


def _report(
    pages: list[Page],
    totals: list[dict[str, float]],
    bare: list[dict[str, float]],
    outcomes: Counter[str],
    calls: Counter[str],
    fetched: int,
    storage: dict[str, Any],
) -> dict[str, Any]:
    def column(name: str) -> list[float]:
        return [record[name] for record in totals]

    split_ms = {
        part: {"cpu": summary(column(f"{part}_cpu")), "wall": summary(column(f"{part}_wall"))}
        for part in PARTS
    }
    other_cpu = [
        record["total_cpu"] - sum(record[f"{part}_cpu"] for part in PARTS) for record in totals
    ]
    total_cpu = summary(column("total_cpu"))
    bare_cpu = summary([b["cpu"] for b in bare])
    return {
        "articles": len(pages),
        "outcomes": dict(outcomes),
        "timing_ms_fetched": {
            "total": {"cpu": total_cpu, "wall": summary(column("total_wall"))},
            "split": split_ms,
            "other_cpu": summary(other_cpu),
            "bare_trafilatura": {
                "cpu": bare_cpu,
                "wall": summary([b["wall"] for b in bare]),
            },
        },
        "ratio_total_to_bare_cpu_median": ratio(
            float(total_cpu.get("median", 0)), float(bare_cpu.get("median", 0))
        ),
        "calls_per_article": {
            part: round(calls.get(part, 0) / fetched, 2) if fetched else 0 for part in PARTS
        },
        "stored": storage,
    }
