"""Sample feeds and sitemaps for the page server, so sources are polled over real HTTP too.

Links must carry the server's port, so the documents are written per request from a few sample
articles. Each document has an ETag and a Last-Modified, and a conditional request that matches
gets ``304 Not Modified``, as a well-behaved publisher answers.

* ``/feeds/news.xml`` - RSS 2.0: one article no other sample input lists (the feed brings it in)
  and two the demo already pushed as URLs (pushed again, stored once);
* ``/feeds/news.json`` - the same entries as a JSON Feed;
* ``/sitemap.xml`` - a sitemap index pointing at ``/sitemaps/news.xml.gz``, a gzip Google News
  sitemap of the same articles.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

LAST_MODIFIED = "Sun, 22 Nov 2026 08:00:00 GMT"
FEED_PATH = "/feeds/news.xml"
JSON_FEED_PATH = "/feeds/news.json"
SITEMAP_INDEX_PATH = "/sitemap.xml"
NEWS_SITEMAP_PATH = "/sitemaps/news.xml.gz"
SAMPLE_FEED_PATHS = (FEED_PATH, JSON_FEED_PATH, SITEMAP_INDEX_PATH)


@dataclass(frozen=True)
class _Story:
    path: str
    title: str
    published: str  # RFC 3339
    rfc822: str


STORIES = (
    _Story(
        "/news/night-ferry-returns.html",
        "Night ferry to the islands returns after four years",
        "2026-11-22T07:45:00Z",
        "Sun, 22 Nov 2026 07:45:00 GMT",
    ),
    _Story(
        "/news/warehouse-fire.html",
        "Two firefighters injured as blaze destroys Leeds warehouse",
        "2026-11-21T06:20:00Z",
        "Sat, 21 Nov 2026 06:20:00 GMT",
    ),
    _Story(
        "/news/solar-ferry-trial.html",
        "Bristol approves year-long solar ferry trial on the Avon",
        "2026-11-18T07:45:00Z",
        "Wed, 18 Nov 2026 07:45:00 GMT",
    ),
)


def _rss(base: str) -> bytes:
    items = "".join(
        f"<item><title>{escape(s.title)}</title><link>{base}{s.path}</link>"
        f"<guid>{base}{s.path}</guid><pubDate>{s.rfc822}</pubDate></item>"
        for s in STORIES
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Northern Ledger</title><link>{base}/</link>"
        f"<description>Sample news feed</description>{items}</channel></rss>"
    ).encode()


def _json_feed(base: str) -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Northern Ledger",
        "items": [
            {
                "id": s.path,
                "url": f"{base}{s.path}",
                "title": s.title,
                "date_published": s.published,
            }
            for s in STORIES
        ],
    }
    return json.dumps(feed).encode()


def _sitemap_index(base: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}{NEWS_SITEMAP_PATH}</loc></sitemap></sitemapindex>"
    ).encode()


def _news_sitemap(base: str) -> bytes:
    urls = "".join(
        f"<url><loc>{base}{s.path}</loc><news:news><news:publication><news:name>Northern Ledger"
        "</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{s.published}</news:publication_date>"
        f"<news:title>{escape(s.title)}</news:title></news:news></url>"
        for s in STORIES
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{urls}</urlset>"
    ).encode()
    return gzip.compress(document, mtime=0)


_DOCUMENTS = {
    FEED_PATH: ("application/rss+xml; charset=utf-8", _rss),
    JSON_FEED_PATH: ("application/feed+json", _json_feed),
    SITEMAP_INDEX_PATH: ("application/xml", _sitemap_index),
    NEWS_SITEMAP_PATH: ("application/x-gzip", _news_sitemap),
}


def respond(
    path: str, base_url: str, headers: Mapping[str, str]
) -> tuple[int, dict[str, str], bytes] | None:
    """The sample document at ``path`` (or 304 to a matching conditional GET); ``None`` when
    ``path`` is not one of them."""
    found = _DOCUMENTS.get(path)
    if found is None:
        return None
    content_type, render = found
    body = render(base_url)
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
    lowered = {name.lower(): value for name, value in headers.items()}
    match = lowered.get("if-none-match")
    unchanged = match == etag if match else lowered.get("if-modified-since") == LAST_MODIFIED
    if unchanged:
        return 304, validators, b""
    return 200, {"Content-Type": content_type, **validators}, body
