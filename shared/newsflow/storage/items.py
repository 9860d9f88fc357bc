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
from pydantic import BaseModel, ConfigDict, ValidationError

from newsflow.aws_errors import translated
from newsflow.errors import Reason, Stage, TransientError
from newsflow.models import ArticleRecord, Failure
from newsflow.storage.layout import (
    ARTICLES_PREFIX,
    ENRICHED_PREFIX,
    RAW_PREFIX,
    day_of_key,
    document_key,
    version_stem,
)
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
INDEX_ATTRIBUTES = (
    "pk", "sk", "domain_sk", "failure_reason", "failed_at",
    "entity_keys", "entity_day", "entity_index",
)  # fmt: skip

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
    # imported here: the enrichment package is the enrich stage's, and fetch never loads it
    from newsflow.enrichment.aggregation import normalise_entity_key

    key = normalise_entity_key(unicodedata.normalize("NFKC", name))
    return f"ENTITY#{clamp_utf8(key, ENTITY_KEY_BYTES)}"


def article_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """An article item's own attributes: index-only ones dropped, and what the item does not
    store filled in (:func:`compact_article`): ``article_id`` from the key, ``raw_key`` beside
    the parsed document, the one-entry version history (:func:`first_version`)."""
    attributes = {k: v for k, v in item.items() if k not in INDEX_ATTRIBUTES}
    attributes["article_id"] = article_id_of(item)
    if "raw_key" not in attributes and attributes.get("article_key"):
        attributes["raw_key"] = raw_key_beside(str(attributes["article_key"]))
    if "versions" not in attributes:
        first = first_version(attributes)
        if first is not None:
            attributes["versions"] = [first]
    return attributes


def raw_key_beside(article_key: str) -> str | None:
    """The raw page stored with a parsed document: same partition, same name (layout.py)."""
    head = f"{ARTICLES_PREFIX}/"
    if not (article_key.startswith(head) and article_key.endswith(".json")):
        return None
    return f"{RAW_PREFIX}/{article_key[len(head) : -len('.json')]}.html.gz"


def compact_article(attributes: dict[str, Any]) -> list[str]:
    """Drop what an article item can rebuild on read (see :func:`article_attributes`): its id
    (the key holds it), the raw page's key (beside the parsed document's), empty metadata and
    a one-entry version history. Returns the dropped names an update must REMOVE.

    Every write of the item is billed per started KB of it, so what is derivable is not stored.
    """
    removed = []
    if "versions" in attributes and stored_versions(attributes) is None:
        attributes.pop("versions")
        removed.append("versions")
    article_key = attributes.get("article_key")
    if article_key and attributes.get("raw_key") == raw_key_beside(str(article_key)):
        attributes.pop("raw_key")
        removed.append("raw_key")
    if attributes.get("metadata") == {}:
        attributes.pop("metadata")
    attributes.pop("article_id", None)
    return removed


def first_version(attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The history entry of an article's only version, rebuilt from the item's own attributes.

    The version's documents, its text hash, and the first fetch time (``created_at``): what
    :func:`newsflow.versions.version_entry` wrote for it. ``None`` without a parsed document.
    """
    article_key = attributes.get("article_key")
    if not article_key or not attributes.get("created_at"):
        return None
    version = int(attributes.get("version") or 1)
    day = day_of_key(str(article_key))
    stem = version_stem(str(attributes["article_id"]), version)
    return {
        "version": version,
        "article_key": article_key,
        "enriched_key": document_key(ENRICHED_PREFIX, stem, day) if day else None,
        "text_sha256": attributes.get("text_sha256"),
        "fetched_at": attributes["created_at"],
    }


def stored_versions(attributes: Mapping[str, Any]) -> list[Any] | None:
    """The ``versions`` to store, or ``None`` when :func:`first_version` rebuilds it on read.

    An article fetched once (most of them) has one entry that repeats its own attributes; not
    storing it keeps the item small (every write is billed per started KB of the item).
    """
    history = attributes.get("versions")
    if not history:
        return None
    if len(history) == 1 and _same_entry(history[0], first_version(attributes)):
        return None
    return list(history)


def _same_entry(stored: Mapping[str, Any], rebuilt: Mapping[str, Any] | None) -> bool:
    if rebuilt is None:
        return False
    keys = ("version", "article_key", "enriched_key", "text_sha256")
    if any(stored.get(key) != rebuilt.get(key) for key in keys):
        return False
    try:
        return datetime.fromisoformat(str(stored["fetched_at"])) == datetime.fromisoformat(
            str(rebuilt["fetched_at"])
        )
    except (KeyError, ValueError):
        return False


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

    model_config = ConfigDict(defer_build=True)  # built on first use, like newsflow.models

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
