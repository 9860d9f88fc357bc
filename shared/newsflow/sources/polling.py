"""The poll use case: one source polled, its new entries pushed once; and the due-source sweep.

One poll is a conditional GET through the safe fetcher (the validators of the last answer);
``304 Not Modified`` and a body identical to the last one cost no parsing and no write per
entry - only the source item is written back. Otherwise the document is parsed (a sitemap
index's children followed to a bounded depth and count), the entries' article ids are checked
against the source's seen items, and only unseen ones become ingest messages. The first poll of
a source pushes at most the newest ``first_poll_max_entries`` and marks the rest seen.

Order makes a crash safe: messages are sent before entries are marked seen, so a retried poll
may push an entry twice, and the fetch stage's article id makes the second one a no-op (the
same holds for one article in two sources).

A source's own failures (fetch refused, not a feed, too large, timeouts...) never raise: they
are recorded on the source, which backs off (interval doubled per consecutive failure). Only
failures of the table or the queue raise, so SQS retries the poll.

The fetcher is a seam (:class:`SourceFetcher`): PollFunction passes the polite fetcher
(robots.txt, the host's pace across containers, then the safe fetch), as the fetch stage does; a
host that asks to wait (:class:`~newsflow.politeness.deferral.DeferralError`) moves the source's
next poll, without counting as a failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urljoin

from newsflow.errors import PermanentError, PipelineError, Reason, Stage
from newsflow.fetching.client import FetchedPage
from newsflow.fetching.modes import FEED, ContentMode, conditional_headers
from newsflow.models import IngestMessage
from newsflow.politeness.deferral import DeferralError
from newsflow.sources.models import Entry, PollMessage, Source, SourceError, SourceKind
from newsflow.sources.parsing import ParsedSource, parse_source
from newsflow.urls import article_id_for, canonicalize_url

Clock = Callable[[], datetime]


class SourceFetcher(Protocol):
    def fetch(
        self,
        url: str,
        *,
        mode: ContentMode = ...,
        conditional: dict[str, str] | None = None,
    ) -> FetchedPage: ...


class SourceStore(Protocol):
    def get(self, source_id: str) -> Source | None: ...

    def save(self, source: Source) -> None: ...

    def all(self) -> list[Source]: ...

    def claim(self, source: Source, until: datetime) -> bool: ...

    def seen(self, source_id: str, article_ids: Sequence[str], now: datetime) -> set[str]: ...

    def mark_seen(
        self,
        source_id: str,
        links: Mapping[str, str],
        expires_at: datetime,
        pushed: Collection[str] = (),
    ) -> int: ...


class Sender(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int: ...


@dataclass(frozen=True)
class PollLimits:
    first_poll_max_entries: int = 20
    seen_ttl: timedelta = timedelta(days=30)
    max_sitemap_depth: int = 2  # an index, its child indexes, their sitemaps
    max_child_sitemaps: int = 20  # documents fetched per poll beyond the source itself
    max_document_bytes: int = 5 * 1024 * 1024  # inflated gzip sitemaps included


@dataclass
class PollResult:
    source: Source
    outcome: str  # "new" | "not_modified" | "unchanged" | "deferred" | "failed"
    entries: list[Entry] = field(default_factory=list)  # as read (empty when not parsed)
    pushed: list[Entry] = field(default_factory=list)
    requests: int = 0
    seen_writes: int = 0

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


class SourcePoller:
    def __init__(
        self,
        *,
        fetcher: SourceFetcher,
        table: SourceStore,
        ingest: Sender,
        limits: PollLimits | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._fetcher = fetcher
        self._table = table
        self._ingest = ingest
        self._limits = limits or PollLimits()
        self._clock = clock

    def poll_id(self, message: PollMessage) -> PollResult | None:
        """Poll a queued source; ``None`` when it was removed meanwhile."""
        source = self._table.get(message.source_id)
        return None if source is None else self.poll(source)

    def poll(self, source: Source) -> PollResult:
        now = self._clock()
        source = source.model_copy(update={"last_poll_at": now, "polls": source.polls + 1})
        result = PollResult(source, "failed")
        try:
            outcome = self._read(source, result)
        except DeferralError as wait:
            # The host asked to wait (its pace, Retry-After, robots.txt unavailable): no failure.
            result.outcome = "deferred"
            result.source = source.model_copy(
                update={"next_poll_at": now + timedelta(seconds=max(wait.delay_seconds, 1.0))}
            )
            self._table.save(result.source)
            return result
        except PipelineError as error:
            if error.retryable and error.stage is Stage.STORE:
                raise
            result.source = _failed(source, error, now)
            self._table.save(result.source)
            return result
        if outcome is None:  # 304, or the same bytes as last time
            result.source = _healthy(result.source, now)
            self._table.save(result.source)
            return result
        result.entries = outcome
        self._push_new(result, now)
        result.outcome = "new" if result.pushed else "unchanged"
        result.source = _healthy(result.source, now).model_copy(
            update={
                "entries": len(outcome),
                "pushed": result.source.pushed + len(result.pushed),
            }
        )
        self._table.save(result.source)
        return result

    # ------------------------------------------------------------------ reading

    def _read(self, source: Source, result: PollResult) -> list[Entry] | None:
        """The entries of the source, or ``None`` when nothing changed since the last poll."""
        page = self._fetcher.fetch(
            source.url,
            mode=FEED,
            conditional=conditional_headers(source.etag, source.last_modified),
        )
        result.requests += 1
        validators = {"etag": page.etag, "last_modified": page.last_modified}
        if page.not_modified:
            result.outcome = "not_modified"
            result.source = source.model_copy(update={"not_modified": source.not_modified + 1})
            return None
        digest = hashlib.sha256(page.body).hexdigest()
        if digest == source.content_sha256 and not source.first_poll:
            result.outcome = "unchanged"
            result.source = source.model_copy(update=validators)
            return None
        parsed = self._parse(page)
        entries = self._expand(parsed, page.final_url, result, depth=1, visited={page.final_url})
        result.source = source.model_copy(
            update={
                **validators,
                "content_sha256": digest,
                "kind": source.kind or parsed.kind,
                "format": parsed.format,
            }
        )
        return entries

    def _parse(self, page: FetchedPage) -> ParsedSource:
        try:
            return parse_source(page.body, max_bytes=self._limits.max_document_bytes)
        except PipelineError:
            raise
        except Exception as exc:  # a parser bug on hostile input must not crash the poll
            raise PermanentError(
                Reason.NOT_A_FEED, f"the document could not be parsed ({exc!r})", stage=Stage.PARSE
            ) from exc

    def _expand(
        self,
        parsed: ParsedSource,
        base_url: str,
        result: PollResult,
        *,
        depth: int,
        visited: set[str],
    ) -> list[Entry]:
        """Entries of a document; a sitemap index's children read to a bounded depth/count."""
        entries = [_absolute(entry, base_url) for entry in parsed.entries]
        if parsed.kind is not SourceKind.SITEMAP_INDEX:
            return entries
        if depth > self._limits.max_sitemap_depth:
            raise PermanentError(
                Reason.NOT_A_FEED,
                f"sitemap indexes nested deeper than {self._limits.max_sitemap_depth} levels",
                stage=Stage.PARSE,
            )
        for child in parsed.sitemaps:
            child_url = urljoin(base_url, child)
            if child_url in visited:
                continue  # an index that lists itself or an ancestor
            if len(visited) > self._limits.max_child_sitemaps:
                break
            visited.add(child_url)
            page = self._fetcher.fetch(child_url, mode=FEED)
            result.requests += 1
            entries += self._expand(
                self._parse(page), page.final_url, result, depth=depth + 1, visited=visited
            )
        return entries

    # ------------------------------------------------------------------ pushing

    def _push_new(self, result: PollResult, now: datetime) -> None:
        source = result.source
        by_id: dict[str, Entry] = {}
        for entry in result.entries:
            article_id = _article_id(entry.link)
            if article_id is not None:
                by_id.setdefault(article_id, entry)
        seen = self._table.seen(source.source_id, list(by_id), now)
        unseen = {a: e for a, e in by_id.items() if a not in seen}
        to_push = list(unseen)
        if source.first_poll:
            to_push = _newest(unseen, self._limits.first_poll_max_entries)
        messages = [_ingest_body(unseen[a], source.source_id) for a in to_push]
        self._ingest.send_all(messages)
        result.pushed = [unseen[a] for a in to_push]
        if unseen:
            result.seen_writes = self._table.mark_seen(
                source.source_id,
                {article_id: entry.link for article_id, entry in unseen.items()},
                now + self._limits.seen_ttl,
                pushed=set(to_push),
            )


