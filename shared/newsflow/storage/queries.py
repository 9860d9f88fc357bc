"""What the CLI reads back from the article table: one article, lists, entities, retry notes.

Read models are tolerant: an item that lacks fields (written by an older version, or only in
part) is shown with what it has, or skipped where a row cannot be built, never a crash. Rows
are JSON-shaped dicts: a complete article is its :class:`ArticleRecord` as JSON; index rows
carry the index projection.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel, ConfigDict, ValidationError

from newsflow.errors import Reason
from newsflow.models import ArticleRecord, ArticleStatus, Sentiment, as_dict
from newsflow.storage.items import (
    ARTICLE_SK,
    DOMAIN_INDEX,
    FAILURES_INDEX,
    RETRY_SK,
    RetryNote,
    article_attributes,
    article_id_of,
    article_pk,
    article_record,
    complete_record,
    entity_pk,
    get_item,
    query_items,
    scan_items,
    serialize_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class EntityMention(BaseModel):
    """One row of the entity index: an article that mentions an entity."""

    model_config = ConfigDict(defer_build=True)  # read-side only: no handler builds it

    entity: str = ""
    type: str = ""
    article_id: str = ""
    url: str | None = None
    title: str | None = None
    published: date | None = None
    count: int = 0
    salience: float = 0.0
    sentiment: Sentiment | None = None


def article_row(item: dict[str, Any]) -> dict[str, Any]:
    """A stored article item as JSON: the full record when complete, else what is there."""
    try:
        return as_dict(article_record(item))
    except ValidationError:
        return article_attributes(item)


def _index_row(item: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    row["article_id"] = article_id_of(item)
    return row


def _created_at(row: dict[str, Any]) -> str:
    return str(row.get("created_at") or "")


class ArticleQueries:
    """Read-only queries over the article table, for people and scripts (not for the stages)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client: DynamoDBClient = client or boto3.client("dynamodb")

    def article(self, article_id: str) -> dict[str, Any] | None:
        """The article item as JSON (see :func:`article_row`), or ``None`` if there is none."""
        item = self._article_item(article_id)
        return article_row(item) if item is not None else None

    def record(self, article_id: str) -> ArticleRecord | None:
        """The article's complete record; ``None`` if missing or incomplete."""
        return complete_record(self._article_item(article_id))

    def retry_note(self, article_id: str) -> RetryNote | None:
        """Why the last attempt on this article was retried; ``None`` if unknown or unreadable."""
        item = get_item(
            self._client,
            self.table_name,
            article_pk(article_id),
            RETRY_SK,
            f"reading the retry note of {article_id}",
        )
        if item is None:
            return None
        try:
            return RetryNote.model_validate({**item, "article_id": article_id})
        except ValidationError:
            return None

    def newest(
        self,
        limit: int = 100,
        *,
        status: ArticleStatus | str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` articles by ``created_at`` (a full scan: fine for a CLI).

        ``since`` and ``until`` are inclusive days. A FAILED listing reads the sparse failures
        index instead, newest failure first.
        """
        wanted = ArticleStatus(status) if status else None
        if wanted is ArticleStatus.FAILED:
            return self.failures(since=since, until=until, limit=limit)
        condition = "sk = :sk"
        values: dict[str, Any] = {":sk": ARTICLE_SK}
        names: dict[str, str] = {}
        if wanted is not None:
            condition += " AND #s = :s"
            names["#s"] = "status"
            values[":s"] = wanted.value
        if since is not None:
            condition += " AND created_at >= :since"
            values[":since"] = since.isoformat()
        if until is not None:
            condition += " AND created_at < :next_day"
            values[":next_day"] = _day_after(until)
        items = scan_items(
            self._client,
            self.table_name,
            "listing articles",
            FilterExpression=condition,
            ExpressionAttributeValues=serialize_item(values),
            **({"ExpressionAttributeNames": names} if names else {}),
        )
        return heapq.nlargest(limit, (article_row(item) for item in items), key=_created_at)

    def by_domain(
        self,
        domain: str,
        *,
        status: ArticleStatus | str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Newest first; rows carry the index projection (url, status, title, published...).

        ``since`` and ``until`` are inclusive days of ``domain_sk`` (``<day>#<article_id>``).
        """
        names = {"#d": "domain"}
        values: dict[str, Any] = {":d": domain}
        condition = "#d = :d" + _day_range("domain_sk", since, until, values)
        extra: dict[str, Any] = {}
        if status:
            names["#s"] = "status"
            values[":s"] = ArticleStatus(status).value
            extra["FilterExpression"] = "#s = :s"
        rows = query_items(
            self._client,
            self.table_name,
            f"listing articles of {domain}",
            IndexName=DOMAIN_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize_item(values),
            ScanIndexForward=False,
            **extra,
        )
        return _first(limit, (_index_row(row) for row in rows))

    def failures(
        self,
        reason: Reason | str | None = None,
        *,
        since: date | None = None,
        until: date | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """FAILED articles from the sparse failures index, newest failure first.

        Rows carry the index projection: url, failure, attempts, ``status`` FAILED and
        ``failed_at`` (the time of the failure). ``since`` and ``until`` are inclusive days.
        """
        reasons = [Reason(reason)] if reason else list(Reason)
        found: list[dict[str, Any]] = []
        for each in reasons:
            values: dict[str, Any] = {":r": each.value}
            condition = "failure_reason = :r" + _day_range("failed_at", since, until, values)
            rows = query_items(
                self._client,
                self.table_name,
                "listing failed articles",
                IndexName=FAILURES_INDEX,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=serialize_item(values),
                ScanIndexForward=False,
            )
            found.extend(_first(limit, (_failure_row(row) for row in rows)))
        found.sort(key=lambda row: str(row.get("failed_at", "")), reverse=True)
        return found[:limit]

    def mentioning(
        self, name: str, entity_type: str | None = None, limit: int = 100
    ) -> list[EntityMention]:
        """One Query on the entity's partition, newest first; unreadable rows are skipped."""
        values: dict[str, Any] = {":pk": entity_pk(name)}
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk", "ScanIndexForward": False}
        if entity_type:
            kwargs["FilterExpression"] = "#t = :t"
            kwargs["ExpressionAttributeNames"] = {"#t": "type"}
            values[":t"] = entity_type.upper()
        rows = query_items(
            self._client,
            self.table_name,
            f"reading the entity index of {name}",
            ExpressionAttributeValues=serialize_item(values),
            **kwargs,
        )
        return _first(limit, _mentions(rows))

    def records(self) -> Iterator[ArticleRecord]:
        """Every complete article record (a full scan); incomplete items are skipped."""
        items = scan_items(
            self._client,
            self.table_name,
            "scanning articles",
            FilterExpression="sk = :sk",
            ExpressionAttributeValues=serialize_item({":sk": ARTICLE_SK}),
        )
        for item in items:
            record = complete_record(item)
            if record is not None:
                yield record

    def _article_item(self, article_id: str) -> dict[str, Any] | None:
        return get_item(
            self._client,
            self.table_name,
            article_pk(article_id),
            ARTICLE_SK,
            f"reading article {article_id}",
        )


def _failure_row(item: dict[str, Any]) -> dict[str, Any]:
    row = _index_row(item)
    row.pop("failure_reason", None)
    row["status"] = ArticleStatus.FAILED.value
    row["failed_at"] = str(item.get("failed_at", "")).split("#", 1)[0]
    return row


def _mentions(rows: Iterable[dict[str, Any]]) -> Iterator[EntityMention]:
    for row in rows:
        sk_parts = str(row.get("sk", "")).split("#")
        if len(sk_parts) == 3:  # <day>#<article_id>#<type>: what a partial item still tells
            row.setdefault("article_id", sk_parts[1])
            row.setdefault("type", sk_parts[2])
        try:
            yield EntityMention.model_validate(row)
        except ValidationError as exc:
            # Attributes of the wrong type (a hand edit, an older writer) are left out; the
            # row still says which article mentions the entity.
            wrong = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            try:
                yield EntityMention.model_validate({k: v for k, v in row.items() if k not in wrong})
            except ValidationError:
                continue


def _day_after(day: date) -> str:
    return (day + timedelta(days=1)).isoformat()


def _day_range(
    sort_key: str, since: date | None, until: date | None, values: dict[str, Any]
) -> str:
    """The sort-key condition for inclusive days, adding its values; ``""`` for no bound.

    The sort keys start with an ISO day or time (``2026-11-20#...``, ``2026-11-20T...``), so a
    key of the day ``until`` sorts below the next day's ISO date. DynamoDB allows one
    condition on the sort key, hence ``BETWEEN`` when both bounds are given.
    """
    if since is not None:
        values[":since"] = since.isoformat()
    if until is not None:
        values[":next_day"] = _day_after(until)
    if since is not None and until is not None:
        return f" AND {sort_key} BETWEEN :since AND :next_day"
    if since is not None:
        return f" AND {sort_key} >= :since"
    if until is not None:
        return f" AND {sort_key} < :next_day"
    return ""


def _first(limit: int, rows: Iterable[Any]) -> list[Any]:
    return [row for _, row in zip(range(limit), rows, strict=False)]
