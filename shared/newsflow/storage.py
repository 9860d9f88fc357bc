"""AWS adapters: S3 documents, the DynamoDB article table and SQS queues.

Each class takes its boto3 client as an argument (tests pass moto-backed clients; Lambda passes
clients created once per container). Every AWS error leaves here as a
:class:`~newsflow.errors.TransientError` unless it is known to be permanent (a missing
document), so a failed write is retried by SQS and never silently dropped.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError

from newsflow.enrichment.aggregation import normalise_entity_key
from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.models import (
    ArticleRecord,
    ArticleStatus,
    EnrichedArticle,
    Failure,
    ParsedArticle,
    Sentiment,
    TopEntity,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

RAW_PREFIX = "raw"
ARTICLES_PREFIX = "articles"
ENRICHED_PREFIX = "enriched"
REJECTED_PREFIX = "rejected"

ARTICLE_SK = "ARTICLE"
RETRY_SK = "RETRY"  # the last transient failure of an article, so a dead letter can say why
DOMAIN_INDEX = "DomainDateIndex"
FAILURES_INDEX = "FailuresIndex"

_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
        "RequestThrottledException",
    }
)


@contextmanager
def aws_errors(action: str, *, stage: Stage = Stage.STORE) -> Iterator[None]:
    """Translate boto errors into the pipeline's transient failures, with a readable detail."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", "")
        reason = Reason.THROTTLED if code in _THROTTLING_CODES else Reason.AWS_ERROR
        raise TransientError(
            reason, f"{action} failed: {code} {message}".strip(), stage=stage
        ) from exc
    except BotoCoreError as exc:
        raise TransientError(Reason.AWS_ERROR, f"{action} failed: {exc}", stage=stage) from exc


def partition_day(moment: datetime | date) -> str:
    return moment.strftime("%Y-%m-%d")


def document_key(prefix: str, article_id: str, day: datetime | date, suffix: str = ".json") -> str:
    """``<prefix>/dt=YYYY-MM-DD/<article_id><suffix>``: Athena partitions by ``dt``."""
    return f"{prefix}/dt={partition_day(day)}/{article_id}{suffix}"


_DT_IN_KEY = re.compile(r"/dt=(\d{4}-\d{2}-\d{2})/")


def day_of_key(key: str) -> date | None:
    match = _DT_IN_KEY.search(key)
    return date.fromisoformat(match.group(1)) if match else None


def _ascii_metadata(value: str, limit: int = 1024) -> str:
    """S3 user metadata must be ASCII; percent-encode the rest and keep it short."""
    return quote(value, safe=":/?&=%#@+,;~!$'()*[]")[:limit]