class DueSources(Protocol):
    def all(self) -> list[Source]: ...

    def claim(self, source: Source, until: datetime) -> bool: ...


def queue_due_sources(
    table: DueSources, queue: Sender, *, now: datetime, lease: timedelta
) -> list[str]:
    """Queue every source due at ``now`` once (claimed for ``lease``); returns their ids."""
    due = [s for s in table.all() if s.next_poll_at <= now]
    claimed = [s.source_id for s in due if table.claim(s, now + lease)]
    queue.send_all([PollMessage(source_id=i).model_dump_json() for i in claimed])
    return claimed


def _absolute(entry: Entry, base_url: str) -> Entry:
    return entry.model_copy(update={"link": urljoin(base_url, entry.link.strip())})


def _article_id(link: str) -> str | None:
    try:
        return article_id_for(canonicalize_url(link))
    except PermanentError:
        return None  # a link the pipeline would refuse by its form is not pushed


def _newest(entries: dict[str, Entry], limit: int) -> list[str]:
    """The ids of the newest ``limit`` entries; undated ones keep document order, after."""
    floor = datetime.min.replace(tzinfo=UTC)
    order = sorted(
        enumerate(entries.items()),
        key=lambda pair: (-(pair[1][1].published or floor).timestamp(), pair[0]),
    )
    return [article_id for _, (article_id, _entry) in order[:limit]]


def _ingest_body(entry: Entry, source_id: str) -> str:
    metadata = {"title": (entry.title or "")[:1024]}
    if entry.published is not None:
        metadata["published"] = entry.published.isoformat()
    if not entry.title:
        metadata.pop("title")
    message = IngestMessage(url=entry.link, source=source_id, metadata=metadata)
    return message.model_dump_json(exclude_defaults=True)


def _healthy(source: Source, now: datetime) -> Source:
    healthy = source.model_copy(
        update={"last_success_at": now, "last_error": None, "consecutive_failures": 0}
    )
    return healthy.model_copy(update={"next_poll_at": healthy.next_poll_after(now)})


def _failed(source: Source, error: PipelineError, now: datetime) -> Source:
    failing = source.model_copy(
        update={
            "consecutive_failures": source.consecutive_failures + 1,
            "last_error": SourceError(
                stage=str(error.stage),
                reason=str(error.reason),
                detail=error.detail[:1024],
                http_status=error.http_status,
                at=now,
            ),
        }
    )
    return failing.model_copy(update={"next_poll_at": failing.next_poll_after(now)})
