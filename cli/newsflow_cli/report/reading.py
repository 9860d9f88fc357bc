"""What the report reads, and only that: the days asked for, by key and by index.

No Scan of the table. For each day of the range it lists ``articles/dt=<day>/`` (one key per
article that was fetched, 1,000 keys a call), reads those article items by key (BatchGetItem,
100 a call, only the attributes the report shows), reads failures from the sparse failures index
(one Query per reason, bounded by time: this also finds articles that never got a document),
the newest rows of the top entities' index partitions (one bounded Query each), the
``rejected/dt=<day>/`` prefix, the source items' partition and the dead-letter queues'
counts. :class:`ReadStats` counts every call and item so the report can say what it cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel

from newsflow.errors import Reason
from newsflow.storage.items import (
    ARTICLE_SK,
    FAILURES_INDEX,
    article_id_of,
    article_pk,
    deserialize_item,
    entity_pk,
    serialize_item,
)
from newsflow.storage.layout import ARTICLES_PREFIX, REJECTED_PREFIX

# What the report shows of an article item; the rest of the item is never read.
ARTICLE_ATTRIBUTES = (
    "pk", "article_id", "url", "domain", "status", "failure", "title", "published", "language",
    "sentiment", "top_entities", "source", "created_at", "article_key", "fetch_ms",
    "duplicate_of", "cluster_id", "attempts", "language_supported",
)  # fmt: skip
BATCH_GET_SIZE = 100  # DynamoDB's limit per BatchGetItem
_BATCH_GET_ATTEMPTS = 8


class ReadStats(BaseModel):
    """How much the report read, call by call, so the page can say what it cost."""

    s3_list_calls: int = 0
    s3_keys_listed: int = 0
    batch_get_calls: int = 0
    items_read: int = 0
    index_queries: int = 0
    index_items_read: int = 0
    sqs_calls: int = 0
    scans: int = 0  # always 0: the report never scans the table
    seconds: float = 0.0


@dataclass
class StreamSnapshot:
    """The raw rows of one date range, as read; :mod:`summary` turns them into figures."""

    since: date
    until: date
    articles: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    rejected_by_day: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)  # DLQ name -> messages
    sources: list[dict[str, Any]] = field(default_factory=list)  # feed and sitemap items
    stats: ReadStats = field(default_factory=ReadStats)


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


class StreamReader:
    """Reads one date range of a stack's bucket, table and dead-letter queues."""

    def __init__(self, *, bucket: str, table: str, s3: Any, dynamodb: Any) -> None:
        self.bucket = bucket
        self.table = table
        self._s3 = s3
        self._dynamodb = dynamodb
        self.stats = ReadStats()

    def read(
        self, since: date, until: date, dead_letters: dict[str, int] | None = None
    ) -> StreamSnapshot:
        started = time.perf_counter()
        snapshot = StreamSnapshot(since=since, until=until, stats=self.stats)
        ids: list[str] = []
        for day in days_between(since, until):
            ids += [_id_of(key) for key in self._keys(f"{ARTICLES_PREFIX}/dt={day.isoformat()}/")]
            rejected = sum(1 for _ in self._keys(f"{REJECTED_PREFIX}/dt={day.isoformat()}/"))
            if rejected:
                snapshot.rejected_by_day[day.isoformat()] = rejected
        snapshot.articles = list(self.articles(ids))
        snapshot.failures = list(self.failures(since, until))
        snapshot.dead_letters = dict(dead_letters or {})
        snapshot.sources = self.sources()
        self.stats.seconds = time.perf_counter() - started
        return snapshot

    def articles(self, article_ids: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Article items by key, 100 a call; keys DynamoDB leaves unprocessed are asked again."""
        names = {f"#a{i}": name for i, name in enumerate(ARTICLE_ATTRIBUTES)}
        projection = ", ".join(names)
        pending = list(dict.fromkeys(article_ids))
        for start in range(0, len(pending), BATCH_GET_SIZE):
            keys = [
                serialize_item({"pk": article_pk(article_id), "sk": ARTICLE_SK})
                for article_id in pending[start : start + BATCH_GET_SIZE]
            ]
            for attempt in range(_BATCH_GET_ATTEMPTS):
                request = {
                    self.table: {
                        "Keys": keys,
                        "ProjectionExpression": projection,
                        "ExpressionAttributeNames": names,
                    }
                }
                response = self._dynamodb.batch_get_item(RequestItems=request)
                self.stats.batch_get_calls += 1
                for item in response.get("Responses", {}).get(self.table, []):
                    self.stats.items_read += 1
                    row = deserialize_item(item)
                    row["article_id"] = article_id_of(row)
                    row.pop("pk", None)
                    yield row
                keys = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if not keys:
                    break
                time.sleep(min(0.05 * 2**attempt, 2.0))

    def sources(self) -> list[dict[str, Any]]:
        """The feed and sitemap items: their one partition, one paginated Query."""
        from newsflow.sources.store import SourceTable

        self.stats.index_queries += 1
        return [
            source.model_dump(mode="json")
            for source in SourceTable(self.table, self._dynamodb).all()
        ]

    def failures(self, since: date, until: date) -> Iterator[dict[str, Any]]:
        """FAILED articles whose failure falls in the range: one bounded Query per reason."""
        upper = (until + timedelta(days=1)).isoformat()
        for reason in Reason:
            for row in self._query(
                IndexName=FAILURES_INDEX,
                KeyConditionExpression="failure_reason = :r AND failed_at BETWEEN :a AND :b",
                ExpressionAttributeValues=serialize_item(
                    {":r": reason.value, ":a": since.isoformat(), ":b": upper}
                ),
            ):
                row["article_id"] = article_id_of(row)
                row["failed_at"] = str(row.get("failed_at", "")).split("#", 1)[0]
                yield row

    def entity_mentions(
        self, name: str, since: date, until: date, limit: int = 20
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` rows of the entity's partition in the range: one Query call."""
        rows = self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues=serialize_item(
                {":pk": entity_pk(name), ":a": since.isoformat(), ":b": f"{until}~"}
            ),
            ScanIndexForward=False,
            PaginationConfig={"MaxItems": limit, "PageSize": limit},
        )
        return [row for _, row in zip(range(limit), rows, strict=False)]

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(TableName=self.table, **kwargs):
            self.stats.index_queries += 1
            for item in page.get("Items", []):
                self.stats.index_items_read += 1
                yield deserialize_item(item)

    def _keys(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            self.stats.s3_list_calls += 1
            for entry in page.get("Contents", []):
                self.stats.s3_keys_listed += 1
                yield str(entry["Key"])


def _id_of(key: str) -> str:
    """``articles/dt=<day>/<article_id>.json`` -> ``<article_id>``."""
    return key.rsplit("/", 1)[-1].split(".", 1)[0]
