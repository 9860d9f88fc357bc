"""The two use cases: fetch-and-store and enrich-and-store.

Plain Python with collaborators passed in; nothing here knows about Lambda or SQS events.
Each use case either returns an outcome (the message is done: stored, skipped or recorded as
FAILED) or raises :class:`~newsflow.errors.TransientError` (the message must be retried).

Write order is chosen so that a retry after a crash at any point converges:

* fetch: raw page -> parsed document -> article item (FETCHED) -> enrich message -> hand-off
  mark. A redelivery of a FETCHED article without the mark only re-sends the enrich message.
* enrich: enriched document -> entity index items -> article item (ENRICHED). Re-running
  rewrites the same keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from newsflow.budget import UNLIMITED, TimeBudget
from newsflow.duplicates import DuplicateDetector, reused_enrichment
from newsflow.errors import PermanentError, PipelineError, Reason, Stage, TransientError
from newsflow.fingerprints import Fingerprint, fingerprint, text_sha256
from newsflow.handoff import BatchedHandOff
from newsflow.keyed_locks import KeyedLocks, RelatedLocks
from newsflow.models import (
    ArticleRecord,
    ArticleStatus,
    EnrichedArticle,
    Enrichment,
    EnrichMessage,
    Failure,
    IngestMessage,
    ParsedArticle,
    TopEntity,
)
from newsflow.politeness.deferral import DeferralError, Deferrer
from newsflow.refresh import Refresher
from newsflow.settings import MAX_ENTITY_ITEMS, MIN_ENRICH_WORDS
from newsflow.storage.items import RetryNote
from newsflow.storage.layout import (
    ARTICLES_PREFIX,
    ENRICHED_PREFIX,
    REJECTED_PREFIX,
    day_of_key,
    document_key,
    version_stem,
)
from newsflow.text import count_words
from newsflow.urls import (
    MAX_URL_LENGTH,
    article_id_for,
    canonicalize_url,
    domain_of,
    fallback_article_id,
    redact_credentials,
)
from newsflow.versions import (
    fetch_page,
    stored_version,
    validators_of,
    version_entry,
    with_version,
)

if TYPE_CHECKING:
    from newsflow.fetching import FetchedPage

MAX_STORED_URL = MAX_URL_LENGTH
TOP_ENTITIES_ON_ITEM = 5  # what `get` shows; the enriched document has every entity


class PageFetcher(Protocol):
    def fetch(self, url: str) -> FetchedPage: ...


class HtmlParser(Protocol):
    def __call__(
        self, html: str | bytes, url: str | None = None, *, charset: str | None = None
    ) -> ParsedArticle: ...


class TextEnricher(Protocol):
    backend: str

    def enrich(self, text: str, language: str | None = None) -> Enrichment: ...


class DocumentStorage(Protocol):
    """The bucket, as the stages use it (:class:`newsflow.storage.DocumentStore`)."""

    @property
    def bucket(self) -> str: ...

    def put_raw(
        self,
        article_id: str,
        day: datetime | date,
        body: bytes,
        *,
        final_url: str,
        http_status: int,
        content_type: str,
    ) -> str: ...

    def put_document(
        self, prefix: str, article_id: str, day: datetime | date, doc: BaseModel
    ) -> str: ...

    def put_json(self, key: str, payload: Mapping[str, Any] | Sequence[Any]) -> None: ...

    def get_parsed(self, key: str) -> ParsedArticle: ...

    def get_json(self, key: str) -> Any: ...


class ArticleStorage(Protocol):
    """The article table, as the stages use it (:class:`newsflow.storage.ArticleTable`)."""

    def get(self, article_id: str) -> ArticleRecord | None: ...

    def save_fetched(self, record: ArticleRecord, *, new: bool = False) -> None: ...

    def mark_handoff(self, article_id: str, at: datetime) -> None: ...

    def mark_checked(
        self, article_id: str, at: datetime, *, etag: str | None, last_modified: str | None
    ) -> None: ...

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
    ) -> None: ...

    def save_enriched(
        self,
        article: EnrichedArticle,
        *,
        enriched_key: str,
        top_entities: Sequence[TopEntity],
        at: datetime,
        max_entity_items: int,
    ) -> None: ...

    def save_retry_note(self, note: RetryNote) -> None: ...


class MessageSender(Protocol):
    """The queue the fetch stage hands off to (:class:`newsflow.storage.MessageQueue`)."""

    def send(self, message: BaseModel | str) -> str: ...


class Outcome(StrEnum):
    FETCHED = "FETCHED"
    ENRICHED = "ENRICHED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # already done; nothing written
    RESUMED = "RESUMED"  # already fetched; only the hand-off to enrichment was redone
    UNCHANGED = "UNCHANGED"  # re-fetched, same text: only checked_at was written
    DEFERRED = "DEFERRED"  # re-sent with a delay (host not ready, or no time left); consumed


@dataclass(frozen=True)
class StageResult:
    outcome: Outcome
    article_id: str
    failure: Failure | None = None
    keys: dict[str, str] = field(default_factory=dict)
    deferred: str | None = None  # why, for a DEFERRED outcome (DeferralError.kind)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _note_retry(
    table: ArticleStorage,
    article_id: str,
    error: PipelineError,
    receive_count: int | None,
    clock: Callable[[], datetime],
) -> None:
    """Best effort: when the store itself is what fails, the log line is all there is."""
    note = RetryNote(
        article_id=article_id, failure=_failure(error), at=clock(), receive_count=receive_count
    )
    with contextlib.suppress(PipelineError):
        table.save_retry_note(note)


def _exact_original(record: ArticleRecord) -> str | None:
    """The article whose enrichment an exact copy reuses (``None`` for any other article)."""
    return record.duplicate_of if record.duplicate_kind == "exact" else None


def _failure(error: PipelineError) -> Failure:
    return Failure(
        stage=error.stage,
        reason=error.reason,
        detail=error.detail[:2000],
        http_status=error.http_status,
    )


class FetchStage:
    """Fetch one URL, parse it, store raw + parsed, record it and hand it to enrichment."""

    def __init__(
        self,
        *,
        fetcher: PageFetcher,
        parse: HtmlParser,
        documents: DocumentStorage,
        table: ArticleStorage,
        enrich_queue: MessageSender,
        clock: Callable[[], datetime] = utc_now,
        duplicates: DuplicateDetector | None = None,
        deferrer: Deferrer | None = None,
        timing: FetchTiming | None = None,
        refresher: Refresher | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._parse = parse
        self._documents = documents
        self._table = table
        self._enrich_queue = enrich_queue
        self._clock = clock
        self._duplicates = duplicates
        self._deferrer = deferrer
        self._timing = timing or FetchTiming()
        self._refresher = refresher  # None: the refresh policy is off
        # One parse at a time: the function's CPU and memory are sized for one page.
        self._parse_slot = threading.Lock()
        self._judging: RelatedLocks[Fingerprint] = RelatedLocks(
            duplicates.could_be_copies if duplicates else lambda first, second: False
        )
        self._article_locks = KeyedLocks()
        # With a batched hand-off, the messages of records running at once go out together;
        # a running record makes them wait for its own.
        self._record_scope: Callable[[], AbstractContextManager[None]] = (
            enrich_queue.record if isinstance(enrich_queue, BatchedHandOff) else nullcontext
        )

    @property
    def documents(self) -> DocumentStorage:
        return self._documents

    def run(self, message: IngestMessage) -> StageResult:
        try:
            canonical_url = canonicalize_url(message.url)
        except PermanentError as error:
            article_id = fallback_article_id(message.url)
            return self._record_failure(article_id, message, None, error)
        article_id = article_id_for(canonical_url)
        # Two records of one batch about the same article run one after the other: the
        # second finds the first one's article and skips, as when records ran in sequence.
        with self._article_locks.hold(article_id), self._record_scope():
            return self._run_article(message, canonical_url, article_id)

    def _run_article(
        self, message: IngestMessage, canonical_url: str, article_id: str
    ) -> StageResult:
        refresher = self._refresher
        if refresher is not None and refresher.hold(message, self._clock()):
            return StageResult(Outcome.DEFERRED, article_id, deferred="refresh_wait")
        existing = self._table.get(article_id)
        if refresher is not None and refresher.already_done(message, existing):
            return StageResult(Outcome.SKIPPED, article_id)
        if existing is not None and not message.force:
            if existing.status is ArticleStatus.ENRICHED:
                return StageResult(Outcome.SKIPPED, article_id)
            if existing.status is ArticleStatus.FETCHED and existing.article_key:
                if existing.handoff_at is not None:
                    return StageResult(Outcome.SKIPPED, article_id)
                self._hand_off(article_id, existing.article_key, _exact_original(existing))
                return StageResult(Outcome.RESUMED, article_id)

        try:
            timing = self._timing
            timing.budget.require(timing.record_seconds, "a fetch, parse and store")
            result = self._fetch_and_store(message, canonical_url, article_id, existing)
        except PermanentError as error:
            if message.refresh_step is not None and existing is not None:
                # A scheduled refresh that fails for good (page gone, now blocked) keeps the
                # article as stored: the refresh chain ends, the article is not made FAILED.
                return StageResult(Outcome.SKIPPED, article_id, failure=_failure(error))
            return self._record_failure(article_id, message, canonical_url, error)
        except DeferralError as request:
            return self._defer(article_id, message, canonical_url, request)
        if refresher is not None:  # after the writes: a lost send only loses a refresh
            refresher.follow_up(message, first_fetch=existing is None, now=self._clock())
        return result

    def note_retry(
        self, message: IngestMessage, error: PipelineError, receive_count: int | None = None
    ) -> None:
        """Record why this attempt will be retried (``newsflow dlq`` shows it for dead letters)."""
        try:
            article_id = article_id_for(canonicalize_url(message.url))
        except PermanentError:
            return
        _note_retry(self._table, article_id, error, receive_count, self._clock)

    def _fetch_and_store(
        self,
        message: IngestMessage,
        canonical_url: str,
        article_id: str,
        existing: ArticleRecord | None,
    ) -> StageResult:
        started = self._clock()
        previous = stored_version(existing) if message.force else None
        page = fetch_page(self._fetcher, canonical_url, validators_of(previous))
        now = self._clock()
        fetch_ms = max(0, round((now - started).total_seconds() * 1000))
        # A re-fetch keeps the day (dt=) of the stored copies, so it replaces them: one
        # article never sits under two partitions.
        stored_day = day_of_key(existing.article_key) if existing and existing.article_key else None
        day = stored_day or now
        parsed: ParsedArticle | None = None
        if previous is not None:  # unchanged: only checked_at; changed: the next version
            parsed = None if page.not_modified else self._parse_page(page)
            if parsed is None or text_sha256(parsed.text) == previous.text_sha256:
                return self._unchanged(previous, page, now)
        version = previous.version + 1 if previous else (existing.version if existing else 1)
        raw_key = self._documents.put_raw(
            version_stem(article_id, version),
            day,
            page.body,
            final_url=page.final_url,
            http_status=page.status,
            content_type=page.content_type,
        )
        parsed = parsed or self._parse_page(page)
        document = parsed.model_copy(
            update={
                "version": version,
                "url": message.url[:MAX_STORED_URL],
                "final_url": page.final_url,
                "canonical_url": canonical_url,
                "article_id": article_id,
                "domain": domain_of(canonical_url),
                "fetched_at": now,
            }
        )
        # Judge-then-register one record at a time for texts that could be copies of each
        # other (the same text, or shingles as similar as a near copy): the second then finds
        # the first, as when the records ran one after another. Any other judging cannot find
        # the other record, so it goes at once, even for texts sharing an LSH band (a shared
        # band only makes a candidate, which the similarity then rejects).
        print_ = fingerprint(document.text) if self._duplicates else None
        with self._judging.hold(print_):
            verdict = (
                self._duplicates.judge(article_id, document.text, print_)
                if self._duplicates
                else None
            )
            if verdict is not None:
                document.duplicate_of = verdict.duplicate_of
                document.cluster_id = verdict.cluster_id
            article_key = self._documents.put_document(
                ARTICLES_PREFIX, version_stem(article_id, version), day, document
            )
            if self._duplicates is not None and verdict is not None:
                self._duplicates.register(
                    verdict,
                    article_id=article_id,
                    article_key=article_key,
                    url=document.url or canonical_url,
                    title=document.title,
                    at=now,
                )
        self._table.save_fetched(
            ArticleRecord.fetched(
                document,
                article_id=article_id,
                url=message.url[:MAX_STORED_URL],
                canonical_url=canonical_url,
                article_key=article_key,
                created_at=existing.created_at if existing else now,
                updated_at=now,
                raw_key=raw_key,
                fetch_ms=fetch_ms,
                content_sha256=hashlib.sha256(page.body).hexdigest(),
                text_sha256=text_sha256(document.text),
                duplicate_of=verdict.duplicate_of if verdict else None,
                duplicate_kind=verdict.kind if verdict else None,
                similarity=verdict.similarity if verdict else None,
                cluster_id=verdict.cluster_id if verdict else None,
                version=version,
                versions=with_version(
                    existing.versions if existing else [],
                    version_entry(
                        article_id, version, article_key, day, text_sha256(document.text), now
                    ),
                ),
                etag=page.etag,
                last_modified=page.last_modified,
                source=message.source,
                metadata=message.metadata,
            ),
            new=existing is None,  # the read found no item: a put, unless one appeared since
        )
        reuse_of = verdict.duplicate_of if verdict and verdict.reuses_enrichment else None
        self._hand_off(article_id, article_key, reuse_of)
        return StageResult(
            Outcome.FETCHED, article_id, keys={"raw": raw_key, "article": article_key}
        )

    def _unchanged(self, previous: ArticleRecord, page: FetchedPage, now: datetime) -> StageResult:
        """A re-fetch that found the stored text: note the check (and finish a lost hand-off)."""
        self._table.mark_checked(
            previous.article_id,
            now,
            etag=page.etag or previous.etag,
            last_modified=page.last_modified or previous.last_modified,
        )
        if previous.status is ArticleStatus.FETCHED and previous.handoff_at is None:
            assert previous.article_key is not None  # stored_version checked it
            self._hand_off(previous.article_id, previous.article_key, _exact_original(previous))
            return StageResult(Outcome.RESUMED, previous.article_id)
        return StageResult(Outcome.UNCHANGED, previous.article_id)

    def _parse_page(self, page: FetchedPage) -> ParsedArticle:
        with self._parse_slot:
            self._timing.budget.require(self._timing.parse_seconds, "parsing and storing")
            return self._parse_unbounded(page)

    def _parse_unbounded(self, page: FetchedPage) -> ParsedArticle:
        try:
            return self._parse(page.body, page.final_url, charset=page.charset)
        except PipelineError:
            raise
        except Exception as exc:  # a parser crash on a given page is deterministic: permanent
            raise PermanentError(
                Reason.NOTHING_EXTRACTED,
                f"the page could not be parsed: {type(exc).__name__}: {exc}",
                stage=Stage.PARSE,
            ) from exc

    def _hand_off(self, article_id: str, article_key: str, reuse_of: str | None = None) -> None:
        message = EnrichMessage(
            article_id=article_id,
            bucket=self._documents.bucket,
            key=article_key,
            reuse_enrichment_of=reuse_of,
        )
        self._enrich_queue.send(message.model_dump_json(exclude_none=True))
        self._table.mark_handoff(article_id, self._clock())

    def _defer(
        self,
        article_id: str,
        message: IngestMessage,
        canonical_url: str,
        request: DeferralError,
    ) -> StageResult:
        """Re-send the message for later (consumed now); FAILED once deferred too often."""
        if self._deferrer is None:
            raise TransientError(Reason.HOST_UNAVAILABLE, request.why) from request
        try:
            self._deferrer.defer(message, request)
        except PermanentError as error:
            return self._record_failure(article_id, message, canonical_url, error)
        return StageResult(Outcome.DEFERRED, article_id, deferred=request.kind)

    def _record_failure(
        self,
        article_id: str,
        message: IngestMessage,
        canonical_url: str | None,
        error: PipelineError,
    ) -> StageResult:
        failure = _failure(error)
        self._table.save_failed(
            article_id=article_id,
            url=redact_credentials(message.url)[:MAX_STORED_URL],
            canonical_url=canonical_url,
            domain=domain_of(canonical_url) if canonical_url else None,
            failure=failure,
            at=self._clock(),
            source=message.source,
            metadata=message.metadata,
        )
        return StageResult(Outcome.FAILED, article_id, failure=failure)


@dataclass(frozen=True)
class FetchTiming:
    """What the fetch stage may start: a record needs ``record_seconds`` left (host wait,
    robots.txt, the fetch deadline, parsing and the writes), parsing ``parse_seconds``."""

    budget: TimeBudget = UNLIMITED
    record_seconds: float = 0.0
    parse_seconds: float = 0.0


class EnrichStage:
    """Enrich one parsed document and record entities and sentiment."""

    def __init__(
        self,
        *,
        enricher: TextEnricher,
        documents: DocumentStorage,
        table: ArticleStorage,
        min_words: int = MIN_ENRICH_WORDS,
        max_entity_items: int = MAX_ENTITY_ITEMS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._enricher = enricher
        self._documents = documents
        self._table = table
        self._min_words = min_words
        self._max_entity_items = max_entity_items
        self._clock = clock

    @property
    def documents(self) -> DocumentStorage:
        return self._documents

    def run(self, message: EnrichMessage) -> StageResult:
        try:
            return self._enrich_and_store(message)
        except PermanentError as error:
            failure = _failure(error)
            existing = self._table.get(message.article_id)
            self._table.save_failed(
                article_id=message.article_id,
                url=existing.url if existing else f"s3://{message.bucket}/{message.key}",
                canonical_url=existing.canonical_url if existing else None,
                domain=existing.domain if existing else None,
                failure=failure,
                at=self._clock(),
            )
            return StageResult(Outcome.FAILED, message.article_id, failure=failure)

    def note_retry(
        self, message: EnrichMessage, error: PipelineError, receive_count: int | None = None
    ) -> None:
        """Record why this attempt will be retried (``newsflow dlq`` shows it for dead letters)."""
        _note_retry(self._table, message.article_id, error, receive_count, self._clock)

    def _enrich_and_store(self, message: EnrichMessage) -> StageResult:
        if message.bucket != self._documents.bucket:
            raise PermanentError(
                Reason.INVALID_MESSAGE,
                f"bucket '{message.bucket}' is not this pipeline's bucket",
                stage=Stage.ENRICH,
            )
        document = self._documents.get_parsed(message.key)
        if document.article_id != message.article_id:
            raise PermanentError(
                Reason.INVALID_DOCUMENT,
                f"document {message.key} belongs to article {document.article_id}",
                stage=Stage.ENRICH,
            )
        words = count_words(document.text)
        if words < self._min_words:
            raise PermanentError(
                Reason.TEXT_TOO_SHORT,
                f"{words} words of text; at least {self._min_words} are needed to enrich",
                stage=Stage.ENRICH,
            )
        # A language no backend analyses is not a failure: the article is stored ENRICHED with
        # its text, no entities, no sentiment and enrichment.language_supported false.
        enrichment = self._reused_enrichment(message, document) or self._run_enricher(document)
        enriched = EnrichedArticle.model_validate(
            {**document.model_dump(), **enrichment.model_dump()}
        )
        day = day_of_key(message.key) or (document.fetched_at or self._clock()).date()
        stem = version_stem(message.article_id, document.version)
        enriched_key = document_key(ENRICHED_PREFIX, stem, day)
        self._documents.put_json(enriched_key, enriched.model_dump(mode="json"))
        current = self._table.get(message.article_id)
        if current is not None and current.version > document.version:
            # an older version, enriched late: its document is kept, the item stays on the newest
            return StageResult(
                Outcome.ENRICHED, message.article_id, keys={"enriched": enriched_key}
            )
        self._table.save_enriched(
            enriched,
            enriched_key=enriched_key,
            top_entities=[
                TopEntity(text=e.text, type=e.type, count=e.count, salience=e.salience)
                for e in enriched.entities[:TOP_ENTITIES_ON_ITEM]
            ],
            at=self._clock(),
            max_entity_items=self._max_entity_items,
        )
        return StageResult(Outcome.ENRICHED, message.article_id, keys={"enriched": enriched_key})

    def _reused_enrichment(
        self, message: EnrichMessage, document: ParsedArticle
    ) -> Enrichment | None:
        """An exact copy takes its original's enrichment: no second enricher call."""
        if not message.reuse_enrichment_of:
            return None
        original = self._table.get(message.reuse_enrichment_of)
        return reused_enrichment(original, self._documents, document)

    def _run_enricher(self, document: ParsedArticle) -> Enrichment:
        try:
            return self._enricher.enrich(document.text, document.language)
        except PipelineError:
            raise
        except Exception as exc:  # a model crash on a given text is deterministic: permanent
            raise PermanentError(
                Reason.INVALID_DOCUMENT,
                f"enrichment failed on this text: {type(exc).__name__}: {exc}",
                stage=Stage.ENRICH,
            ) from exc


@dataclass(frozen=True)
class Rejection:
    """A message with no usable URL at all: stored for inspection, then consumed."""

    message_id: str
    failure: Failure
    key: str


def reject_message(
    documents: DocumentStorage,
    *,
    message_id: str,
    body: str | None,
    error: PipelineError,
    clock: Callable[[], datetime] = utc_now,
) -> Rejection:
    now = clock()
    failure = _failure(error)
    key = document_key(REJECTED_PREFIX, _safe_id(message_id), now)
    documents.put_json(
        key,
        {
            "message_id": message_id,
            "rejected_at": now.isoformat(),
            "failure": failure.model_dump(mode="json"),
            "body": (body or "")[:262_144],
            "body_truncated": len(body or "") > 262_144,
        },
    )
    return Rejection(message_id=message_id, failure=failure, key=key)


def _safe_id(message_id: str) -> str:
    cleaned = "".join(ch for ch in message_id if ch.isalnum() or ch in "-_")
    return cleaned[:128] or hashlib.sha256(message_id.encode()).hexdigest()[:32]
