"""Fingerprint and cluster items of the article table: duplicates found by key, never by scan.

* ``CONTENT#<text_sha256>`` / ``FINGERPRINT``: the first article with exactly this text;
* ``BAND#<band>#<hash>`` / ``FINGERPRINT``: the first article with this LSH band value;
* ``CLUSTER#<cluster_id>`` / ``<article_id>``: one item per member of a story's cluster.

The fingerprint items name their owner (``article_id``, ``article_key``, ``cluster_id``), so
finding the candidates of a new text is one BatchGetItem of its 1 + ``BANDS`` keys, and the
candidates' parsed documents are where the shingle similarity is confirmed. An owner is never
replaced: later articles only claim keys that nobody holds yet (one BatchWriteItem), so a key
keeps pointing at the first article of its story.

What is written is what a query needs, since every item is a write unit per new story: a
cluster member item only for a copy (the original of a cluster is its ``cluster_id``, and
:meth:`FingerprintIndex.cluster` reads it from its article item), and the lookups are
eventually consistent (half the read price): a key written less than about a second earlier by
another container may be missed, the same race two containers judging at once already have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import boto3

from newsflow.aws_errors import translated
from newsflow.errors import Reason, Stage, TransientError
from newsflow.fingerprints import Fingerprint
from newsflow.storage.items import (
    ARTICLE_SK,
    article_pk,
    batch_write,
    deserialize_item,
    get_item,
    query_items,
    serialize_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FINGERPRINT_SK = "FINGERPRINT"
_BATCH_GET_SIZE = 100
_ATTEMPTS = 5


def content_pk(text_sha256: str) -> str:
    return f"CONTENT#{text_sha256}"


def band_pk(band_key: str) -> str:
    return f"BAND#{band_key}"


def cluster_pk(cluster_id: str) -> str:
    return f"CLUSTER#{cluster_id}"


@dataclass(frozen=True)
class FingerprintOwner:
    """The article a fingerprint key points to."""

    article_id: str
    article_key: str
    cluster_id: str


@dataclass(frozen=True)
class FingerprintLookup:
    """What the keys of one fingerprint hold: the exact owner, band owners, unclaimed keys."""

    exact: FingerprintOwner | None
    candidates: tuple[FingerprintOwner, ...]
    unclaimed: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ClusterMember:
    """One article of a cluster, as ``newsflow duplicates`` lists it."""

    cluster_id: str
    article_id: str
    url: str
    title: str | None
    duplicate_of: str | None
    duplicate_kind: Literal["exact", "near"] | None
    similarity: float | None
    added_at: datetime


class FingerprintIndex:
    """Fingerprint and cluster items; every AWS error leaves as a pipeline failure."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client: DynamoDBClient = client or boto3.client("dynamodb")

    def lookup(self, fingerprint: Fingerprint, article_id: str) -> FingerprintLookup:
        """Owners of the fingerprint's keys other than ``article_id`` (a retry finds itself)."""
        keys = [content_pk(fingerprint.text_sha256), *(band_pk(b) for b in fingerprint.bands)]
        found = self._batch_get(keys)
        owners = {pk: _owner(item) for pk, item in found.items()}
        exact = owners.get(keys[0])
        candidates: dict[str, FingerprintOwner] = {}
        for pk in keys[1:]:
            owner = owners.get(pk)
            if owner and owner.article_id != article_id:
                candidates.setdefault(owner.article_id, owner)
        return FingerprintLookup(
            exact=exact if exact and exact.article_id != article_id else None,
            candidates=tuple(candidates.values()),
            unclaimed=tuple(pk for pk in keys if pk not in owners),
        )

    def register(
        self, lookup: FingerprintLookup, owner: FingerprintOwner, member: ClusterMember | None
    ) -> None:
        """Claim the unclaimed keys for ``owner`` and add ``member`` (a copy) to its cluster."""
        owner_attributes = {
            "article_id": owner.article_id,
            "article_key": owner.article_key,
            "cluster_id": owner.cluster_id,
        }
        items: list[dict[str, Any]] = [
            {"pk": pk, "sk": FINGERPRINT_SK, **owner_attributes} for pk in lookup.unclaimed
        ]
        if member is not None:
            items.append(_member_item(member))
        self._batch_write(items)

    def cluster(self, cluster_id: str) -> list[ClusterMember]:
        """Every member of a cluster, first one first (one Query, and one GetItem of the
        original, which has no member item of its own)."""
        members = [
            ClusterMember(
                cluster_id=str(item["cluster_id"]),
                article_id=str(item["article_id"]),
                url=str(item.get("url", "")),
                title=item.get("title"),
                duplicate_of=item.get("duplicate_of"),
                duplicate_kind=item.get("duplicate_kind"),
                similarity=item.get("similarity"),
                added_at=datetime.fromisoformat(str(item["added_at"])),
            )
            for item in query_items(
                self._client,
                self.table_name,
                f"reading cluster {cluster_id}",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=serialize_item({":pk": cluster_pk(cluster_id)}),
            )
        ]
        if not any(member.article_id == cluster_id for member in members):
            original = self._original(cluster_id)
            if original is not None:
                members.append(original)
        return sorted(members, key=lambda m: (m.added_at, m.article_id))

    def _original(self, cluster_id: str) -> ClusterMember | None:
        """The first article of a cluster, from its article item (``None`` if it has none)."""
        item = get_item(
            self._client,
            self.table_name,
            article_pk(cluster_id),
            ARTICLE_SK,
            f"reading the original of cluster {cluster_id}",
        )
        if item is None or item.get("cluster_id") not in (None, cluster_id):
            return None
        try:
            added_at = datetime.fromisoformat(str(item["created_at"]))
        except (KeyError, ValueError):
            return None
        return ClusterMember(
            cluster_id=cluster_id,
            article_id=cluster_id,
            url=str(item.get("url", "")),
            title=item.get("title"),
            duplicate_of=None,
            duplicate_kind=None,
            similarity=None,
            added_at=added_at,
        )

    def _batch_get(self, pks: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(pks), _BATCH_GET_SIZE):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [
                        serialize_item({"pk": pk, "sk": FINGERPRINT_SK})
                        for pk in pks[start : start + _BATCH_GET_SIZE]
                    ],
                    "ConsistentRead": False,
                }
            }
            for _ in range(_ATTEMPTS):
                with translated("looking up fingerprint items"):
                    response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    values = deserialize_item(item)
                    found[str(values["pk"])] = values
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
            if request:
                raise TransientError(
                    Reason.THROTTLED,
                    "fingerprint lookups left unprocessed after retries",
                    stage=Stage.STORE,
                )
        return found

    def _batch_write(self, items: Iterable[dict[str, Any]]) -> None:
        requests = [{"PutRequest": {"Item": serialize_item(item)}} for item in items]
        batch_write(self._client, self.table_name, requests, "fingerprint items")


def _member_item(member: ClusterMember) -> dict[str, Any]:
    return {
        "pk": cluster_pk(member.cluster_id),
        "sk": member.article_id,
        "article_id": member.article_id,
        "cluster_id": member.cluster_id,
        "url": member.url,
        "title": member.title,
        "duplicate_of": member.duplicate_of,
        "duplicate_kind": member.duplicate_kind,
        "similarity": member.similarity,
        "added_at": member.added_at.isoformat(),
    }


def _owner(item: dict[str, Any]) -> FingerprintOwner:
    return FingerprintOwner(
        article_id=str(item["article_id"]),
        article_key=str(item["article_key"]),
        cluster_id=str(item.get("cluster_id") or item["article_id"]),
    )
