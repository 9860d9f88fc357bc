"""8. What one article is billed for in DynamoDB, S3 and SQS, measured from the pipeline's writes.

The fetch stage (with duplicate detection and the host gate, as FetchFunction wires them) and
the enrich stage (the local model) run article after article against moto in-process: the table
from ``template.yaml`` (keys and indexes), the bucket, the enrich queue. Every call they make
goes through a meter that reads the item before and after each write, untimed, and bills it as
DynamoDB on-demand does:

* a write: one write request unit per started KB of the larger of the item before and after
  (a failed conditional write too); plus, per global secondary index, one write when the index
  item appears, disappears or changes in a projected attribute, two when its key changes;
* a read: one read unit per started 4 KB of the whole item (a projection does not make it
  cheaper), half of it when eventually consistent; a key that is not there still costs one;
* storage: every item at the end plus 100 bytes of overhead, and every index copy (projected
  attributes and keys) plus 100 bytes.

S3 requests and SQS sends are counted per call, stored bytes per prefix. Item sizes follow
DynamoDB's documented sizing rules (:func:`bench.costs.dynamodb_item_bytes`). The result is the
per-article basis of the cost model (:mod:`bench.cost_report`): nothing in it is guessed.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from moto import mock_aws

from bench.corpus import Page
from bench.costs import (
    IndexShape,
    dynamodb_item_bytes,
    index_shapes,
    read_units,
    update_write_units,
)
from bench.fetch_stage import create_resources
from bench.site import LoopbackSite
from newsflow.duplicates import DuplicateDetector
from newsflow.enrichment import get_enricher
from newsflow.extraction import parse_html
from newsflow.fetching import SafeFetcher
from newsflow.fingerprints import BANDS, ROWS, fingerprint
from newsflow.models import EnrichMessage, IngestMessage
from newsflow.pipeline import EnrichStage, FetchStage, Outcome
from newsflow.politeness.gate import HostGate
from newsflow.settings import EnrichSettings, FetchPolicy
from newsflow.storage import ArticleTable, DocumentStore, MessageQueue, deserialize_item
from newsflow.storage.fingerprints import FingerprintIndex
from newsflow_cli.sam_template import load_template

BUCKET = "bench-billing"
TABLE = "bench-billing"
QUEUE = "bench-billing-enrich"
ITEM_OVERHEAD_BYTES = 100  # DynamoDB's per-item (and per index copy) storage overhead
READ_UNIT_BYTES = 4096
KINDS = ("ARTICLE", "ENTITY", "CONTENT", "BAND", "CLUSTER", "HOST")


def item_kind(pk: str) -> str:
    """What an item is for, from its partition key prefix (``ARTICLE#...`` -> ``ARTICLE``)."""
    prefix = pk.split("#", 1)[0]
    return prefix if prefix in KINDS else "OTHER"


@dataclass
class Ledger:
    """Billed units by item kind (``ARTICLE``, ``ENTITY``, ``BAND`` ...) and calls by stage
    (``fetch:GetItem``, ``enrich:PutObject`` ...: each call is a round trip the function waits
    for)."""

    wru: Counter[str] = field(default_factory=Counter)
    rru: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    index_wru: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    written_sizes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    stage: str = "fetch"

    def call(self, service: str, operation: str) -> None:
        self.calls[f"{self.stage}:{service}:{operation}"] += 1

    def per_article(self, articles: int) -> dict[str, Any]:
        def share(counter: Mapping[str, float]) -> dict[str, float]:
            return {k: round(v / articles, 3) for k, v in sorted(counter.items())}

        return {
            "wru": share(self.wru),
            "index_wru": share(self.index_wru),
            "rru": share(self.rru),
            "calls": share(self.calls),
            "wru_total": round(
                (sum(self.wru.values()) + sum(self.index_wru.values())) / articles, 3
            ),
            "rru_total": round(sum(self.rru.values()) / articles, 3),
        }


class MeteredDynamoDB:
    """A boto3 DynamoDB client that bills every call into a :class:`Ledger` (reads untimed)."""

    def __init__(self, client: Any, ledger: Ledger, indexes: list[IndexShape]) -> None:
        self._client = client
        self._ledger = ledger
        self._indexes = indexes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    # ---- reads
    def get_item(self, **kwargs: Any) -> Any:
        self._ledger.call("dynamodb", "GetItem")
        item = self._raw(kwargs["Key"])
        self._bill_read(kwargs["Key"], item, bool(kwargs.get("ConsistentRead")))
        return self._client.get_item(**kwargs)

    def batch_get_item(self, **kwargs: Any) -> Any:
        self._ledger.call("dynamodb", "BatchGetItem")
        for request in kwargs["RequestItems"].values():
            consistent = bool(request.get("ConsistentRead"))
            for key in request["Keys"]:
                self._bill_read(key, self._raw(key), consistent)
        return self._client.batch_get_item(**kwargs)

    def query(self, **kwargs: Any) -> Any:
        self._ledger.call("dynamodb", "Query")
        response = self._client.query(**kwargs)
        size = sum(dynamodb_item_bytes(deserialize_item(i)) for i in response.get("Items", []))
        units = max(1, math.ceil(size / READ_UNIT_BYTES))
        self._ledger.rru["QUERY"] += units if kwargs.get("ConsistentRead") else units / 2
        return response

    # ---- writes
    def put_item(self, **kwargs: Any) -> Any:
        key = {"pk": kwargs["Item"]["pk"], "sk": kwargs["Item"]["sk"]}
        return self._write("PutItem", [key], lambda: self._client.put_item(**kwargs))

    def update_item(self, **kwargs: Any) -> Any:
        send = lambda: self._client.update_item(**kwargs)  # noqa: E731
        return self._write("UpdateItem", [kwargs["Key"]], send)

    def delete_item(self, **kwargs: Any) -> Any:
        send = lambda: self._client.delete_item(**kwargs)  # noqa: E731
        return self._write("DeleteItem", [kwargs["Key"]], send)

    def batch_write_item(self, **kwargs: Any) -> Any:
        keys = []
        for requests in kwargs["RequestItems"].values():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    keys.append({"pk": item["pk"], "sk": item["sk"]})
                else:
                    keys.append(request["DeleteRequest"]["Key"])
        return self._write("BatchWriteItem", keys, lambda: self._client.batch_write_item(**kwargs))

    def transact_write_items(self, **kwargs: Any) -> Any:
        keys = []
        for entry in kwargs["TransactItems"]:
            (action,) = entry.values()
            keys.append(
                action.get("Key") or {"pk": action["Item"]["pk"], "sk": action["Item"]["sk"]}
            )
        # A transactional write costs two units per started KB of each item.
        return self._write(
            "TransactWriteItems",
            keys,
            lambda: self._client.transact_write_items(**kwargs),
            factor=2,
        )

    def _write(self, call: str, keys: list[Any], send: Callable[[], Any], factor: int = 1) -> Any:
        self._ledger.call("dynamodb", call)
        before = [self._raw(key) for key in keys]
        try:
            return send()
        finally:  # a failed conditional write is billed as well
            for key, old in zip(keys, before, strict=True):
                new = self._raw(key)
                kind = item_kind(str(key["pk"]["S"]))
                self._ledger.wru[kind] += factor * update_write_units(old, new)
                if new is not None:
                    self._ledger.written_sizes[kind].append(dynamodb_item_bytes(new))
                for index in self._indexes:
                    self._ledger.index_wru[index.name] += factor * index.writes(old, new)

    def _bill_read(self, key: Any, item: dict[str, Any] | None, consistent: bool) -> None:
        kind = item_kind(str(key["pk"]["S"]))
        self._ledger.rru[kind] += read_units(item, consistent=consistent)

    def _raw(self, key: Any) -> dict[str, Any] | None:
        table = self._client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
        item = table.get("Item")
        return deserialize_item(item) if item else None


class CountedClient:
    """Counts the calls made through a boto3 client into a :class:`Ledger`, by stage."""

    def __init__(self, client: Any, ledger: Ledger, service: str) -> None:
        self._client = client
        self._ledger = ledger
        self._service = service

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith(("get_paginator", "meta", "exceptions")):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._ledger.call(self._service, name)
            return attribute(*args, **kwargs)

        return counted


def run(
    pages: list[Page], template_path: Path, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Fetch and enrich ``pages`` (new stories, each fetched once) and bill what they use."""
    resources = load_template(template_path)["Resources"]
    table_props = resources["ArticlesTable"]["Properties"]
    enrich_env = (resources["EnrichFunction"]["Properties"].get("Environment") or {}).get(
        "Variables"
    ) or {}
    settings = EnrichSettings.model_validate(
        {"ARTICLES_BUCKET": BUCKET, "ARTICLES_TABLE": TABLE, **_plain(enrich_env)}
    )
    ledger = Ledger()
    fingerprint_cpu_ms: list[float] = []
    policy = FetchPolicy.model_validate({"NEWSFLOW_ALLOW_LOOPBACK": True})
    enricher = get_enricher("local")
    outcomes: Counter[str] = Counter()
    with LoopbackSite() as site, mock_aws():
        raw_s3, raw_dynamodb, raw_sqs, queue_url = create_resources(
            template_path, BUCKET, TABLE, QUEUE
        )
        dynamodb = cast(Any, MeteredDynamoDB(raw_dynamodb, ledger, index_shapes(table_props)))
        s3 = cast(Any, CountedClient(raw_s3, ledger, "s3"))
        sqs = cast(Any, CountedClient(raw_sqs, ledger, "sqs"))
        documents = DocumentStore(BUCKET, s3)
        plain_documents = DocumentStore(BUCKET, raw_s3)
        table = ArticleTable(TABLE, dynamodb)
        fetch = FetchStage(
            fetcher=SafeFetcher(policy),
            parse=parse_html,
            documents=documents,
            table=table,
            enrich_queue=MessageQueue(queue_url, sqs),
            duplicates=DuplicateDetector(FingerprintIndex(TABLE, dynamodb), documents),
        )
        enrich = EnrichStage(
            enricher=enricher,
            documents=documents,
            table=table,
            min_words=settings.MIN_WORDS,
            max_entity_items=settings.MAX_ENTITY_ITEMS,
        )
        # One slot a request, as FetchFunction's polite fetcher takes it (a fast pace: no waits).
        gate = HostGate(TABLE, dynamodb, requests_per_second=1000.0)
        host = site.base_url.split("//", 1)[1].split(":", 1)[0]
        for index, page in enumerate(pages):
            url = site.add(_path_like(page, index), page.html)
            ledger.stage = "fetch"
            gate.acquire(host, max_wait=60.0)
            result = fetch.run(IngestMessage(url=url))
            outcomes[f"fetch_{result.outcome.value}"] += 1
            ledger.stage = "enrich"
            for body in _drain(raw_sqs, queue_url):
                message = EnrichMessage.model_validate_json(body)
                done = enrich.run(message)
                outcomes[f"enrich_{done.outcome.value}"] += 1
                if done.outcome is Outcome.ENRICHED:
                    text = plain_documents.get_parsed(message.key).text  # not counted
                    fingerprint_cpu_ms.append(_cpu_ms(fingerprint, text))
            if progress is not None and (index + 1) % 25 == 0:
                progress(f"billing: {index + 1}/{len(pages)} articles")
        stored = _stored(raw_dynamodb, raw_s3, index_shapes(table_props))
    enriched = outcomes.get(f"enrich_{Outcome.ENRICHED.value}", 0)
    articles = max(1, enriched)
    return {
        "articles": len(pages),
        "enriched": enriched,
        "outcomes": dict(outcomes),
        "max_entity_items": settings.MAX_ENTITY_ITEMS,
        "per_article": {
            "dynamodb": ledger.per_article(articles),
            "stored_bytes": {k: round(v / articles, 1) for k, v in stored.items()},
            "fingerprint_cpu_ms": round(
                sum(fingerprint_cpu_ms) / max(1, len(fingerprint_cpu_ms)), 2
            ),
        },
        "fingerprint": {"bands": BANDS, "rows": ROWS},
        "item_bytes": {kind: _sizes(sizes) for kind, sizes in sorted(ledger.written_sizes.items())},
    }


def _path_like(page: Page, index: int) -> str:
    """The page's own URL path (so URLs stored on items have real lengths), made unique."""
    path = urlsplit(page.url).path if page.url else ""
    return f"/{index}{path}" if path.startswith("/") else f"/{index}/article.html"


def _cpu_ms(function: Callable[[str], Any], text: str) -> float:
    started = time.thread_time()
    function(text)
    return (time.thread_time() - started) * 1000


def _plain(variables: Mapping[str, Any]) -> dict[str, str]:
    """Template environment values that are plain strings (references are left out)."""
    return {k: str(v) for k, v in variables.items() if isinstance(v, str | int | float)}


def _drain(sqs: Any, queue_url: str) -> Iterable[str]:
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return
        for message in messages:
            yield str(message["Body"])
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )


def _stored(dynamodb: Any, s3: Any, indexes: list[IndexShape]) -> dict[str, float]:
    """Bytes at rest: S3 per prefix; DynamoDB per item kind and per index, with overheads."""
    stored: Counter[str] = Counter()
    for listing in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in listing.get("Contents", []):
            stored["s3_" + str(obj["Key"]).split("/", 1)[0]] += int(obj["Size"])
    for listing in dynamodb.get_paginator("scan").paginate(TableName=TABLE):
        for raw in listing.get("Items", []):
            item = deserialize_item(raw)
            kind = item_kind(str(item["pk"]))
            if kind == "HOST":  # one per host, not per article
                continue
            stored[f"dynamodb_{kind}"] += dynamodb_item_bytes(item) + ITEM_OVERHEAD_BYTES
            for index in indexes:
                copy = index.copy_of(item)
                if copy is not None:
                    stored[f"dynamodb_index_{index.name}"] += (
                        dynamodb_item_bytes(copy) + ITEM_OVERHEAD_BYTES
                    )
    return dict(stored)


def _sizes(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "writes": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 1),
        "median": float(ordered[len(ordered) // 2]),
        "max": float(ordered[-1]),
    }