class DocumentStore:
    """The one bucket: raw HTML (gzip), parsed and enriched JSON, rejected messages."""

    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self._client: S3Client = client or boto3.client("s3")

    def put_raw(
        self,
        article_id: str,
        day: datetime | date,
        body: bytes,
        *,
        final_url: str,
        http_status: int,
        content_type: str,
    ) -> str:
        key = document_key(RAW_PREFIX, article_id, day, ".html.gz")
        with aws_errors(f"storing raw page s3://{self.bucket}/{key}"):
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=gzip.compress(body, compresslevel=6, mtime=0),
                ContentType=content_type or "application/octet-stream",
                ContentEncoding="gzip",
                Metadata={
                    "final-url": _ascii_metadata(final_url),
                    "http-status": str(http_status),
                    "content-type": _ascii_metadata(content_type, 256),
                },
            )
        return key

    def put_document(
        self, prefix: str, article_id: str, day: datetime | date, doc: BaseModel
    ) -> str:
        key = document_key(prefix, article_id, day)
        self.put_json(key, doc.model_dump(mode="json"))
        return key

    def put_json(self, key: str, payload: Mapping[str, Any] | Sequence[Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with aws_errors(f"storing s3://{self.bucket}/{key}"):
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json; charset=utf-8",
            )

    def get_json(self, key: str, *, stage: Stage = Stage.ENRICH) -> Any:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            raw = response["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise PermanentError(
                    Reason.MISSING_DOCUMENT,
                    f"s3://{self.bucket}/{key} does not exist",
                    stage=stage,
                ) from exc
            with aws_errors(f"reading s3://{self.bucket}/{key}", stage=stage):
                raise
        except BotoCoreError as exc:
            raise TransientError(
                Reason.AWS_ERROR, f"reading s3://{self.bucket}/{key} failed: {exc}", stage=stage
            ) from exc
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise PermanentError(
                Reason.INVALID_DOCUMENT, f"s3://{self.bucket}/{key} is not JSON: {exc}", stage=stage
            ) from exc

    def get_parsed(self, key: str) -> ParsedArticle:
        payload = self.get_json(key)
        try:
            return ParsedArticle.model_validate(payload)
        except ValidationError as exc:
            raise PermanentError(
                Reason.INVALID_DOCUMENT,
                f"s3://{self.bucket}/{key} is not a parsed article: {exc.errors()[0]['msg']}",
                stage=Stage.ENRICH,
            ) from exc

    def get_raw(self, key: str) -> bytes:
        with aws_errors(f"reading s3://{self.bucket}/{key}"):
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            return gzip.decompress(response["Body"].read())


# --------------------------------------------------------------------------- DynamoDB

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


def entity_pk(name: str) -> str:
    """Entity index partition: the same key the enrichment merges mentions by."""
    return f"ENTITY#{normalise_entity_key(unicodedata.normalize('NFKC', name))}"


# Attributes that only exist to feed an index; stripped when reading a record back.
_INDEX_ATTRIBUTES = ("pk", "sk", "domain_sk", "failure_reason", "failed_at", "entity_keys")


class EntityMention(BaseModel):
    """One row of the entity index: an article that mentions an entity."""

    entity: str
    type: str
    article_id: str
    url: str | None = None
    title: str | None = None
    published: date | None = None
    count: int = 0
    salience: float = 0.0
    sentiment: Sentiment | None = None


class RetryNote(BaseModel):
    """The last transient failure seen for an article (kept beside its item)."""

    article_id: str
    failure: Failure
    at: datetime
    receive_count: int | None = None


class ArticleTable:
    """Article items, entity index items and the queries the CLI needs, in one table."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client: DynamoDBClient = client or boto3.client("dynamodb")

    # ---- reads

    def get(self, article_id: str) -> ArticleRecord | None:
        with aws_errors(f"reading article {article_id}"):
            response = self._client.get_item(
                TableName=self.table_name,
                Key=serialize_item({"pk": article_pk(article_id), "sk": ARTICLE_SK}),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return self._record(deserialize_item(item)) if item else None

    def _entity_keys(self, article_id: str) -> list[tuple[str, str]]:
        with aws_errors(f"reading entity keys of {article_id}"):
            response = self._client.get_item(
                TableName=self.table_name,
                Key=serialize_item({"pk": article_pk(article_id), "sk": ARTICLE_SK}),
                ProjectionExpression="entity_keys",
                ConsistentRead=True,
            )
        stored = deserialize_item(response.get("Item", {})).get("entity_keys", [])
        return [(k.split("|", 1)[0], k.split("|", 1)[1]) for k in stored if "|" in k]

    @staticmethod
    def _record(attributes: dict[str, Any]) -> ArticleRecord:
        # An item first written by save_failed has no article_id attribute: the key holds it.
        attributes.setdefault("article_id", str(attributes.get("pk", "")).removeprefix("ARTICLE#"))
        for name in _INDEX_ATTRIBUTES:
            attributes.pop(name, None)
        return ArticleRecord.model_validate(attributes)

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("query")
        with aws_errors("querying articles"):
            for page in paginator.paginate(TableName=self.table_name, **kwargs):
                for item in page.get("Items", []):
                    yield deserialize_item(item)

    def list_by_domain(
        self, domain: str, since: date | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Newest first; rows carry the index projection (url, status, title, published...)."""
        condition = "#d = :d"
        values: dict[str, Any] = {":d": domain}
        if since:
            condition += " AND domain_sk >= :since"
            values[":since"] = since.isoformat()
        rows = self._query(
            IndexName=DOMAIN_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#d": "domain"},
            ExpressionAttributeValues=serialize_item(values),
            ScanIndexForward=False,
        )
        return [self._summary(row) for _, row in zip(range(limit), rows, strict=False)]

    def list_failures(
        self, reason: Reason | str | None = None, since: date | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        reasons = [Reason(reason)] if reason else list(Reason)
        found: list[dict[str, Any]] = []
        for each in reasons:
            condition = "failure_reason = :r"
            values: dict[str, Any] = {":r": each.value}
            if since:
                condition += " AND failed_at >= :since"
                values[":since"] = since.isoformat()
            rows = self._query(
                IndexName=FAILURES_INDEX,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=serialize_item(values),
                ScanIndexForward=False,
            )
            found.extend(self._summary(row) for _, row in zip(range(limit), rows, strict=False))
        found.sort(key=lambda row: str(row.get("failed_at", "")), reverse=True)
        return found[:limit]

    def scan_articles(
        self, status: ArticleStatus | str | None = None, limit: int = 100
    ) -> list[ArticleRecord]:
        """Every article item (optionally of one status): a scan, fine for a CLI, not a hot path."""
        kwargs: dict[str, Any] = {
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": serialize_item({":sk": ARTICLE_SK}),
        }
        if status:
            kwargs["FilterExpression"] += " AND #s = :s"
            kwargs["ExpressionAttributeNames"] = {"#s": "status"}
            kwargs["ExpressionAttributeValues"] = serialize_item(
                {":sk": ARTICLE_SK, ":s": ArticleStatus(status).value}
            )
        records: list[ArticleRecord] = []
        paginator = self._client.get_paginator("scan")
        with aws_errors("scanning articles"):
            for page in paginator.paginate(TableName=self.table_name, **kwargs):
                for item in page.get("Items", []):
                    records.append(self._record(deserialize_item(item)))
                    if len(records) >= limit:
                        return records
        return records

    def articles_mentioning(
        self, name: str, entity_type: str | None = None, limit: int = 100
    ) -> list[EntityMention]:
        """One Query on the entity's partition, newest first."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": serialize_item({":pk": entity_pk(name)}),
            "ScanIndexForward": False,
        }
        if entity_type:
            kwargs["FilterExpression"] = "#t = :t"
            kwargs["ExpressionAttributeNames"] = {"#t": "type"}
            kwargs["ExpressionAttributeValues"] = serialize_item(
                {":pk": entity_pk(name), ":t": entity_type.upper()}
            )
        mentions = []
        for row in self._query(**kwargs):
            mentions.append(EntityMention.model_validate(row))
            if len(mentions) >= limit:
                break
        return mentions

    @staticmethod
    def _summary(row: dict[str, Any]) -> dict[str, Any]:
        summary = {k: v for k, v in row.items() if k not in ("pk", "sk")}
        summary["article_id"] = str(row.get("pk", "")).removeprefix("ARTICLE#")
        return summary

    def get_retry_note(self, article_id: str) -> RetryNote | None:
        with aws_errors(f"reading the retry note of {article_id}"):
            response = self._client.get_item(
                TableName=self.table_name,
                Key=serialize_item({"pk": article_pk(article_id), "sk": RETRY_SK}),
            )
        item = response.get("Item")
        return RetryNote.model_validate(deserialize_item(item)) if item else None

    def save_retry_note(self, note: RetryNote) -> None:
        """Remember why the last attempt failed; a later success leaves it as history."""
        attributes = {
            **note.model_dump(mode="json", exclude_none=True),
            "pk": article_pk(note.article_id),
            "sk": RETRY_SK,
        }
        with aws_errors(f"recording the retry note of {note.article_id}"):
            self._client.put_item(TableName=self.table_name, Item=serialize_item(attributes))

    # ---- writes

    def _update(
        self,
        article_id: str,
        action: str,
        *,
        set_values: Mapping[str, Any],
        if_missing: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        increment: str | None = None,
    ) -> None:
        """One UpdateItem on the article item: SET, SET-if-absent, ADD-one and REMOVE clauses."""
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
        expression = "SET " + ", ".join(clauses)
        removable = [name for name in remove if name not in set_values]
        if removable:
            for index, name in enumerate(removable):
                names[f"#r{index}"] = name
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removable)))
        with aws_errors(f"{action} {article_id}"):
            self._client.update_item(
                TableName=self.table_name,
                Key=serialize_item({"pk": article_pk(article_id), "sk": ARTICLE_SK}),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=serialize_item(values),
            )

    def save_fetched(self, record: ArticleRecord) -> None:
        """Record a successful fetch; clears an earlier failure or enrichment of the article.

        An update, not a put: the list of entity index items written by an earlier enrichment
        survives, so re-enriching can delete the ones that no longer apply.
        """
        attributes = record.model_dump(mode="json", exclude_none=True)
        created_at = attributes.pop("created_at")
        attributes.pop("attempts", None)
        sort_day = record.published or record.created_at.date()
        if record.domain:
            attributes["domain_sk"] = f"{sort_day.isoformat()}#{record.article_id}"
        self._update(
            record.article_id,
            "recording article",
            set_values=attributes,
            if_missing={"created_at": created_at},
            increment="attempts",
            remove=[
                "failure", "failure_reason", "failed_at", "handoff_at",
                "sentiment", "top_entities", "enriched_key",
            ],
        )  # fmt: skip

    def mark_handoff(self, article_id: str, at: datetime) -> None:
        """Note that the enrich message went out, so a redelivery does not send it again."""
        self._update(article_id, "marking hand-off of", set_values={"handoff_at": at.isoformat()})

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
        self._update(
            article.article_id,
            "recording enrichment of",
            set_values={
                "status": ArticleStatus.ENRICHED.value,
                "enriched_key": enriched_key,
                "sentiment": article.sentiment.model_dump(mode="json")
                if article.sentiment
                else None,
                "top_entities": [entity.model_dump(mode="json") for entity in top_entities],
                "entity_keys": [f"{pk}|{sk}" for pk, sk in new_keys],
                "updated_at": at.isoformat(),
            },
            remove=["failure", "failure_reason", "failed_at"],
        )

    def _put_entity_items(self, article: EnrichedArticle, limit: int) -> list[tuple[str, str]]:
        assert article.article_id is not None  # checked by save_enriched
        day = article.published or (article.fetched_at.date() if article.fetched_at else None)
        day_text = day.isoformat() if day else "0000-00-00"
        keys: list[tuple[str, str]] = []
        items: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for entity in article.entities[:limit]:
            pk = entity_pk(entity.text)
            sk = f"{day_text}#{article.article_id}#{entity.type}"
            if pk == "ENTITY#" or (pk, sk) in seen:
                continue
            seen.add((pk, sk))
            keys.append((pk, sk))
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
        self._batch_write([{"PutRequest": {"Item": serialize_item(item)}} for item in items])
        return keys

    def _delete_items(self, keys: set[tuple[str, str]]) -> None:
        requests = [
            {"DeleteRequest": {"Key": serialize_item({"pk": pk, "sk": sk})}}
            for pk, sk in sorted(keys)
        ]
        self._batch_write(requests)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem in chunks of 25, retrying unprocessed items a few times."""
        for start in range(0, len(requests), 25):
            pending: list[dict[str, Any]] = requests[start : start + 25]
            for _ in range(5):
                if not pending:
                    break
                with aws_errors("writing entity index items"):
                    response = self._client.batch_write_item(
                        RequestItems={self.table_name: pending}  # type: ignore[dict-item]
                    )
                pending = [
                    dict(request)
                    for request in response.get("UnprocessedItems", {}).get(self.table_name, [])
                ]
            if pending:
                raise TransientError(
                    Reason.THROTTLED,
                    f"{len(pending)} entity index writes left unprocessed after retries",
                    stage=Stage.STORE,
                )


# --------------------------------------------------------------------------- SQS


class MessageQueue:
    """A queue we send to (EnrichQueue from the fetch stage; IngestQueue from producers)."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client: SQSClient = client or boto3.client("sqs")

    def send(self, message: BaseModel | str) -> str:
        body = message if isinstance(message, str) else message.model_dump_json()
        with aws_errors(f"sending to {self.queue_url}"):
            response = self._client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        return response["MessageId"]

    def send_many(self, bodies: Sequence[str]) -> list[tuple[str, str]]:
        """Send in batches of 10; returns (body, error) for each message SQS refused."""
        refused: list[tuple[str, str]] = []
        for start in range(0, len(bodies), 10):
            chunk = bodies[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
            with aws_errors(f"sending to {self.queue_url}"):
                response = self._client.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=entries,  # type: ignore[arg-type]
                )
            for failed in response.get("Failed", []):
                refused.append((chunk[int(failed["Id"])], failed.get("Message", failed["Code"])))
        return refused
