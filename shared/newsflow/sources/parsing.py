"""Feeds and sitemaps to entries: kind detection and parsing, defensively.

Every source is untrusted. Before any parser runs, a body that declares entities is refused
(billion laughs, external entities); gzip bodies are inflated under the same byte cap as
downloads; sitemaps are read by lxml with entities, DTDs and the network off and ``huge_tree``
off; feeds by feedparser, handed bytes (it never downloads anything itself); JSON Feed by json
and a pydantic model. Anything that is not a feed or sitemap - an HTML page, broken XML, JSON of
another shape - is a :class:`~newsflow.errors.PermanentError` with reason ``not_a_feed``.
"""

from __future__ import annotations

import calendar
import json
import re
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import feedparser
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.sources.models import Entry, SourceKind

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
GZIP_MAGIC = b"\x1f\x8b"
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)
_FEED_ROOTS = {"rss": SourceKind.RSS, "RDF": SourceKind.RSS, "feed": SourceKind.ATOM}
_SITEMAP_ROOTS = {"urlset": SourceKind.SITEMAP, "sitemapindex": SourceKind.SITEMAP_INDEX}


@dataclass(frozen=True)
class ParsedSource:
    kind: SourceKind
    format: str
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # children of a sitemap index


def not_a_feed(detail: str) -> PermanentError:
    return PermanentError(Reason.NOT_A_FEED, detail, stage=Stage.PARSE)


def parse_source(body: bytes, *, max_bytes: int) -> ParsedSource:
    """Detect what ``body`` is and read its entries; raises ``not_a_feed`` otherwise."""
    if body.startswith(GZIP_MAGIC):
        body = gunzip(body, max_bytes)
    if _ENTITY_DECLARATION.search(body):
        raise not_a_feed("the document declares XML entities: refused (entity expansion, XXE)")
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise not_a_feed("the document is empty")
    if head.startswith((b"{", b"[")):
        return _parse_json_feed(head)
    if _HTML_START.match(head[:4096]):
        raise not_a_feed("an HTML page, not a feed or sitemap")
    root_name = _root_name(body)
    if root_name in _SITEMAP_ROOTS:
        return _parse_sitemap(body, _SITEMAP_ROOTS[root_name])
    if root_name in _FEED_ROOTS:
        return _parse_feed(body)
    raise not_a_feed(f"XML whose root element <{root_name}> is no feed or sitemap")


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """Inflate a gzip body, refusing more than ``max_bytes`` of output (a gzip bomb stops)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise not_a_feed(f"broken gzip data: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise PermanentError(
            Reason.TOO_LARGE, f"gzip inflates to more than {max_bytes:,} bytes", stage=Stage.PARSE
        )
    if not inflater.eof:
        raise not_a_feed("broken gzip data: the stream ends before its end marker")
    return out


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse_xml(body: bytes) -> Any:
    try:
        return etree.fromstring(body, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        raise not_a_feed(f"not well-formed XML: {exc}") from exc


def _root_name(body: bytes) -> str:
    """The local name of the root element, read from the first start tag only."""
    events = etree.iterparse(
        _Bytes(body), events=("start",), resolve_entities=False, no_network=True, load_dtd=False
    )
    try:
        for _, element in events:
            return str(etree.QName(element).localname)
    except etree.XMLSyntaxError as exc:
        raise not_a_feed(f"not XML: {exc}") from exc
    raise not_a_feed("not XML: no root element")


class _Bytes:
    """A file-like view of bytes for iterparse, read in small pieces."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        size = 16384 if size < 0 else min(size, 16384)
        piece = self._data[self._at : self._at + size]
        self._at += len(piece)
        return piece


# --------------------------------------------------------------------------- sitemaps


def _parse_sitemap(body: bytes, kind: SourceKind) -> ParsedSource:
    root = _parse_xml(body)
    if kind is SourceKind.SITEMAP_INDEX:
        locs = [_text(node, "loc") for node in _children(root, "sitemap")]
        return ParsedSource(kind, "sitemap_index", sitemaps=[loc for loc in locs if loc])
    entries: list[Entry] = []
    news = False
    for node in _children(root, "url"):
        loc = _text(node, "loc")
        if not loc:
            continue
        news_node = node.find(f"{{{NEWS_NS}}}news")
        if news_node is not None:
            news = True
            title = _text(news_node, "title", NEWS_NS)
            published = parse_date(_text(news_node, "publication_date", NEWS_NS))
        else:
            title, published = None, parse_date(_text(node, "lastmod"))
        entries.append(Entry(link=loc, title=title, published=published))
    if news:
        return ParsedSource(SourceKind.NEWS_SITEMAP, "news_sitemap", entries)
    return ParsedSource(kind, "sitemap", entries)


def _children(root: Any, name: str) -> list[Any]:
    return [child for child in root if etree.QName(child).localname == name]


def _text(node: Any, name: str, namespace: str | None = None) -> str | None:
    for child in node:
        qname = etree.QName(child)
        if qname.localname == name and (namespace is None or qname.namespace == namespace):
            return (child.text or "").strip() or None
    return None


def parse_date(text: str | None) -> datetime | None:
    """A W3C/ISO 8601 date or date-time; a broken one is ``None``, never an error."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- feeds


def _parse_feed(body: bytes) -> ParsedSource:
    # Bytes in, so feedparser never opens a URL; no sanitising or URI rewriting: only links,
    # titles and dates are used.
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    version = str(parsed.get("version") or "")
    if not version:
        problem = parsed.get("bozo_exception")
        raise not_a_feed(f"not a feed feedparser recognises ({problem or 'unknown format'})")
    kind = SourceKind.ATOM if version.startswith("atom") else SourceKind.RSS
    entries = [
        Entry(link=str(link), title=_clean(item.get("title")), published=_feed_date(item))
        for item in parsed.entries
        if (link := item.get("link") or _alternate_link(item))
    ]
    return ParsedSource(kind, version, entries)


def _alternate_link(item: Any) -> str | None:
    for link in item.get("links", []):
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return str(link["href"])
    return None


def _feed_date(item: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = item.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                return None
    return None


def _clean(value: object) -> str | None:
    text = " ".join(str(value).split()) if value else ""
    return text[:1024] or None


# --------------------------------------------------------------------------- JSON Feed


class _JsonFeedItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: object = None
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    date_published: str | None = None
    date_modified: str | None = None


class _JsonFeed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Annotated[str, Field(pattern=r"^https?://jsonfeed\.org/version/")]
    items: list[_JsonFeedItem]


def _parse_json_feed(body: bytes) -> ParsedSource:
    try:
        feed = _JsonFeed.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise not_a_feed(f"JSON, but not a JSON Feed: {str(exc).splitlines()[0]}") from exc
    entries = [
        Entry(
            link=link,
            title=_clean(item.title),
            published=parse_date(item.date_published or item.date_modified),
        )
        for item in feed.items
        if (link := item.url or item.external_url)
    ]
    version = feed.version.rstrip("/").rsplit("/", 1)[-1]
    return ParsedSource(SourceKind.JSON_FEED, f"json_feed{version}", entries)
