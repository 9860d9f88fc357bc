"""Every source kind is recognised from its content and read; hostile documents are refused."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from newsflow.errors import PermanentError, Reason
from newsflow.sources.models import SourceKind
from newsflow.sources.parsing import parse_source

from .conftest import fixture_bytes

CAP = 1024 * 1024


def _parse(name: str) -> tuple[SourceKind, str, list[tuple[str, str | None, datetime | None]]]:
    parsed = parse_source(fixture_bytes(name), max_bytes=CAP)
    return parsed.kind, parsed.format, [(e.link, e.title, e.published) for e in parsed.entries]


@pytest.mark.parametrize(
    ("name", "kind", "version"),
    [
        ("rss091.xml", SourceKind.RSS, "rss091u"),
        ("rss10.rdf", SourceKind.RSS, "rss10"),
        ("rss20.xml", SourceKind.RSS, "rss20"),
        ("atom.xml", SourceKind.ATOM, "atom10"),
        ("feed.json", SourceKind.JSON_FEED, "json_feed1.1"),
        ("sitemap.xml", SourceKind.SITEMAP, "sitemap"),
        ("sitemap_index.xml", SourceKind.SITEMAP_INDEX, "sitemap_index"),
        ("news_sitemap.xml", SourceKind.NEWS_SITEMAP, "news_sitemap"),
    ],
)
def test_each_kind_is_detected_from_the_content(name: str, kind: SourceKind, version: str) -> None:
    # GIVEN a document of each kind, WHEN parsed without being told its kind
    detected, fmt, _ = _parse(name)
    # THEN the kind and version are recognised
    assert (detected, fmt) == (kind, version)


def test_rss_entries_keep_link_title_and_date_and_a_broken_date_is_none() -> None:
    _, _, entries = _parse("rss20.xml")
    assert entries == [
        (
            "https://news.example/2025/12/01/bridge",
            "Council approves harbour bridge",
            datetime(2025, 12, 1, 8, 30, tzinfo=UTC),
        ),
        # whitespace folded; a date no one can read is no date, not an error
        ("https://news.example/2025/11/30/quotas?utm_source=rss", "Fishing quotas cut again", None),
    ]


def test_rss_091_and_10_entries() -> None:
    assert [link for link, _, _ in _parse("rss091.xml")[2]] == [
        "http://news.example/2025/bridge-vote",
        "http://news.example/2025/ferry",
    ]
    assert _parse("rss10.rdf")[2] == [
        (
            "http://news.example/2025/harbour-report",
            "Harbour report published",
            datetime(2025, 11, 30, 9, 15, tzinfo=UTC),
        )
    ]


def test_atom_uses_the_alternate_link_and_the_published_date() -> None:
    assert _parse("atom.xml")[2] == [
        (
            "https://news.example/2025/12/01/bridge",
            "Council approves harbour bridge",
            datetime(2025, 12, 1, 7, 30, tzinfo=UTC),
        ),
        (
            "https://news.example/2025/11/29/lighthouse",
            "Lighthouse reopens",
            datetime(2025, 11, 29, 12, 0, tzinfo=UTC),
        ),
    ]


def test_json_feed_takes_url_or_external_url_and_skips_items_without_either() -> None:
    assert _parse("feed.json")[2] == [
        (
            "https://news.example/2025/12/01/bridge",
            "Council approves harbour bridge",
            datetime(2025, 12, 1, 8, 30, tzinfo=UTC),
        ),
        ("https://other.example/op-ed", "An op-ed", None),
    ]


def test_sitemap_lastmod_is_the_date_and_empty_locations_are_skipped() -> None:
    assert _parse("sitemap.xml")[2] == [
        ("https://news.example/2025/12/01/bridge", None, datetime(2025, 12, 1, tzinfo=UTC)),
        ("https://news.example/2025/11/29/lighthouse", None, None),
    ]


def test_news_sitemap_gives_title_and_publication_date() -> None:
    assert _parse("news_sitemap.xml")[2] == [
        (
            "https://news.example/2025/12/01/bridge",
            "Council approves harbour bridge",
            datetime(2025, 12, 1, 7, 30, tzinfo=UTC),
        )
    ]


def test_sitemap_index_lists_its_children() -> None:
    parsed = parse_source(fixture_bytes("sitemap_index.xml"), max_bytes=CAP)
    assert parsed.sitemaps == ["/sitemaps/news.xml", "/sitemaps/archive.xml.gz"]
    assert parsed.entries == []


def test_a_gzip_sitemap_is_inflated() -> None:
    parsed = parse_source(gzip.compress(fixture_bytes("sitemap.xml")), max_bytes=CAP)
    assert parsed.kind is SourceKind.SITEMAP
    assert len(parsed.entries) == 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (fixture_bytes("html_page.html"), "an HTML page"),
        (b"just some text, not a document", "not XML"),
        (b"<urlset><url><loc>https://news.example/a", "not well-formed XML"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "<svg>"),
        (b'{"title": "an API answer"}', "not a JSON Feed"),
        (b"{not json", "not a JSON Feed"),
        (b"   ", "empty"),
        (fixture_bytes("billion_laughs.xml"), "declares XML entities"),
        (fixture_bytes("xxe.xml"), "declares XML entities"),
        (b"\x1f\x8b\x08\x00garbage", "broken gzip"),
    ],
)
def test_documents_that_are_no_feed_are_refused_with_a_reason(body: bytes, words: str) -> None:
    # GIVEN a body that is no feed or sitemap (or a hostile one)
    # WHEN parsed THEN it is refused as not_a_feed, with a sentence saying why
    with pytest.raises(PermanentError) as caught:
        parse_source(body, max_bytes=CAP)
    assert caught.value.reason is Reason.NOT_A_FEED
    assert words in caught.value.detail


def test_a_gzip_bomb_stops_at_the_cap() -> None:
    # GIVEN 8 MiB of zeros gzipped into a few KiB
    bomb = gzip.compress(b"<urlset>" + b" " * (8 * 1024 * 1024))
    with pytest.raises(PermanentError) as caught:
        parse_source(bomb, max_bytes=CAP)
    assert caught.value.reason is Reason.TOO_LARGE
