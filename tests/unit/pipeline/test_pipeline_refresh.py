"""The refresh policy: off by default; on, each new article is re-fetched after each delay."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from newsflow.fetching import FetchedPage
from newsflow.models import IngestMessage
from newsflow.pipeline import FetchStage, Outcome
from newsflow.refresh import Refresher, parse_refresh_after

from .fakes import Clock, FakeArticles, FakeDocuments, FakeFetcher, FakeQueue, Journal
from .fakes import parse_page as fake_parse
from .test_pipeline_deferral import DelayedQueue as DeferralQueue

URL = "https://news.example.com/harbour/solar-ferry"
DELAYS = (timedelta(hours=1), timedelta(hours=6))


class DelayedQueue(DeferralQueue):
    """The ingest queue: what was re-sent, with its delay, taken in order."""

    def take(self) -> tuple[IngestMessage, int]:
        body, delay = self.sent.pop(0)
        return IngestMessage.model_validate(body), delay


class ConditionalFetcher(FakeFetcher):
    """Serves a page with an ETag and answers 304 when asked with that ETag."""

    def __init__(self, journal: Journal) -> None:
        super().__init__(journal)
        self.conditions: list[dict[str, str]] = []
        self.etag = '"v1"'

    def fetch(self, url: str, conditional: dict[str, str] | None = None) -> FetchedPage:
        self.conditions.append(dict(conditional or {}))
        page = super().fetch(url)
        if conditional and conditional.get("If-None-Match") == self.etag:
            return replace(page, status=304, body=b"")
        return replace(page, etag=self.etag)


class World:
    def __init__(self, delays: tuple[timedelta, ...] | None, parse: Any = fake_parse) -> None:
        self.journal = Journal()
        self.clock = Clock()
        self.fetcher = ConditionalFetcher(self.journal)
        self.fetcher.serve(URL)
        self.articles = FakeArticles(self.journal)
        self.ingest = DelayedQueue()
        self.stage = FetchStage(
            fetcher=self.fetcher,
            parse=parse,
            documents=FakeDocuments(self.journal),
            table=self.articles,
            enrich_queue=FakeQueue(self.journal),
            clock=self.clock,
            refresher=Refresher(self.ingest, delays) if delays is not None else None,
        )


def test_refresh_delays_parse_and_reject() -> None:
    assert parse_refresh_after("") == ()
    assert parse_refresh_after(None) == ()
    assert parse_refresh_after("90s, 30m,6h,2d") == (
        timedelta(seconds=90),
        timedelta(minutes=30),
        timedelta(hours=6),
        timedelta(days=2),
    )
    for bad in ("1h,", "0h", "6 hours", "-1h"):
        with pytest.raises(ValueError):
            parse_refresh_after(bad)


def test_off_by_default_schedules_nothing() -> None:
    world = World(delays=None)
    assert world.stage.run(IngestMessage(url=URL)).outcome is Outcome.FETCHED
    assert world.ingest.sent == []


def test_a_first_fetch_schedules_step_zero() -> None:
    world = World(DELAYS)
    started = world.clock()
    assert world.stage.run(IngestMessage(url=URL, source="wire")).outcome is Outcome.FETCHED
    refresh, delay = world.ingest.take()
    assert refresh.force and refresh.refresh_step == 0 and refresh.source == "wire"
    assert refresh.refresh_due == started + timedelta(hours=1)
    assert delay == 900  # SQS's limit: the rest of the wait is held hop by hop
    assert world.ingest.sent == []


def test_a_refresh_not_yet_due_is_re_sent_with_the_rest_of_its_wait() -> None:
    world = World(DELAYS)
    world.stage.run(IngestMessage(url=URL))
    refresh, _ = world.ingest.take()
    world.clock.advance(minutes=50)
    world.fetcher.fetched.clear()
    result = world.stage.run(refresh)
    assert result.outcome is Outcome.DEFERRED and result.deferred == "refresh_wait"
    held, delay = world.ingest.take()
    assert held == refresh and delay == 600
    assert world.fetcher.fetched == []


def test_a_due_refresh_re_fetches_with_validators_and_schedules_the_next_step() -> None:
    world = World(DELAYS)
    started = world.clock()
    world.stage.run(IngestMessage(url=URL))
    refresh, _ = world.ingest.take()
    world.clock.advance(hours=1, seconds=3)
    writes_before = len(world.journal.writes())
    assert world.stage.run(refresh).outcome is Outcome.UNCHANGED
    assert world.fetcher.conditions[-1] == {"If-None-Match": '"v1"'}
    written = [c for c in world.journal.writes()[writes_before:] if c != "fetcher.fetch"]
    assert written == ["articles.mark_checked"]
    following, _ = world.ingest.take()
    assert following.refresh_step == 1
    assert following.refresh_due == started + timedelta(hours=6)  # counted from the first fetch


def test_the_last_step_schedules_nothing() -> None:
    world = World(DELAYS)
    world.stage.run(IngestMessage(url=URL))
    world.clock.advance(hours=1)
    world.stage.run(world.ingest.take()[0])
    world.clock.advance(hours=5)
    assert world.stage.run(world.ingest.take()[0]).outcome is Outcome.UNCHANGED
    assert world.ingest.sent == []


def test_a_duplicate_of_a_refresh_step_is_skipped_and_does_not_fork_the_chain() -> None:
    world = World(DELAYS)
    world.stage.run(IngestMessage(url=URL))
    refresh, _ = world.ingest.take()
    world.clock.advance(hours=1)
    world.stage.run(refresh)
    world.ingest.take()
    world.clock.advance(seconds=30)
    assert world.stage.run(refresh).outcome is Outcome.SKIPPED
    assert world.ingest.sent == []


def test_a_forced_re_fetch_without_refresh_starts_no_chain() -> None:
    world = World(DELAYS)
    world.stage.run(IngestMessage(url=URL))
    world.ingest.take()
    world.clock.advance(minutes=5)
    assert world.stage.run(IngestMessage(url=URL, force=True)).outcome is Outcome.UNCHANGED
    assert world.ingest.sent == []


def test_a_due_refresh_of_a_changed_page_stores_a_new_version_and_goes_on() -> None:
    texts = iter(["The ferry trial began. " * 10, "The ferry trial was extended to Friday. " * 10])

    def parse_next(html: str | bytes, url: str | None = None, *, charset: str | None = None) -> Any:
        return fake_parse(html, url).model_copy(update={"text": next(texts)})

    world = World(DELAYS, parse=parse_next)
    world.stage.run(IngestMessage(url=URL))
    refresh, _ = world.ingest.take()
    world.clock.advance(hours=2)
    world.fetcher.etag = '"v2"'  # the page changed: a 200 with a new text

    assert world.stage.run(refresh).outcome is Outcome.FETCHED
    (stored,) = world.articles.records.values()
    assert stored.version == 2 and stored.checked_at is None
    following, _ = world.ingest.take()
    assert following.refresh_step == 1 and world.ingest.sent == []


def test_a_refresh_of_a_page_now_gone_keeps_the_stored_article() -> None:
    # GIVEN a stored article whose page is gone (404) by the time its refresh is due
    world = World(DELAYS)
    world.stage.run(IngestMessage(url=URL))
    stored = world.articles.records[next(iter(world.articles.records))]
    refresh, _ = world.ingest.take()
    del world.fetcher.pages[URL]
    world.clock.advance(hours=1)
    # WHEN the refresh runs
    result = world.stage.run(refresh)
    # THEN the article stays as it was (not FAILED), the reason is reported, the chain ends
    assert result.outcome is Outcome.SKIPPED
    assert result.failure is not None and result.failure.http_status == 404
    assert world.articles.records[stored.article_id].status is stored.status
    assert world.ingest.sent == []
