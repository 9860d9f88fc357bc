"""The one bucket: raw HTML (gzip), parsed and enriched JSON, rejected messages."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError

from newsflow.aws_errors import MISSING_OBJECT_CODES, error_code, network_error, translated
from newsflow.errors import PermanentError, Reason, Stage
from newsflow.models import ParsedArticle
from newsflow.storage.layout import RAW_PREFIX, document_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def _ascii_metadata(value: str, limit: int = 1024) -> str:
    """S3 user metadata must be ASCII; percent-encode the rest and keep it short."""
    return quote(value, safe=":/?&=%#@+,;~!$'()*[]")[:limit]


class DocumentStore:
    """Documents of the pipeline's bucket; every AWS error leaves as a pipeline failure."""

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
        with translated(f"storing raw page s3://{self.bucket}/{key}"):
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
        with translated(f"storing s3://{self.bucket}/{key}"):
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json; charset=utf-8",
            )

    def get_json(self, key: str, *, stage: Stage = Stage.ENRICH) -> Any:
        """A stored JSON document; missing or unreadable is permanent: a retry cannot help."""
        action = f"reading s3://{self.bucket}/{key}"
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            raw = response["Body"].read()
        except ClientError as exc:
            if error_code(exc) in MISSING_OBJECT_CODES:
                raise PermanentError(
                    Reason.MISSING_DOCUMENT,
                    f"s3://{self.bucket}/{key} does not exist",
                    stage=stage,
                ) from exc
            with translated(action, stage=stage):
                raise
        except BotoCoreError as exc:
            raise network_error(exc, action, stage=stage) from exc
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
