"""The DynamoDB item shape of the article table, kept apart from the domain models.

One table holds three kinds of item: the article (``ARTICLE#<id>`` / ``ARTICLE``), its retry
note (``ARTICLE#<id>`` / ``RETRY``) and entity index items (``ENTITY#<key>`` /
``<day>#<article_id>#<type>``). Two sparse indexes hang off article attributes: DomainDateIndex
(``domain``, ``domain_sk``) and FailuresIndex (``failure_reason``, ``failed_at``, only while an
article is FAILED). Values are (de)serialised here and nowhere else.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel, ValidationError

from newsflow.aws_errors import translated
from newsflow.enrichment.aggregation import normalise_entity_key
from newsflow.errors import Reason, Stage, TransientError
from newsflow.models import ArticleRecord, Failure
from newsflow.storage.limits import ENTITY_KEY_BYTES, clamp_utf8

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_BATCH_WRITE_SIZE = 25
_BATCH_ATTEMPTS = 5

ARTICLE_SK = "ARTICLE"
RETRY_SK = "RETRY"  # the last transient failure of an article, so a dead letter can say why
DOMAIN_INDEX = "DomainDateIndex"
FAILURES_INDEX = "FailuresIndex"

# Attributes that only exist to feed an index; stripped when reading a record back.
INDEX_ATTRIBUTES = ("pk", "sk", "domain_sk", "failure_reason", "failed_at", "entity_keys")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    """JSON-shaped value -> DynamoDB-serialisable value (floats become Decimals, Nones dropped)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value if v is not None]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_from_dynamo(v) for v in value]
    return value


def serialize_item(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in _to_dynamo(dict(attributes)).items()}


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def article_pk(article_id: str) -> str:
    return f"ARTICLE#{article_id}"


def article_id_of(item: Mapping[str, Any]) -> str:
    """An item first written by ``save_failed`` may lack ``article_id``: the key holds it."""
    return str(item.get("article_id") or str(item.get("pk", "")).removeprefix("ARTICLE#"))


def entity_pk(name: str) -> str:
    """Entity index partition: the same key the enrichment merges mentions by (cut to
    ``ENTITY_KEY_BYTES``: a 13 KB run of capitalised words is no name, and no key)."""
    key = normalise_entity_key(unicodedata.normalize("NFKC", name))
    return f"ENTITY#{clamp_utf8(key, ENTITY_KEY_BYTES)}"


def article_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """An article item's own attributes: index-only ones dropped, ``article_id`` filled in."""
    attributes = {k: v for k, v in item.items() if k not in INDEX_ATTRIBUTES}
    attributes["article_id"] = article_id_of(item)
    return attributes


def article_record(item: Mapping[str, Any]) -> ArticleRecord:
    """The domain record of a complete article item (raises ``ValidationError`` otherwise)."""
    return ArticleRecord.model_validate(article_attributes(item))


def complete_record(item: Mapping[str, Any] | None) -> ArticleRecord | None:
    """The record of an article item, or ``None`` when there is no item or it lacks fields."""
    if item is None:
        return None
    try:
        return article_record(item)
    except ValidationError:
        return None


class RetryNote(BaseModel):
    """The last transient failure seen for an article (kept beside its item)."""

    article_id: str
    failure: Failure
    at: datetime
    receive_count: int | None = None


def get_item(
    client: DynamoDBClient,
    table_name: str,
    pk: str,
    sk: str,
    action: str,
    *,
    projection: str | None = None,
) -> dict[str, Any] | None:
    """One item by key, strongly consistent, deserialised; ``None`` when there is none."""
    kwargs: dict[str, Any] = {"ProjectionExpression": projection} if projection else {}
    with translated(action):
        response = client.get_item(
            TableName=table_name,
            Key=serialize_item({"pk": pk, "sk": sk}),
            ConsistentRead=True,
            **kwargs,
        )
    item = response.get("Item")
    return deserialize_item(item) if item else None


def query_items(
    client: DynamoDBClient, table_name: str, action: str, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Every item a Query returns, page after page, deserialised."""
    return _paginate(client, "query", table_name, action, kwargs)


def scan_items(
    client: DynamoDBClient, table_name: str, action: str, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Every item a Scan returns: fine for a CLI, not for a hot path."""
    return _paginate(client, "scan", table_name, action, kwargs)


def _paginate(
    client: DynamoDBClient,
    operation: Literal["query", "scan"],
    table_name: str,
    action: str,
    kwargs: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    paginator: Any = client.get_paginator(operation)
    with translated(action):
        for page in paginator.paginate(TableName=table_name, **kwargs):
            for item in page.get("Items", []):
                yield deserialize_item(item)


def batch_write(
    client: DynamoDBClient, table_name: str, requests: list[dict[str, Any]], what: str
) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items a few times."""
    for start in range(0, len(requests), _BATCH_WRITE_SIZE):
        pending: list[dict[str, Any]] = requests[start : start + _BATCH_WRITE_SIZE]
        for _ in range(_BATCH_ATTEMPTS):
            if not pending:
                break
            with translated(f"writing {what}"):
                response = client.batch_write_item(
                    RequestItems={table_name: pending}  # type: ignore[dict-item]
                )
            pending = [
                dict(request)
                for request in response.get("UnprocessedItems", {}).get(table_name, [])
            ]
        if pending:
            raise TransientError(
                Reason.THROTTLED,
                f"{len(pending)} {what} left unprocessed after retries",
                stage=Stage.STORE,
            )
