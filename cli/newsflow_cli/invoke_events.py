"""What `newsflow invoke` does around one handler call, so that the sample events just work.

The events in ``events/`` are real-shaped SQS events, written as a producer (fetch) or the fetch
stage (enrich) would send them to a deployed pipeline: their URLs are on the documentation
domains (example.com, example.org, example.net: reserved, never a real article source) and the
enrich event names a deployed bucket. Against a local stack, :func:`prepare` makes what an event
refers to exist there, and says what it changed:

* a URL on a documentation domain moves to the local sample page server (same path and query),
  so a fetch event stays on 127.0.0.1;
* an enrich record's bucket becomes the local stack's bucket, and when nothing is stored under
  its key yet, a parsed document of a sample page is stored there under the record's article id
  (with its FETCHED article item, as the fetch stage would have left it).

Against a deployed stack (``--stack``) events are used as they are.

A handler reports only what must be retried; an article recorded FAILED is a processed record.
:func:`outcomes` therefore reads what the pipeline recorded for each record: the article item
(its status, and why it FAILED), the retry note of a record left for retry, or why its body was
rejected.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from newsflow.errors import PermanentError
from newsflow.models import (
    ArticleRecord,
    ArticleStatus,
    parse_enrich_body,
    parse_ingest_body,
)
from newsflow.urls import article_id_for, canonicalize_url, domain_of, fallback_article_id
from newsflow_cli.page_server import SAMPLE_PAGES
from newsflow_cli.targets import Target

if TYPE_CHECKING:
    from newsflow.storage import ArticleQueries, ArticleTable

# Scheme and host of a URL on a documentation domain (RFC 2606), up to where the host ends.
DOCUMENTATION_URL = re.compile(
    r"https?://(?:[a-z0-9-]+\.)*example\.(?:com|org|net)(?::\d+)?(?![a-z0-9.-])", re.IGNORECASE
)
# The page whose parsed document stands in for an enrich event's missing document.
SEED_PAGE = "news/warehouse-fire.html"
SEED_SOURCE = "newsflow invoke (sample document)"


@dataclass
class PreparedEvent:
    event: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecordOutcome:
    """How one record of an invoked event ended, from what the pipeline recorded."""

    message_id: str
    article_id: str | None
    status: str  # an ArticleStatus, or RETRY (left for SQS), REJECTED (no usable body), MISSING
    stage: str = ""
    reason: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (ArticleStatus.FETCHED, ArticleStatus.ENRICHED)

    def describe(self) -> str:
        text = f"record {self.message_id}: {self.status}"
        if self.article_id:
            text += f" (article {self.article_id})"
        if self.reason:
            text += f" {self.stage}/{self.reason}: {self.detail}"
        return text


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _records(event: Any) -> list[dict[str, Any]]:
    records = event.get("Records") if isinstance(event, dict) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def prepare(event: Any, target: Target, *, page_server_url: str) -> PreparedEvent:
    """A copy of ``event`` whose references exist on the local stack ``target``."""
    prepared = PreparedEvent(event=json.loads(json.dumps(event)))
    bucket = target.output("ArticlesBucketName")
    for record in _records(prepared.event):
        body = record.get("body")
        if not isinstance(body, str):
            continue
        message_id = record.get("messageId", "?")
        new_body = _prepare_enrich_body(body, target, bucket, prepared.notes, message_id)
        if new_body is None:
            new_body = DOCUMENTATION_URL.sub(page_server_url.rstrip("/"), body)
            if new_body != body:
                prepared.notes.append(
                    f"record {message_id}: example.com/.org/.net URLs are served by the local "
                    f"sample pages at {page_server_url}"
                )
        if new_body != body:
            record["body"] = new_body
            if "md5OfBody" in record:
                record["md5OfBody"] = _md5(new_body)
    return prepared


def _prepare_enrich_body(
    body: str, target: Target, bucket: str, notes: list[str], message_id: str
) -> str | None:
    """The enrich body pointed at the local bucket, its document stored; None if not one."""
    try:
        message = parse_enrich_body(body)
    except PermanentError:
        return None
    if message.bucket != bucket:
        notes.append(
            f"record {message_id}: bucket {message.bucket} is not the local stack's; using {bucket}"
        )
        message = message.model_copy(update={"bucket": bucket})
    s3 = target.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=message.key)
    except ClientError:
        _store_sample_document(target, message.article_id, bucket, message.key)
        notes.append(
            f"record {message_id}: stored a parsed document of the sample page {SEED_PAGE} "
            f"as s3://{bucket}/{message.key}"
        )
    # Only what the event said, and the bucket: unset optional fields stay out of the body.
    return message.model_dump_json(exclude_unset=True)


def _table(target: Target) -> ArticleTable:
    from newsflow.storage import ArticleTable

    return ArticleTable(target.output("ArticlesTableName"), target.client("dynamodb"))


def _queries(target: Target) -> ArticleQueries:
    from newsflow.storage import ArticleQueries

    return ArticleQueries(target.output("ArticlesTableName"), target.client("dynamodb"))


def _store_sample_document(target: Target, article_id: str, bucket: str, key: str) -> None:
    from newsflow.extraction import parse_html  # trafilatura: imported only when needed
    from newsflow.storage import DocumentStore

    url = f"https://www.example.com/{SEED_PAGE}"
    now = datetime.now(UTC)
    parsed = parse_html((SAMPLE_PAGES / SEED_PAGE).read_bytes(), url=url)
    document = parsed.model_copy(
        update={
            "url": url,
            "final_url": url,
            "canonical_url": url,
            "article_id": article_id,
            "domain": domain_of(url),
            "fetched_at": now,
        }
    )
    DocumentStore(bucket, target.client("s3")).put_json(key, document.model_dump(mode="json"))
    table = _table(target)
    table.save_fetched(
        ArticleRecord.fetched(
            document,
            article_id=article_id,
            url=url,
            canonical_url=url,
            article_key=key,
            created_at=now,
            updated_at=now,
            source=SEED_SOURCE,
        )
    )


def _article_id(body: Any, enrich: bool) -> str:
    """The article a record is about, as the handler works it out (PermanentError: rejected)."""
    if enrich:
        return parse_enrich_body(body).article_id
    url = parse_ingest_body(body).url
    try:
        return article_id_for(canonicalize_url(url))
    except PermanentError:
        return fallback_article_id(url)  # the fetch stage records the failure under this id


def outcomes(target: Target, function: str, event: Any, response: Any) -> list[RecordOutcome]:
    """How each record of ``event`` ended after ``function`` answered ``response``."""
    queries = _queries(target)
    failures = response.get("batchItemFailures") if isinstance(response, Mapping) else None
    retried = {str(f.get("itemIdentifier")) for f in failures or [] if isinstance(f, Mapping)}
    enrich = function.lower().startswith("enrich")
    found: list[RecordOutcome] = []
    for record in _records(event):
        message_id = str(record.get("messageId", "?"))
        try:
            article_id = _article_id(record.get("body"), enrich)
        except PermanentError as error:
            found.append(
                RecordOutcome(message_id, None, "REJECTED", error.stage, error.reason, error.detail)
            )
            continue
        if message_id in retried:
            note = queries.retry_note(article_id)
            if note is None:
                found.append(
                    RecordOutcome(
                        message_id, article_id, "RETRY", "", "not_recorded",
                        "left for retry; no retry note was recorded (see the function's log)",
                    )
                )  # fmt: skip
            else:
                failure = note.failure
                found.append(
                    RecordOutcome(
                        message_id, article_id, "RETRY",
                        failure.stage, failure.reason, failure.detail,
                    )
                )  # fmt: skip
            continue
        article = queries.article(article_id)
        status = str(article.get("status") or "") if article else ""
        if article is None:
            found.append(
                RecordOutcome(
                    message_id, article_id, "MISSING", "", "not_recorded",
                    "the handler reported success but no article item exists",
                )
            )  # fmt: skip
        elif status == ArticleStatus.FAILED:
            recorded = article.get("failure")
            why: Mapping[str, Any] = recorded if isinstance(recorded, Mapping) else {}
            found.append(
                RecordOutcome(
                    message_id, article_id, status,
                    str(why.get("stage") or ""), str(why.get("reason") or "unknown"),
                    str(why.get("detail") or "no failure recorded on the item"),
                )
            )  # fmt: skip
        else:
            found.append(RecordOutcome(message_id, article_id, status or "UNKNOWN"))
    return found
