"""What the stages write to the article table: article items, retry notes, entity index items.

Reads here are only the ones a stage needs to stay idempotent; the queries the CLI runs live
in :mod:`newsflow.storage.queries`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from newsflow.aws_errors import error_code, translated
from newsflow.models import ArticleRecord, ArticleStatus, EnrichedArticle, Failure, TopEntity
from newsflow.storage.items import (
    ARTICLE_SK,
    RETRY_SK,
    RetryNote,
    article_pk,
    batch_write,
    compact_article,
    complete_record,
    entity_pk,
    get_item,
    serialize_item,
)
from newsflow.storage.limits import TRUNCATED_ATTRIBUTE, clamp_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


ENTITY_PREFIX = "ENTITY#"
ENTITY_DAY = "entity_day"  # the day in the sort key of the article's entity index items
ENTITY_INDEX = "entity_index"  # "<type>#<normalised name>" of each of its entity index items
LEGACY_ENTITY_KEYS = "entity_keys"  # every index key, as items written before December 2026 hold


def _entity_day(article: EnrichedArticle) -> str:
    day = article.published or (article.fetched_at.date() if article.fetched_at else None)
    return day.isoformat() if day else "0000-00-00"


def _entity_key(text: str, kind: str, day: str, article_id: str) -> tuple[str, str] | None:
    """The (pk, sk) of an entity index item; ``None`` for a name that normalises to nothing."""
    pk = entity_pk(text)
    return None if pk == ENTITY_PREFIX else (pk, f"{day}#{article_id}#{kind}")


def indexed_entity_keys(item: Mapping[str, Any], article_id: str) -> list[tuple[str, str]]:
    """The (pk, sk) of every entity index item an article item says its enrichment wrote."""
    legacy = item.get(LEGACY_ENTITY_KEYS) or []
    keys = [(k.split("|", 1)[0], k.split("|", 1)[1]) for k in legacy if "|" in k]
    day = item.get(ENTITY_DAY)
    if day:
        for compact in item.get(ENTITY_INDEX) or []:
            kind, _, name = str(compact).partition("#")
            keys.append((f"{ENTITY_PREFIX}{name}", f"{day}#{article_id}#{kind}"))
    return keys


def _compact(key: tuple[str, str]) -> str:
    """``(ENTITY#<name>, <day>#<article_id>#<type>)`` -> ``<type>#<name>``."""
    pk, sk = key
    return f"{sk.rsplit('#', 1)[1]}#{pk.removeprefix(ENTITY_PREFIX)}"


class ArticleTable:
    """The stages' view of the article table; every AWS error leaves as a pipeline failure."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client: DynamoDBClient = client or boto3.client("dynamodb")

    def get(self, article_id: str) -> ArticleRecord | None:
        """The article's record, or ``None`` if there is no complete one.

        An item that lacks fields (written partially or by an older version) counts as absent,
        so the stage fetches again and rewrites it instead of failing on every delivery.
        """
        return complete_record(
            get_item(
                self._client,
                self.table_name,
                article_pk(article_id),
                ARTICLE_SK,
                f"reading article {article_id}",
            )
        )

    def save_retry_note(self, note: RetryNote) -> None:
        """Remember why the last attempt failed; a later success leaves it as history."""
        attributes, _ = clamp_attributes(
            {
                **note.model_dump(mode="json", exclude_none=True),
                "pk": article_pk(note.article_id),
                "sk": RETRY_SK,
            }
        )
        with translated(f"recording the retry note of {note.article_id}"):
            self._client.put_item(TableName=self.table_name, Item=serialize_item(attributes))

    def save_fetched(self, record: ArticleRecord, *, new: bool = False) -> None:
        """Record a successful fetch; clears an earlier failure or enrichment of the article.

        ``new``: the stage's read found no article item. Then one conditional PutItem writes
        the item whole (no ``if_not_exists`` or ``REMOVE`` clauses to evaluate; the same write
        units). If an item appeared since the read, or ``new`` is false, it is an update
        instead: the list of entity index items written by an earlier enrichment survives, so
        re-enriching can delete the ones that no longer apply.
        """
        attributes = record.model_dump(mode="json", exclude_none=True)
        # What the item can rebuild on read is not stored (every write is billed per KB).
        dropped = compact_article(attributes)
        attributes.pop("attempts", None)
        created_at = attributes["created_at"]
        attributes.pop("created_at")
        cut_by_the_parser = attributes.pop(TRUNCATED_ATTRIBUTE, [])
        sort_day = record.published or record.created_at.date()
        if record.domain:
            attributes["domain_sk"] = f"{sort_day.isoformat()}#{record.article_id}"
        if new and self._put_new(
            record.article_id, attributes, created_at=created_at, truncated=cut_by_the_parser
        ):
            return
        self._update(
            record.article_id,
            "recording article",
            set_values=attributes,
            if_missing={"created_at": created_at},
            increment="attempts",
            truncated=cut_by_the_parser,
            remove=[
                "failure", "failure_reason", "failed_at", "handoff_at",
                "sentiment", "top_entities", "enriched_key", "language_supported",
                TRUNCATED_ATTRIBUTE, *dropped,
            ],
        )  # fmt: skip

    def _put_new(
        self,
        article_id: str,
        attributes: Mapping[str, Any],
        *,
        created_at: str,
        truncated: Sequence[str],
    ) -> bool:
        """Write the first article item of ``article_id``; ``False`` if one exists already.

        The item is exactly what :meth:`save_fetched`'s update makes of a missing item: the
        values clamped, ``created_at``, one attempt, the ``truncated`` set when anything was cut.
        """
        values, cut = clamp_attributes(attributes)
        item = {k: v for k, v in values.items() if v is not None}
        item.update(clamp_attributes({"created_at": created_at})[0])
        item.update({"pk": article_pk(article_id), "sk": ARTICLE_SK, "attempts": 1})
        cut_names = sorted({*cut, *truncated})
        if cut_names:
            item[TRUNCATED_ATTRIBUTE] = set(cut_names)
        with translated(f"recording article {article_id}"):
            try:
                self._client.put_item(
                    TableName=self.table_name,
                    Item=serialize_item(item),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def mark_handoff(self, article_id: str, at: datetime) -> None:
        """Note that the enrich message went out, so a redelivery does not send it again."""
        self._update(article_id, "marking hand-off of", set_values={"handoff_at": at.isoformat()})

    def mark_checked(
        self, article_id: str, at: datetime, *, etag: str | None, last_modified: str | None
    ) -> None:
        """A re-fetch found the stored text: note when, and the response's validators."""
        self._update(
            article_id,
            "recording a check of",
            set_values={"checked_at": at.isoformat(), "etag": etag, "last_modified": last_modified},
        )

    def save_failed(
        self,
        *,
        article_id: str,
        url: str,
        canonical_url: str | None,
        domain: str | None,
        failure: Failure,
        at: datetime,
        source: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Mark the article FAILED, keeping whatever an earlier success stored."""
        self._update(
            article_id,
            "recording failure of",
            set_values={
                "article_id": article_id,
                "status": ArticleStatus.FAILED.value,
                "failure": failure.model_dump(mode="json"),
                "failure_reason": failure.reason.value,
                "failed_at": f"{at.isoformat()}#{article_id}",
                "url": url,
                "canonical_url": canonical_url,
                "domain": domain,
                "source": source,
                "metadata": dict(metadata) if metadata else None,
                "updated_at": at.isoformat(),
            },
            if_missing={"created_at": at.isoformat()},
            increment="attempts",
        )

    def save_enriched(
        self,
        article: EnrichedArticle,
        *,
        enriched_key: str,
        top_entities: Sequence[TopEntity],
        at: datetime,
        max_entity_items: int,
    ) -> None:
        """Write entity index items, drop stale ones, then flip the article to ENRICHED.

        The article item is written last: ENRICHED means everything else is in place, and a
        retry after a failure part-way simply writes the same items again.
        """
        if article.article_id is None:
            raise ValueError("an enriched article needs its article_id")
        new_keys = self._put_entity_items(article, max_entity_items)
        stale = set(self._entity_keys(article.article_id)) - set(new_keys)
        self._delete_items(stale)
        values: dict[str, Any] = {
            "status": ArticleStatus.ENRICHED.value,
            "enriched_key": enriched_key,
            "sentiment": article.sentiment.model_dump(mode="json") if article.sentiment else None,
            "language_supported": article.enrichment.language_supported,
            "top_entities": [entity.model_dump(mode="json") for entity in top_entities],
            "updated_at": at.isoformat(),
        }
        removed = ["failure", "failure_reason", "failed_at", LEGACY_ENTITY_KEYS]
        # Which entity index items exist, compactly: their day once, then type and name each
        # (a re-fetch keeps these, so the next enrichment can delete what no longer applies).
        if new_keys:
            values[ENTITY_DAY] = _entity_day(article)
            values[ENTITY_INDEX] = [_compact(key) for key in new_keys]
        else:
            removed += [ENTITY_DAY, ENTITY_INDEX]
        self._update(
            article.article_id, "recording enrichment of", set_values=values, remove=removed
        )

    def _entity_keys(self, article_id: str) -> list[tuple[str, str]]:
        """The entity index items the article's last enrichment wrote (``entity_day`` and
        ``entity_index``; an item written before those holds every key in ``entity_keys``)."""
        item = get_item(
            self._client,
            self.table_name,
            article_pk(article_id),
            ARTICLE_SK,
            f"reading entity keys of {article_id}",
            projection=f"{LEGACY_ENTITY_KEYS}, {ENTITY_DAY}, {ENTITY_INDEX}",
        )
        return indexed_entity_keys(item or {}, article_id)

    def _update(
        self,
        article_id: str,
        action: str,
        *,
        set_values: Mapping[str, Any],
        if_missing: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        increment: str | None = None,
        truncated: Sequence[str] = (),
    ) -> None:
        """One UpdateItem on the article item: SET, SET-if-absent, ADD-one and REMOVE clauses.

        Every value is clamped to the stores' limits first; the names of the attributes that
        were cut join the item's ``truncated`` set with ``truncated`` (those cut earlier, by the
        parser); they replace the set when ``remove`` lists it.
        """
        set_values, cut = clamp_attributes(set_values)
        truncated = sorted({*cut, *truncated})
        if_missing, _ = clamp_attributes(if_missing or {})
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses: list[str] = []
        for index, (name, value) in enumerate(set_values.items()):
            if value is None:
                continue
            names[f"#s{index}"] = name
            values[f":s{index}"] = value
            clauses.append(f"#s{index} = :s{index}")
        for index, (name, value) in enumerate((if_missing or {}).items()):
            names[f"#m{index}"] = name
            values[f":m{index}"] = value
            clauses.append(f"#m{index} = if_not_exists(#m{index}, :m{index})")
        if increment:
            names["#inc"] = increment
            values[":zero"] = 0
            values[":one"] = 1
            clauses.append("#inc = if_not_exists(#inc, :zero) + :one")
        replace_truncated = TRUNCATED_ATTRIBUTE in remove
        if truncated and replace_truncated:
            names["#t"], values[":t"] = TRUNCATED_ATTRIBUTE, set(truncated)
            clauses.append("#t = :t")
        expression = "SET " + ", ".join(clauses)
        if truncated and not replace_truncated:
            names["#t"], values[":t"] = TRUNCATED_ATTRIBUTE, set(truncated)
            expression += " ADD #t :t"
        removable = [
            name
            for name in remove
            if name not in set_values and not (truncated and name == TRUNCATED_ATTRIBUTE)
        ]
        if removable:
            for index, name in enumerate(removable):
                names[f"#r{index}"] = name
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removable)))
        with translated(f"{action} {article_id}"):
            self._client.update_item(
                TableName=self.table_name,
                Key=serialize_item({"pk": article_pk(article_id), "sk": ARTICLE_SK}),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=serialize_item(values),
            )

    def _put_entity_items(self, article: EnrichedArticle, limit: int) -> list[tuple[str, str]]:
        """Index items for the ``limit`` most salient entities (the document keeps them all)."""
        assert article.article_id is not None  # checked by save_enriched
        day = article.published or (article.fetched_at.date() if article.fetched_at else None)
        day_text = _entity_day(article)
        keys: list[tuple[str, str]] = []
        items: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for entity in article.entities[:limit]:
            key = _entity_key(entity.text, entity.type, day_text, article.article_id)
            if key is None or key in seen:
                continue
            pk, sk = key
            seen.add(key)
            keys.append(key)
            items.append(
                {
                    "pk": pk,
                    "sk": sk,
                    "entity": entity.text,
                    "type": entity.type,
                    "article_id": article.article_id,
                    "url": article.url,
                    "title": article.title,
                    "published": day.isoformat() if day else None,
                    "count": entity.count,
                    "salience": entity.salience,
                    "sentiment": entity.sentiment.model_dump(mode="json")
                    if entity.sentiment
                    else None,
                }
            )
        requests = []
        for item in items:
            clamped, truncated = clamp_attributes(item)
            if truncated:
                clamped[TRUNCATED_ATTRIBUTE] = set(truncated)
            requests.append({"PutRequest": {"Item": serialize_item(clamped)}})
        self._batch_write(requests)
        return keys

    def _delete_items(self, keys: set[tuple[str, str]]) -> None:
        requests = [
            {"DeleteRequest": {"Key": serialize_item({"pk": pk, "sk": sk})}}
            for pk, sk in sorted(keys)
        ]
        self._batch_write(requests)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        batch_write(self._client, self.table_name, requests, "entity index items")
