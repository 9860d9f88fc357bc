"""The poll use case against a loopback feed server: conditional GET, first-poll cap,
exactly-once pushes, sitemap indexes, and bad sources that back off without harming others."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from newsflow.fetching import SafeFetcher
from newsflow.models import parse_ingest_body
from newsflow.settings import FetchPolicy
from newsflow.sources.models import Source, SourceKind, source_id_for
from newsflow.sources.polling import PollLimits, SourcePoller, queue_due_sources
from newsflow.urls import article_id_for, canonicalize_url

from .conftest import FeedServer, MemoryQueue, MemorySources, fixture_bytes
from .feeds import links, rss, sitemap, sitemap_index

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table() -> MemorySources:
    return MemorySources()


@pytest.fixture
def queue() -> MemoryQueue:
    return MemoryQueue()


@pytest.fixture
def poller(fetcher: SafeFetcher, table: MemorySources, queue: MemoryQueue, clock: Clock):
    return SourcePoller(
        fetcher=fetcher,
        table=table,
        ingest=queue,
        limits=PollLimits(first_poll_max_entries=5, max_document_bytes=256 * 1024),
        clock=clock,
    )


def _source(url: str, table: MemorySources, **fields: object) -> Source:
    source = Source.model_validate(
        {"source_id": source_id_for(url), "url": url, "created_at": NOW, "next_poll_at": NOW}
        | fields
    )
    table.sources[source.source_id] = source
    return source


def _pushed_urls(queue: MemoryQueue) -> list[str]:
    return [parse_ingest_body(body).url for body in queue.bodies]


# --------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize(
    ("name", "content_type", "kind"),
    [
        ("rss091.xml", "application/rss+xml", SourceKind.RSS),
        ("rss10.rdf", "application/rdf+xml", SourceKind.RSS),
        ("rss20.xml", "application/rss+xml", SourceKind.RSS),
        ("atom.xml", "application/atom+xml", SourceKind.ATOM),
        ("feed.json", "application/feed+json", SourceKind.JSON_FEED),
        ("sitemap.xml", "application/xml", SourceKind.SITEMAP),
        ("news_sitemap.xml", "application/xml", SourceKind.NEWS_SITEMAP),
    ],
)
def test_every_kind_is_polled_and_its_kind_recorded(
    feed_server: FeedServer, poller, table, queue, name: str, content_type: str, kind
) -> None:
    url = feed_server.serve(f"/{name}", fixture_bytes(name), content_type=content_type)
    result = poller.poll(_source(url, table))
    assert not result.failed, result.source.last_error
    assert result.source.kind is kind
    assert len(queue.bodies) == len(result.pushed) > 0


def test_ingest_messages_carry_link_source_id_title_and_date(
    feed_server: FeedServer, poller, table, queue
) -> None:
    url = feed_server.serve("/rss", fixture_bytes("rss20.xml"))
    source = _source(url, table)
    poller.poll(source)
    first = json.loads(queue.bodies[0])
    assert first == {
        "url": "https://news.example/2025/12/01/bridge",
        "source": source.source_id,
        "metadata": {
            "title": "Council approves harbour bridge",
            "published": "2025-12-01T08:30:00+00:00",
        },
    }
    # the entry with a broken date has a title and no date
    assert json.loads(queue.bodies[1])["metadata"] == {"title": "Fishing quotas cut again"}


def test_a_second_poll_sends_validators_and_a_304_costs_no_parse_and_no_entry_write(
    feed_server: FeedServer, poller, table, queue, clock
) -> None:
    # GIVEN a source polled once
    url = feed_server.serve("/rss", rss(links("a", 3)), etag='"e1"')
    source = _source(url, table)
    poller.poll(source)
    writes_after_first = (table.seen_writes, len(queue.bodies))
    # WHEN it is polled again and the feed has not changed
    clock.now += timedelta(minutes=10)
    result = poller.poll(table.sources[source.source_id])
    # THEN the GET was conditional, the answer 304, and nothing was written per entry
    assert feed_server.requests[-1][1]["If-None-Match"] == '"e1"'
    assert result.outcome == "not_modified"
    assert (table.seen_writes, len(queue.bodies)) == writes_after_first
    assert result.source.not_modified == 1
    assert result.source.next_poll_at == clock.now + timedelta(seconds=300)


def test_a_server_without_validators_and_the_same_bytes_costs_no_parse(
    feed_server: FeedServer, poller, table, queue, clock
) -> None:
    url = feed_server.serve("/rss", rss(links("a", 3)), etag=None, last_modified=None)
    source = _source(url, table)
    poller.poll(source)
    seen_writes = table.seen_writes
    clock.now += timedelta(minutes=10)
    result = poller.poll(table.sources[source.source_id])
    assert "If-None-Match" not in feed_server.requests[-1][1]
    assert result.outcome == "unchanged"
    assert result.entries == []  # not parsed
    assert table.seen_writes == seen_writes


def test_the_first_poll_pushes_only_the_newest_n_and_later_polls_only_new_entries(
    feed_server: FeedServer, poller, table, queue, clock
) -> None:
    # GIVEN a new source with 12 entries (first link newest) and a first-poll cap of 5
    feed = links("a", 12)
    url = feed_server.serve("/rss", rss(feed))
    source = _source(url, table)
    # WHEN polled for the first time
    first = poller.poll(source)
    # THEN only the newest 5 are pushed; all 12 are remembered
    assert _pushed_urls(queue) == feed[:5]
    assert first.source.pushed == 5 and first.source.entries == 12
    # WHEN two entries are published and the feed changes
    feed_server.serve("/rss", rss(["https://news.example/b/1", "https://news.example/b/0", *feed]))
    clock.now += timedelta(minutes=10)
    second = poller.poll(table.sources[source.source_id])
    # THEN exactly the two new ones are pushed, once
    assert _pushed_urls(queue)[5:] == ["https://news.example/b/1", "https://news.example/b/0"]
    assert second.outcome == "new"
    # AND a third poll of a changed body with nothing new pushes nothing
    feed_server.serve("/rss", rss(["https://news.example/b/0", *feed]))
    clock.now += timedelta(minutes=10)
    third = poller.poll(table.sources[source.source_id])
    assert third.outcome == "unchanged" and len(queue.bodies) == 7


def test_an_entry_in_two_sources_has_one_article_id(
    feed_server: FeedServer, poller, table, queue
) -> None:
    # GIVEN two feeds sharing one story, spelled differently (tracking parameter)
    shared = "https://news.example/shared"
    one = feed_server.serve("/one", rss([shared, "https://news.example/one"]))
    two = feed_server.serve("/two", rss([shared + "?utm_source=two", "https://news.example/two"]))
    poller.poll(_source(one, table))
    poller.poll(_source(two, table))
    # THEN the shared story's messages name one article id: the fetch stage stores it once
    ids = [article_id_for(canonicalize_url(url)) for url in _pushed_urls(queue)]
    assert len(ids) == 4 and len(set(ids)) == 3


def test_a_sitemap_index_is_followed_including_gzip_children(
    feed_server: FeedServer, poller, table, queue
) -> None:
    feed_server.serve("/sitemaps/news.xml", sitemap(links("n", 2)), content_type="text/xml")
    feed_server.serve(
        "/sitemaps/archive.xml.gz",
        gzip.compress(sitemap(links("z", 2))),
        content_type="application/x-gzip",
    )
    url = feed_server.serve("/index.xml", fixture_bytes("sitemap_index.xml"))
    result = poller.poll(_source(url, table))
    assert result.source.kind is SourceKind.SITEMAP_INDEX
    assert sorted(_pushed_urls(queue)) == sorted(links("n", 2) + links("z", 2))
    assert result.requests == 3


# --------------------------------------------------------------------------- bad sources


def _assert_failed_and_backing_off(result, reason: str, clock: Clock, failures: int = 1) -> None:
    assert result.failed
    assert result.source.last_error.reason == reason
    assert result.source.consecutive_failures == failures
    assert result.source.next_poll_at == clock.now + timedelta(seconds=300 * 2**failures)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"plain words, no markup", "text/plain", "not_a_feed"),
        (fixture_bytes("html_page.html"), "text/html", "not_a_feed"),  # refused by the fetcher
        (fixture_bytes("html_page.html"), "application/xml", "not_a_feed"),  # by the parser
        (fixture_bytes("billion_laughs.xml"), "application/rss+xml", "not_a_feed"),
        (fixture_bytes("xxe.xml"), "application/xml", "not_a_feed"),
        (b"<rss>" + b"x" * (300 * 1024), "application/rss+xml", "too_large"),
    ],
)
def test_a_bad_source_records_the_error_and_backs_off(
    feed_server: FeedServer, poller, table, queue, clock, body, content_type, reason
) -> None:
    url = feed_server.serve("/bad", body, content_type=content_type)
    result = poller.poll(_source(url, table))
    _assert_failed_and_backing_off(result, reason, clock)
    assert queue.bodies == []
    assert table.sources[result.source.source_id] == result.source


def test_the_backoff_grows_with_consecutive_failures_and_resets_on_success(
    feed_server: FeedServer, poller, table, clock
) -> None:
    url = feed_server.serve("/flaky", b"nope", content_type="text/plain")
    source = _source(url, table)
    for failures in (1, 2, 3):
        result = poller.poll(table.sources[source.source_id])
        _assert_failed_and_backing_off(result, "not_a_feed", clock, failures)
        clock.now = result.source.next_poll_at
    feed_server.serve("/flaky", rss(links("a", 1)))
    healed = poller.poll(table.sources[source.source_id])
    assert not healed.failed and healed.source.consecutive_failures == 0
    assert healed.source.last_error is None
    assert healed.source.next_poll_at == clock.now + timedelta(seconds=300)


def test_a_redirect_loop_is_a_recorded_failure(feed_server: FeedServer, poller, table, clock):
    feed_server.serve("/loop", b"", status=302, location="/loop")
    result = poller.poll(_source(feed_server.url("/loop"), table))
    _assert_failed_and_backing_off(result, "too_many_redirects", clock)


def test_an_endless_chain_of_sitemap_indexes_stops_at_the_depth_bound(
    feed_server: FeedServer, poller, table, queue, clock
) -> None:
    # GIVEN indexes that each point to the next one, forever
    for depth in range(10):
        feed_server.serve(f"/idx/{depth}", sitemap_index([f"/idx/{depth + 1}"]))
    result = poller.poll(_source(feed_server.url("/idx/0"), table))
    # THEN the poll stops after the depth bound and records why
    _assert_failed_and_backing_off(result, "not_a_feed", clock)
    assert "nested deeper than 2" in result.source.last_error.detail
    assert result.requests <= 3


def test_a_sitemap_index_listing_itself_is_read_once(feed_server: FeedServer, poller, table):
    url = feed_server.url("/self.xml")
    feed_server.serve("/self.xml", sitemap_index([url, "/child.xml"]))
    feed_server.serve("/child.xml", sitemap(links("c", 1)))
    result = poller.poll(_source(url, table))
    assert not result.failed and feed_server.hits("/self.xml") == 1


def test_a_bad_source_leaves_the_others_untouched(
    feed_server: FeedServer, poller, table, queue
) -> None:
    good = _source(feed_server.serve("/good", rss(links("g", 2))), table)
    bad = _source(feed_server.serve("/bad", b"\x00\x01binary", content_type="image/png"), table)
    results = [poller.poll(good), poller.poll(bad)]
    assert [r.failed for r in results] == [False, True]
    assert _pushed_urls(queue) == links("g", 2)


def test_the_schedule_queues_each_due_source_once(table, queue) -> None:
    due = _source("https://news.example/due.xml", table)
    _source("https://news.example/later.xml", table, next_poll_at=NOW + timedelta(minutes=5))
    lease = timedelta(minutes=15)
    assert queue_due_sources(table, queue, now=NOW, lease=lease) == [due.source_id]
    # a second tick while the poll is in flight does not queue it again
    assert queue_due_sources(table, queue, now=NOW + timedelta(minutes=1), lease=lease) == []
    assert [json.loads(b) for b in queue.bodies] == [{"source_id": due.source_id}]


class _BusyHost:
    """A fetcher whose host asks to wait (as the polite fetcher raises it)."""

    def fetch(self, url: str, **_: object):
        from newsflow.politeness import HostNotReadyError

        raise HostNotReadyError("news.example", 42.0, "Retry-After 42", kind="host_backoff")


def test_a_host_that_asks_to_wait_moves_the_poll_without_a_failure(table, queue, clock) -> None:
    poller = SourcePoller(fetcher=_BusyHost(), table=table, ingest=queue, clock=clock)
    result = poller.poll(_source("https://news.example/feed.xml", table))
    assert result.outcome == "deferred" and not result.failed
    assert result.source.consecutive_failures == 0 and result.source.last_error is None
    assert result.source.next_poll_at == NOW + timedelta(seconds=42)
    assert table.sources[result.source.source_id] == result.source


def test_polls_go_through_the_polite_fetcher_robots_txt_included(
    feed_server: FeedServer, table, queue, clock
) -> None:
    from newsflow.politeness import PoliteFetcher, RobotsPolicy

    class _Gate:
        def wait_for_slot(self, host: str, crawl_delay: float | None = None) -> None:
            return None

        def wait_for_url(self, url: str) -> None:
            return None

    class _NoCache:
        def get(self, origin: str, now: float):
            return None

        def put(self, rules) -> None:
            return None

    policy = FetchPolicy.model_validate({"allow_loopback": True, "timeout_seconds": 3.0})
    feed_server.serve(
        "/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    polite = PoliteFetcher(
        fetcher=SafeFetcher(policy),
        pacer=_Gate(),
        robots=RobotsPolicy(fetcher=SafeFetcher(policy), cache=_NoCache(), user_agent="newsflow"),
    )
    poller = SourcePoller(fetcher=polite, table=table, ingest=queue, clock=clock)
    ok = poller.poll(_source(feed_server.serve("/feed.xml", rss(links("p", 2))), table))
    refused = poller.poll(
        _source(feed_server.serve("/private/feed.xml", rss(links("q", 2))), table)
    )
    assert not ok.failed and len(ok.pushed) == 2
    assert refused.failed and refused.source.last_error.reason == "robots_disallowed"
    assert feed_server.hits("/private/feed.xml") == 0
