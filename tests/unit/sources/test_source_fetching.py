"""The fetcher's feed mode and conditional GET: one mechanism beside the HTML mode."""

from __future__ import annotations

import pytest

from newsflow.errors import PermanentError, Reason
from newsflow.fetching import SafeFetcher
from newsflow.fetching.modes import FEED, conditional_headers

from .conftest import FeedServer, fixture_bytes


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml",
        "application/atom+xml; charset=utf-8",
        "application/feed+json",
        "text/xml",
        "application/x-gzip",
        "application/vnd.example+xml",
    ],
)
def test_feed_mode_accepts_feed_and_sitemap_types(
    feed_server: FeedServer, fetcher: SafeFetcher, content_type: str
) -> None:
    url = feed_server.serve("/feed", fixture_bytes("rss20.xml"), content_type=content_type)
    page = fetcher.fetch(url, mode=FEED)
    assert page.status == 200
    assert page.body == fixture_bytes("rss20.xml")


def test_feed_mode_sends_a_feed_accept_header(
    feed_server: FeedServer, fetcher: SafeFetcher
) -> None:
    fetcher.fetch(feed_server.serve("/feed", b"<rss/>"), mode=FEED)
    assert "application/rss+xml" in feed_server.requests[-1][1]["Accept"]


def test_feed_mode_refuses_html_and_images_as_not_a_feed(
    feed_server: FeedServer, fetcher: SafeFetcher
) -> None:
    for path, content_type in (("/page", "text/html"), ("/logo", "image/png")):
        feed_server.serve(path, b"<html></html>", content_type=content_type)
        with pytest.raises(PermanentError) as caught:
            fetcher.fetch(feed_server.url(path), mode=FEED)
        assert caught.value.reason is Reason.NOT_A_FEED
        assert f"content type {content_type} is not a feed or sitemap" in caught.value.detail


def test_html_mode_is_unchanged_for_articles(feed_server: FeedServer, fetcher: SafeFetcher) -> None:
    url = feed_server.serve("/feed", fixture_bytes("rss20.xml"))
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(url)
    assert caught.value.reason is Reason.NOT_HTML


def test_validators_come_back_and_a_conditional_get_gets_304_with_no_body(
    feed_server: FeedServer, fetcher: SafeFetcher
) -> None:
    # GIVEN a feed fetched once: its ETag and Last-Modified come back with it
    url = feed_server.serve("/feed", fixture_bytes("rss20.xml"), etag='"abc"')
    first = fetcher.fetch(url, mode=FEED)
    assert (first.etag, first.last_modified) == ('"abc"', "Mon, 01 Dec 2025 10:00:00 GMT")
    assert not first.not_modified
    # WHEN fetched again with them
    again = fetcher.fetch(
        url, mode=FEED, conditional=conditional_headers(first.etag, first.last_modified)
    )
    # THEN the request was conditional and the answer is 304 with nothing to parse
    sent = feed_server.requests[-1][1]
    assert sent["If-None-Match"] == '"abc"'
    assert sent["If-Modified-Since"] == "Mon, 01 Dec 2025 10:00:00 GMT"
    assert again.not_modified and again.body == b""
    assert again.etag == '"abc"'


def test_a_304_without_a_conditional_request_is_still_an_error(
    feed_server: FeedServer, fetcher: SafeFetcher
) -> None:
    url = feed_server.serve("/odd", b"", status=304)
    with pytest.raises(PermanentError):
        fetcher.fetch(url, mode=FEED)


def test_conditional_headers_leave_out_missing_validators() -> None:
    assert conditional_headers(None, None) == {}
    assert conditional_headers('"x"', None) == {"If-None-Match": '"x"'}
