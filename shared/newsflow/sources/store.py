"""Sources and seen entries in the article table, and batched sends to a queue.

Item layout (same table as articles, no new index):

* source: ``pk = SOURCES``, ``sk = SOURCE#<source_id>`` - one partition, so listing the
  sources (and finding the due ones) is a single paginated Query, never a Scan;
* seen entry: ``pk = SOURCE#<source_id>``, ``sk = SEEN#<article_id>`` with ``expires_at`` (epoch
  seconds, the table's TTL attribute). DynamoDB deletes expired items lazily and the local
  stack never does, so an expired item is treated as absent when read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import ValidationError

from newsflow.aws_errors import translated
from newsflow.errors import Reason, Stage, TransientError
from newsflow.sources.models import Source
from newsflow.storage.items import deserialize_item, get_item, query_items, serialize_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

SOURCES_PK = "SOURCES"
TTL_ATTRIBUTE = "expires_at"
_BATCH_GET_SIZE = 100
_BATCH_WRITE_SIZE = 25
_SEND_BATCH_SIZE = 10
_ATTEMPTS = 5


@dataclass(frozen=True)
class SeenEntry:
    article_id: str
    url: str  # the entry's link
    pushed: bool  # False when the first-poll cap held it back


def source_sk(source_id: str) -> str:
    return f"SOURCE#{source_id}"


def seen_pk(source_id: str) -> str:
    return f"SOURCE#{source_id}"


def seen_sk(article_id: str) -> str:
    return f"SEEN#{article_id}"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unfinished(what: str) -> TransientError:
    return TransientError(
        Reason.THROTTLED, f"{what}: DynamoDB left part of a batch undone", stage=Stage.STORE
    )


class SourceTable:
    """The registry of sources and what each has already pushed."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client: DynamoDBClient = client or boto3.client("dynamodb")

    # ------------------------------------------------------------------ sources

    def add(self, source: Source) -> bool:
        """Register ``source``; ``False`` when a source with this id is already there."""
        item = self._source_item(source)
        with translated(f"adding source {source.source_id}"):
            try:
                self._client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                return False
        return True

    def save(self, source: Source) -> None:
        """Write the source back after a poll: one write per poll, whatever the entries."""
        with translated(f"saving source {source.source_id}"):
            self._client.put_item(TableName=self.table_name, Item=self._source_item(source))

    def get(self, source_id: str) -> Source | None:
        item = get_item(
            self._client,
            self.table_name,
            SOURCES_PK,
            source_sk(source_id),
            f"reading source {source_id}",
        )
        return _source(item) if item else None

    def all(self) -> list[Source]:
        items = query_items(
            self._client,
            self.table_name,
            "listing sources",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": SOURCES_PK}},
        )
        return [source for item in items if (source := _source(item)) is not None]

    def remove(self, source_id: str) -> bool:
        with translated(f"removing source {source_id}"):
            response = self._client.delete_item(
                TableName=self.table_name,
                Key=serialize_item({"pk": SOURCES_PK, "sk": source_sk(source_id)}),
                ReturnValues="ALL_OLD",
            )
        return bool(response.get("Attributes"))

    def claim(self, source: Source, until: datetime) -> bool:
        """Move a due source's next poll to ``until`` unless someone else already did.

        The schedule claims a source before queueing it, so a slow poll is not queued again by
        the next tick; the poll itself sets the real next poll time.
        """
        with translated(f"claiming source {source.source_id}"):
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key=serialize_item({"pk": SOURCES_PK, "sk": source_sk(source.source_id)}),
                    UpdateExpression="SET next_poll_at = :until",
                    ConditionExpression="next_poll_at = :was",
                    ExpressionAttributeValues=serialize_item(
                        {":until": _stamp(source, until), ":was": _stamp(source)}
                    ),
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                return False
        return True

    def _source_item(self, source: Source) -> dict[str, Any]:
        attributes = source.model_dump(mode="json", exclude_none=True)
        return serialize_item({**attributes, "pk": SOURCES_PK, "sk": source_sk(source.source_id)})

    # ------------------------------------------------------------------ seen entries

    def seen(self, source_id: str, article_ids: Iterable[str], now: datetime) -> set[str]:
        """Which of ``article_ids`` this source has seen and not forgotten (TTL checked here)."""
        wanted = list(dict.fromkeys(article_ids))
        found: set[str] = set()
        epoch = int(now.timestamp())
        for chunk in _chunks(wanted, _BATCH_GET_SIZE):
            keys = [serialize_item({"pk": seen_pk(source_id), "sk": seen_sk(a)}) for a in chunk]
            for item in self._batch_get(keys, f"reading seen entries of {source_id}"):
                if int(item.get(TTL_ATTRIBUTE, 0)) > epoch:
                    found.add(str(item["sk"]).removeprefix("SEEN#"))
        return found

    def mark_seen(
        self,
        source_id: str,
        links: Mapping[str, str],
        expires_at: datetime,
        pushed: Collection[str] = (),
    ) -> int:
        """Remember entries (article id -> link) as seen until ``expires_at``; ``pushed`` says
        which were sent (the others were held back by the first-poll cap). Returns the writes."""
        expiry = int(expires_at.timestamp())
        items = [
            {
                "PutRequest": {
                    "Item": serialize_item(
                        {
                            "pk": seen_pk(source_id),
                            "sk": seen_sk(article_id),
                            TTL_ATTRIBUTE: expiry,
                            "url": link[:2048],
                            "pushed": article_id in pushed,
                        }
                    )
                }
            }
            for article_id, link in links.items()
        ]
        for chunk in _chunks(items, _BATCH_WRITE_SIZE):
            self._batch_write(list(chunk), f"marking entries of {source_id} seen")
        return len(items)

    def seen_entries(self, source_id: str, now: datetime) -> list[SeenEntry]:
        """Everything the source has seen and not forgotten (for the CLI and the demo)."""
        epoch = int(now.timestamp())
        items = query_items(
            self._client,
            self.table_name,
            f"listing seen entries of {source_id}",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :seen)",
            ExpressionAttributeValues=serialize_item({":pk": seen_pk(source_id), ":seen": "SEEN#"}),
        )
        return [
            SeenEntry(
                article_id=str(item["sk"]).removeprefix("SEEN#"),
                url=str(item.get("url", "")),
                pushed=bool(item.get("pushed", True)),
            )
            for item in items
            if int(item.get(TTL_ATTRIBUTE, 0)) > epoch
        ]

    def _batch_get(self, keys: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pending: list[dict[str, Any]] = keys
        for _ in range(_ATTEMPTS):
            if not pending:
                return found
            with translated(action):
                response = self._client.batch_get_item(
                    RequestItems={
                        self.table_name: {
                            "Keys": pending,
                            "ConsistentRead": True,
                            "ProjectionExpression": "sk, " + TTL_ATTRIBUTE,
                        }
                    }
                )
            found += [deserialize_item(i) for i in response["Responses"].get(self.table_name, [])]
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
            pending = list(unprocessed["Keys"]) if unprocessed else []
        if pending:
            raise _unfinished(action)
        return found

    def _batch_write(self, requests: list[Any], action: str) -> None:
        pending = requests
        for _ in range(_ATTEMPTS):
            if not pending:
                return
            with translated(action):
                response = self._client.batch_write_item(RequestItems={self.table_name: pending})
            pending = list(response.get("UnprocessedItems", {}).get(self.table_name, []))
        if pending:
            raise _unfinished(action)


def _stamp(source: Source, next_poll_at: datetime | None = None) -> str:
    """``next_poll_at`` written exactly as a saved source item holds it."""
    if next_poll_at is not None:
        source = source.model_copy(update={"next_poll_at": next_poll_at})
    return str(source.model_dump(mode="json", include={"next_poll_at"})["next_poll_at"])


def _source(item: dict[str, Any]) -> Source | None:
    """A source item as stored; one that no longer validates is skipped, not fatal."""
    try:
        return Source.model_validate(item)
    except ValidationError:
        return None


class BatchQueue:
    """Sends many bodies to one queue, ten per call; a body SQS refuses is retried."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client: SQSClient = client or boto3.client("sqs")

    def send_all(self, bodies: Sequence[str]) -> int:
        for chunk in _chunks(bodies, _SEND_BATCH_SIZE):
            pending = {str(i): body for i, body in enumerate(chunk)}
            for _ in range(_ATTEMPTS):
                if not pending:
                    break
                with translated(f"sending to {self.queue_url}"):
                    response = self._client.send_message_batch(
                        QueueUrl=self.queue_url,
                        Entries=[{"Id": k, "MessageBody": v} for k, v in pending.items()],
                    )
                failed = {f["Id"] for f in response.get("Failed", [])}
                pending = {k: v for k, v in pending.items() if k in failed}
            if pending:
                raise TransientError(
                    Reason.AWS_ERROR,
                    f"SQS refused {len(pending)} message(s) to {self.queue_url}",
                    stage=Stage.STORE,
                )
        return len(bodies)
