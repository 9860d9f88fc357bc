"""In-memory stand-ins for the stages' collaborators: bucket, article table, queue, fetcher.

They keep what the AWS adapters keep, in dicts, and write every call to one shared ``journal``
so a test can assert the write order. ``fail_on`` makes a named call raise (once, or always).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from newsflow.errors import PermanentError, PipelineError, Reason, Stage
from newsflow.fetching import FetchedPage
from newsflow.models import (
    ArticleRecord,
    ArticleStatus,
    EnrichedArticle,
    Enrichment,
    EnrichmentInfo,
    Entity,
    ExtractorInfo,
    Failure,
    ParsedArticle,
    Sentiment,
    TopEntity,
)
from newsflow.storage import RetryNote, document_key

BUCKET = "articles-bucket"
ARTICLE_TEXT = " ".join(["The harbour ferry trial began on Monday in Bristol."] * 8)


@dataclass
class Journal:
    """Every call made on the fakes, in order, and the failures to inject."""

    calls: list[str] = field(default_factory=list)
    failures: dict[str, list[PipelineError]] = field(default_factory=dict)

    def fail_on(self, call: str, error: PipelineError, times: int = 1) -> None:
        self.failures.setdefault(call, []).extend([error] * times)

    def record(self, call: str) -> None:
        pending = self.failures.get(call)
        if pending:
            raise pending.pop(0)
        self.calls.append(call)

    def writes(self) -> list[str]:
        reads = ("articles.get", "documents.get_parsed")
        return [call for call in self.calls if call not in reads]


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeDocuments:
    def __init__(self, journal: Journal, bucket: str = BUCKET) -> None:
        self.bucket = bucket
        self.objects: dict[str, Any] = {}
        self._journal = journal

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
        self._journal.record("documents.put_raw")
        key = document_key("raw", article_id, day, ".html.gz")
        self.objects[key] = body
        return key

    def put_document(
        self, prefix: str, article_id: str, day: datetime | date, doc: BaseModel
    ) -> str:
        self._journal.record("documents.put_document")
        key = document_key(prefix, article_id, day)
        self.objects[key] = doc.model_dump(mode="json")
        return key

    def put_json(self, key: str, payload: Mapping[str, Any] | Sequence[Any]) -> None:
        self._journal.record("documents.put_json")
        self.objects[key] = payload

    def get_parsed(self, key: str) -> ParsedArticle:
        self._journal.record("documents.get_parsed")
        if key not in self.objects:
            raise PermanentError(
                Reason.MISSING_DOCUMENT,
                f"s3://{self.bucket}/{key} does not exist",
                stage=Stage.ENRICH,
            )
        return ParsedArticle.model_validate(self.objects[key])

    def keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(f"{prefix}/"))


class FakeArticles:
    def __init__(self, journal: Journal) -> None:
        self.records: dict[str, ArticleRecord] = {}
        self.retry_notes: dict[str, RetryNote] = {}
        self.saved_as_new: list[bool] = []  # save_fetched's ``new``, call by call
        self._journal = journal

    def get(self, article_id: str) -> ArticleRecord | None:
        self._journal.record("articles.get")
        return self.records.get(article_id)

    def save_fetched(self, record: ArticleRecord, *, new: bool = False) -> None:
        self._journal.record("articles.save_fetched")
        self.saved_as_new.append(new)
        existing = self.records.get(record.article_id)
        self.records[record.article_id] = record.model_copy(
            update={
                "created_at": existing.created_at if existing else record.created_at,
                "attempts": (existing.attempts if existing else 0) + 1,
            }
        )

    def mark_handoff(self, article_id: str, at: datetime) -> None:
        self._journal.record("articles.mark_handoff")
        self.records[article_id] = self.records[article_id].model_copy(update={"handoff_at": at})

    def mark_checked(
        self, article_id: str, at: datetime, *, etag: str | None, last_modified: str | None
    ) -> None:
        self._journal.record("articles.mark_checked")
        update = {"checked_at": at, "etag": etag, "last_modified": last_modified}
        self.records[article_id] = self.records[article_id].model_copy(update=update)

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
        self._journal.record("articles.save_failed")
        existing = self.records.get(article_id)
        base = existing.model_dump() if existing else {"created_at": at}
        self.records[article_id] = ArticleRecord.model_validate(
            {
                **base,
                "article_id": article_id,
                "url": url,
                "canonical_url": canonical_url or base.get("canonical_url"),
                "domain": domain or base.get("domain"),
                "status": ArticleStatus.FAILED,
                "failure": failure,
                "updated_at": at,
                "attempts": (existing.attempts if existing else 0) + 1,
            }
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
        self._journal.record("articles.save_enriched")
        assert article.article_id is not None
        self.records[article.article_id] = self.records[article.article_id].model_copy(
            update={
                "status": ArticleStatus.ENRICHED,
                "enriched_key": enriched_key,
                "sentiment": article.sentiment,
                "language_supported": article.enrichment.language_supported,
                "top_entities": list(top_entities),
                "failure": None,
                "updated_at": at,
            }
        )

    def save_retry_note(self, note: RetryNote) -> None:
        self._journal.record("articles.save_retry_note")
        self.retry_notes[note.article_id] = note


class FakeQueue:
    def __init__(self, journal: Journal) -> None:
        self.sent: list[str] = []
        self._journal = journal

    def send(self, message: BaseModel | str) -> str:
        self._journal.record("queue.send")
        self.sent.append(message if isinstance(message, str) else message.model_dump_json())
        return f"message-{len(self.sent)}"


class FakeFetcher:
    """Serves ``pages`` by URL; a URL mapped to an error raises it."""

    def __init__(self, journal: Journal) -> None:
        self.pages: dict[str, FetchedPage | PipelineError] = {}
        self.fetched: list[str] = []
        self._journal = journal

    def serve(self, url: str, body: bytes = b"<html>a story</html>") -> None:
        self.pages[url] = FetchedPage(
            requested_url=url,
            final_url=url,
            status=200,
            content_type="text/html",
            charset="utf-8",
            body=body,
        )

    def fetch(self, url: str) -> FetchedPage:
        self._journal.record("fetcher.fetch")
        self.fetched.append(url)
        page = self.pages.get(url)
        if page is None:
            raise PermanentError(Reason.HTTP_ERROR, f"{url}: HTTP 404", http_status=404)
        if isinstance(page, PipelineError):
            raise page
        return page


def parse_page(
    html: str | bytes, url: str | None = None, *, charset: str | None = None
) -> ParsedArticle:
    """A parser that finds the same English story in any page."""
    return ParsedArticle(
        title="Solar ferry trial",
        language="en",
        published=date(2026, 11, 19),
        text=ARTICLE_TEXT,
        word_count=len(ARTICLE_TEXT.split()),
        extractor=ExtractorInfo(version="test"),
    )


class FakeEnricher:
    backend = "fake"

    def __init__(self, journal: Journal, *, language_supported: bool = True) -> None:
        self.language_supported = language_supported
        self._journal = journal

    def enrich(self, text: str, language: str | None = None) -> Enrichment:
        self._journal.record("enricher.enrich")
        return Enrichment(
            entities=[Entity(text="Bristol", type="LOCATION", count=1, salience=0.5)]
            if self.language_supported
            else [],
            sentiment=Sentiment(label="NEUTRAL", score=0.0) if self.language_supported else None,
            enrichment=EnrichmentInfo(
                backend=self.backend,
                model="fake-1",
                version="0",
                language_supported=self.language_supported,
            ),
        )
