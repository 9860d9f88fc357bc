"""HTML to :class:`~newsflow.models.ParsedArticle`: main text, metadata, language.

Pure and offline: no network, no clock beyond "today" (to refuse publication dates in the
future), no AWS. The fetch stage hands over the bytes it received and the charset of the
``Content-Type`` header; everything else is read from the page.

Cost model. trafilatura's ``extract`` parses the page once and runs its extractor cascade; asking
it for metadata as well (``with_metadata=True``) roughly doubles the cost on news pages, mostly in
the markup author search (a deep copy of the tree plus regular-expression XPaths over every
element), the category/tag XPaths and htmldate's extensive date search. Here the page is parsed
once, the extractor works on its own copy of that tree, and the metadata is read from the
untouched tree with the cheap parts of trafilatura (meta tags, JSON-LD, title), htmldate in its
fast mode (meta, JSON-LD, URL, ``<time>`` and precise patterns; no guessing from stray years),
and, only for what those leave empty, one attribute-level XPath each for bylines and for
rel-tag category/tag links.

What can go wrong: pages without a main text (listings, shop grids, empty bodies) raise
``PermanentError(nothing_extracted)``; undecodable bytes never raise (see
:mod:`newsflow.charset`); trafilatura failures on pathological markup (recursion limits)
become ``nothing_extracted`` too, since re-parsing the same bytes cannot help. The metadata
helpers imported from ``trafilatura.metadata`` are module functions rather than its documented
API: a trafilatura upgrade can move them, and the fixture-page tests are what will say so.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urljoin

import trafilatura
from htmldate import find_date
from lxml import etree
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import (
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document
from trafilatura.utils import HTML_PARSER

from newsflow.charset import decode_html
from newsflow.errors import PermanentError, Reason, Stage
from newsflow.language import detect_language
from newsflow.models import ExtractorInfo, ParsedArticle
from newsflow.parse_bounds import ParseBudget, check_markup
from newsflow.settings import PARSE_BUDGET_SECONDS
from newsflow.text import count_words
from newsflow.urls import article_id_for, canonicalize_url, domain_of

__all__ = ["clean_text", "count_words", "decode_html", "normalise_author", "parse_html"]

LOGGER = logging.getLogger(__name__)

EXTRACTOR_NAME: Final = "trafilatura"
EXTRACTOR_VERSION: Final = trafilatura.__version__

# A page whose extracted text has fewer words than this in prose lines (lines of at least
# MIN_PROSE_LINE_WORDS words) is a listing, a menu or an error page, not an article.
MIN_PROSE_LINE_WORDS: Final = 7
MIN_ARTICLE_WORDS: Final = 15

MAX_AUTHOR_LENGTH: Final = 200
# Longer one-line fields are cut (and named in ``ParsedArticle.truncated``): a 455 KB <h1> is
# no headline, and every later stage would carry it.
MAX_FIELD_CHARS: Final = {"title": 1_000, "site_name": 200, "description": 2_000, "image": 2_048}
MAX_LIST_ITEMS: Final = 25
MAX_LIST_ITEM_LENGTH: Final = 100

# lxml refuses text that carries an encoding declaration (see ``parse_html``).
_XML_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>", re.IGNORECASE)

# ----------------------------------------------------------------------------- text

# HTML shown as text (double-escaped markup, quoted tags) would reach the text as real tags.
# Only HTML element names count, and an opening tag with more than its name must carry an
# attribute ("="): prose in angle brackets ("<Nulla dies sine linea>", ``File "<stdin>"``,
# "<a la carte>") stays.
_HTML_ELEMENTS = (
    "a|abbr|address|applet|area|article|aside|audio|b|base|basefont|bdi|bdo|big|blink|blockquote"
    "|body|br|button|canvas|caption|center|cite|code|col|colgroup|data|datalist|dd|del|details"
    "|dfn|dialog|div|dl|dt|em|embed|fieldset|figcaption|figure|font|footer|form|frame|frameset"
    "|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|legend|li|link|main|map|mark"
    "|marquee|math|menu|meta|meter|nav|noframes|noscript|object|ol|optgroup|option|output|p"
    "|param|picture|pre|progress|q|rp|rt|ruby|s|samp|script|section|select|small|source|span"
    "|strike|strong|style|sub|summary|sup|svg|table|tbody|td|template|textarea|tfoot|th|thead"
    "|time|title|tr|track|tt|u|ul|var|video|wbr"
)
# Linear on any text (pages show runs like "&lt;a x=x=x=..." or "&lt;!-- &lt;!-- ..."): a
# comment stops at the next "<!--" as well as at "-->", and a tag's first "=" is found by
# ``[^<>=]*=``, which has one way to match; so each attempt ends at the next "<".
_TAG_LIKE = re.compile(
    rf"<!--(?:(?!<!--|-->).)*-->|</?(?:{_HTML_ELEMENTS})\s*/?>"
    rf"|<(?:{_HTML_ELEMENTS})\s[^<>=]*=[^<>]*>",
    re.IGNORECASE | re.DOTALL,
)
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff]")
_INLINE_SPACE = re.compile(r"\s+")


def clean_text(raw: str) -> str:
    """Plain text with one paragraph per line: no markup, no blank lines, single spaces.

    Markup-looking sequences are dropped even when the page showed them as text: downstream
    consumers treat ``text`` as prose, never as HTML.
    """
    text = unicodedata.normalize("NFC", raw)
    text = _INVISIBLE.sub("", _TAG_LIKE.sub(" ", text))
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _has_article_text(text: str) -> bool:
    prose_words = 0
    for line in text.splitlines():
        words = count_words(line)
        if words >= MIN_PROSE_LINE_WORDS:
            prose_words += words
            if prose_words >= MIN_ARTICLE_WORDS:
                return True
    return False


def _one_line(value: str | None, limit: int | None = None) -> str | None:
    if not value:
        return None
    text = _INLINE_SPACE.sub(" ", _INVISIBLE.sub("", unicodedata.normalize("NFC", value))).strip()
    if limit is not None and len(text) > limit:
        return None
    return text or None


# ----------------------------------------------------------------------------- metadata

# "By", "Written by", and author-archive link texts ("View all posts by", "Alle Beiträge von").
_AUTHOR_PREFIX = re.compile(
    r"^(?:(?:(?:view|see|show|zeige)\s+)?(?:all\s+|alle\s+)?"
    r"(?:posts|articles|stories|beiträge|artikel)\s+(?:by|von)\s+"
    r"|(?:(?:written|posted|words)\s+)?by\s*[:\-]?\s+)",
    re.IGNORECASE,
)


def normalise_author(value: str | None) -> str | None:
    """``"By  Jane Doe; John Roe"`` -> ``"Jane Doe; John Roe"``: prefixes, spacing, duplicates.

    Several authors stay joined by ``"; "`` (trafilatura's convention).
    """
    if not value:
        return None
    names: list[str] = []
    for part in value.split(";"):
        name = _one_line(_AUTHOR_PREFIX.sub("", _one_line(part) or ""))
        if name and name.isupper() and len(name) > 3:
            name = name.title()  # "MORITZ GATHMANN" from an upper-case byline style
        if name and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    joined = "; ".join(names)
    return joined if joined and len(joined) <= MAX_AUTHOR_LENGTH else None


def _parse_published(value: str | None, today: date) -> date | None:
    """ISO date from htmldate, or ``None`` when unparseable or more than a day in the future."""
    if not value:
        return None
    try:
        published = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return published if published <= today + timedelta(days=1) else None


def _clean_list(values: Iterable[str] | None, *, split: bool) -> list[str]:
    items: list[str] = []
    seen: set[str] = set()
    for value in values or ():
        for part in re.split(r"[,;]", value) if split else (value,):
            item = _one_line(part, MAX_LIST_ITEM_LENGTH)
            if item and item.casefold() not in seen:
                seen.add(item.casefold())
                items.append(item)
    return items[:MAX_LIST_ITEMS]


# Markup author search. trafilatura's own (``extract_author``) deep-copies the tree, prunes it
# and runs EXSLT regular expressions over every element: a third of a whole extraction. Here one
# XPath over attribute values with plain ``contains()`` tests (evaluated in C, no element
# proxies) finds the candidates; ranking and exclusions run in Python on those few. Matching
# "uthor"/"yline" covers "author"/"Author" and "byline"/"Byline"; "autor" and "auteur" are the
# German/Spanish/Portuguese/Polish and French words.
_AUTHOR_ATTRIBUTES = etree.XPath(
    "//@class[contains(.,'uthor') or contains(.,'yline') or contains(.,'autor')"
    " or contains(.,'auteur')] | //@rel[.='author'] | //@itemprop[contains(.,'uthor')]"
    " | //@id[contains(.,'uthor')]"
)
_AUTHOR_NAME_CLASSES: Final = ("author-name", "authorname", "author_name", "author__name")
# Other people's names: commenters, authors of related stories, sidebars.
_AUTHOR_EXCLUDED_AREAS = re.compile(r"comment|sidebar|related|respond", re.IGNORECASE)
# Site-wide link lists: tag clouds, menus, sidebars.
_TAXONOMY_EXCLUDED_AREAS = re.compile(r"cloud|menu|sidebar|related|comment", re.IGNORECASE)
_AUTHOR_SKIPPED_TAGS: Final = frozenset(
    {"time", "script", "style", "figure", "img", "button", "svg", "noscript", "link", "meta"}
)
_AUTHOR_MAX_CHARS: Final = 120
_AUTHOR_MAX_CANDIDATES: Final = 200


def _author_rank(element: Any) -> int:
    classes = (element.get("class") or "").lower()
    if element.get("rel") == "author" or "author" in (element.get("itemprop") or "").lower():
        return 0
    if any(name in classes for name in _AUTHOR_NAME_CLASSES):
        return 1
    if any(word in classes for word in ("author", "autor", "auteur")):
        return 2
    return 3  # byline


def _in_excluded_area(element: Any, areas: re.Pattern[str] = _AUTHOR_EXCLUDED_AREAS) -> bool:
    """In navigation, an aside, the site footer (an article's own footer is fine), or an area
    whose class or id matches ``areas``."""
    nodes = (element, *element.iterancestors())
    in_article = any(node.tag == "article" for node in nodes)
    for node in nodes:
        marks = f"{node.get('class') or ''} {node.get('id') or ''}"
        if node.tag in ("nav", "aside") or (node.tag == "footer" and not in_article):
            return True
        if areas.search(marks):
            return True
    return False


def _visible_text(element: Any) -> str:
    """Text of an element without dates, images and scripts (tails of skipped children kept)."""

    def walk(node: Any) -> Iterator[str]:
        if node.text:
            yield node.text
        for child in node:
            if isinstance(child.tag, str) and child.tag not in _AUTHOR_SKIPPED_TAGS:
                yield from walk(child)
            if child.tail:
                yield child.tail

    return " ".join(" ".join(walk(element)).split())


def _author_from_markup(tree: Any) -> str | None:
    """Byline from markup, for pages whose meta tags and JSON-LD name nobody."""
    found = dict.fromkeys(attribute.getparent() for attribute in _AUTHOR_ATTRIBUTES(tree))
    elements = list(found)[:_AUTHOR_MAX_CANDIDATES]  # each costs a walk up its ancestors
    for element in sorted(elements, key=_author_rank):  # stable: document order within a rank
        if element.tag in _AUTHOR_SKIPPED_TAGS or _in_excluded_area(element):
            continue
        text = _visible_text(element)
        if 2 < len(text) < _AUTHOR_MAX_CHARS:
            author = normalize_authors(None, text)
            if author:
                return author
    return None


# Categories and tags in markup: the rel-tag microformat (WordPress writes rel="category tag"
# and rel="tag"), one cheap pass over ``rel`` attributes instead of trafilatura's regular-
# expression XPaths over post-meta containers (three times the cost, and they collect tag
# clouds as readily).
_TAXONOMY_LINKS = etree.XPath("//@rel[contains(.,'tag') or contains(.,'category')]")


def _taxonomy_from_links(tree: Any) -> tuple[list[str], list[str]]:
    categories: list[str] = []
    tags: list[str] = []
    for rel in _TAXONOMY_LINKS(tree):
        link = rel.getparent()
        if link.tag != "a" or _in_excluded_area(link, _TAXONOMY_EXCLUDED_AREAS):
            continue
        text = _one_line(link.text_content())
        if text:
            is_category = "category" in rel or "/categor" in (link.get("href") or "")
            (categories if is_category else tags).append(text)
    return categories, tags


# Between headline and site name: bar, hyphen, en/em dash, middle dot, colon, guillemet. A match
# starts only where a run of spaces starts, so a title of 40,000 spaces costs one pass, not a
# pass per space.
_TITLE_SEPARATORS = re.compile(r"(?<!\s)\s+[|\-\u2013\u2014\u00b7:\u00bb]\s+")
# Characters of a <title> read for the site name: a headline and a name fit many times over.
_TITLE_TAG_MAX_CHARS: Final = 2_000


def _sitename_from_title_tag(tree: Any, title: str | None) -> str | None:
    """``<title>Headline | Site</title>`` with a known headline gives the site's name."""
    element = tree.find(".//head/title")
    if element is None or not title:
        return None
    title_tag = (element.text_content() or "")[:_TITLE_TAG_MAX_CHARS]
    parts = [p.strip() for p in _TITLE_SEPARATORS.split(title_tag)]
    if len(parts) < 2:
        return None
    if parts[0].casefold() == title.casefold():
        candidate = parts[-1]
    elif parts[-1].casefold() == title.casefold():
        candidate = parts[0]
    else:
        return None
    # A site name is shorter than a headline; otherwise the "title" was the site name itself.
    return candidate if 0 < len(candidate.split()) < len(title.split()) else None


_LANGUAGE_META: Final = frozenset({"content-language", "og:locale", "language", "dc.language"})


def _language_hint(tree: Any) -> str | None:
    root = tree.getroottree().getroot()
    for attribute in ("lang", "xml:lang"):
        value = root.get(attribute)
        if value and value.strip():
            return str(value)
    head = root.find("head")
    for meta in head.iterfind("meta") if head is not None else ():
        key = (meta.get("http-equiv") or meta.get("property") or meta.get("name") or "").lower()
        content = meta.get("content")
        if key in _LANGUAGE_META and content:
            return str(content).split(",")[0]
    return None


@dataclass
class _PageMetadata:
    title: str | None = None
    author: str | None = None
    published: date | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)


def _read_metadata(tree: Any, url: str | None, today: date) -> _PageMetadata:
    """Metadata from the untouched tree; each source is optional and may fail on its own."""
    meta: Document = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # one-word meta authors are site names or handles (trafilatura rule)
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # trafilatura's JSON-LD reader trips over malformed graphs
        LOGGER.debug("JSON-LD metadata unreadable", exc_info=True)
    meta.clean_and_trim()

    title = _one_line(meta.title) or _one_line(extract_title(tree))
    author = normalise_author(meta.author or _author_from_markup(tree))
    try:
        # Always the tree: given a string that looks like a URL, htmldate downloads it.
        found = find_date(
            tree,
            extensive_search=False,
            original_date=True,
            url=url,
            max_date=(today + timedelta(days=1)).isoformat(),
        )
    except Exception:  # htmldate on pathological markup
        LOGGER.debug("date search failed", exc_info=True)
        found = None
    site_name = _one_line(meta.sitename) or _one_line(extract_sitename(tree))
    site_name = site_name or _sitename_from_title_tag(tree, title)
    categories, tags = meta.categories or [], meta.tags or []
    if not categories or not tags:
        linked_categories, linked_tags = _taxonomy_from_links(tree)
        categories, tags = categories or linked_categories, tags or linked_tags
    image = _one_line(meta.image)
    if image and url:
        image = urljoin(url, image)
    return _clamped(
        _PageMetadata(
            title=title,
            author=author,
            published=_parse_published(found, today),
            site_name=site_name.lstrip("@") if site_name else None,
            description=_one_line(meta.description),
            image=image,
            categories=_clean_list(categories, split=False),
            tags=_clean_list(tags, split=True),
        )
    )


def _clamped(meta: _PageMetadata) -> _PageMetadata:
    """``meta`` with each one-line field cut to ``MAX_FIELD_CHARS``, the cut ones named."""
    for name, limit in MAX_FIELD_CHARS.items():
        value = getattr(meta, name)
        if value is not None and len(value) > limit:
            setattr(meta, name, value[:limit].rstrip())
            meta.truncated.append(name)
    return meta


# ----------------------------------------------------------------------------- entry point


# libxml2 stops building the tree 256 levels deep and silently drops everything below, which
# pages with runaway unclosed tags reach. Such pages are re-parsed once without the container
# and inline tags that do the nesting; paragraphs and headings keep the text apart. A tag left
# open ("<b <b <b ...") ends at the next "<": each match stops there, so the pass is linear.
_NESTING_TAGS = re.compile(
    r"</?(?:div|span|font|section|article|main|center|b|i|u|em|strong|small|big|a|blockquote"
    r"|table|tbody|thead|tr|td|th|ul|ol|li|dl|dt|dd|form|label|nav|header|footer|aside)\b"
    r"[^<>]*>?",
    re.IGNORECASE,
)


def _depth_limit_hit() -> bool:
    return any(entry.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for entry in HTML_PARSER.error_log)


def _load_tree(markup: str) -> Any:
    """One parse of the page (two for pathologically nested pages, see ``_NESTING_TAGS``)."""
    tree = trafilatura.load_html(markup)
    if tree is not None and _depth_limit_hit():
        LOGGER.info("page nested deeper than the parser allows; flattening it")
        flattened = trafilatura.load_html(_NESTING_TAGS.sub("\n", markup))
        tree = flattened if flattened is not None else tree
    return tree


def _nothing(detail: str) -> PermanentError:
    return PermanentError(Reason.NOTHING_EXTRACTED, detail, stage=Stage.PARSE)


def _canonical_or_none(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonicalize_url(url)
    except PermanentError:
        return None


def parse_html(
    html: str | bytes,
    url: str | None = None,
    *,
    charset: str | None = None,
    budget_seconds: float = PARSE_BUDGET_SECONDS,
) -> ParsedArticle:
    """Parse one page into a :class:`ParsedArticle` (``final_url``/``fetched_at`` left unset).

    ``html`` may be text or the raw bytes (decoded by :func:`decode_html` with ``charset`` from
    the HTTP header). ``url`` fills ``url``, ``canonical_url``, ``article_id`` and ``domain``;
    a URL that cannot be canonicalised leaves the last three ``None``.

    Raises ``PermanentError(nothing_extracted, stage=parse)`` for an empty document, markup
    that is not HTML, or a page without a main text; ``PermanentError(too_complex)`` for a page
    past the bounds of :mod:`newsflow.parse_bounds` or one that used more than
    ``budget_seconds`` of CPU (checked between the phases).
    """
    markup = decode_html(html, charset) if isinstance(html, bytes) else html
    # lxml refuses text that carries an encoding declaration, and trafilatura's retry re-encodes
    # it to UTF-8 bytes that the declaration would then mislabel.
    markup = _XML_DECLARATION.sub("", markup, count=1)
    if not markup or markup.isspace():
        raise _nothing("empty document")
    check_markup(markup)
    budget = ParseBudget(budget_seconds)
    canonical_url = _canonical_or_none(url)
    tree = _load_tree(markup)
    if tree is None:
        raise _nothing("not an HTML document")
    budget.check("building the tree")
    try:
        # The extractor works on its own copy of ``tree``; the original stays intact for metadata.
        document = trafilatura.bare_extraction(tree, url=canonical_url, include_comments=False)
    except Exception as exc:  # deterministic on these bytes: retrying cannot help
        LOGGER.warning("extractor failed", exc_info=True)
        raise _nothing(f"extractor failed on this markup: {type(exc).__name__}") from exc
    budget.check("extraction")
    raw_text = document.text if isinstance(document, Document) else None
    text = clean_text(raw_text or "")
    if not _has_article_text(text):
        raise _nothing("no main text found (empty page, listing or navigation only)")

    try:
        meta = _read_metadata(tree, canonical_url, datetime.now(UTC).date())
    except Exception:  # the text is the product; metadata is best effort
        LOGGER.warning("metadata unreadable", exc_info=True)
        meta = _PageMetadata()
    budget.check("metadata")
    return ParsedArticle(
        url=url,
        canonical_url=canonical_url,
        article_id=article_id_for(canonical_url) if canonical_url else None,
        domain=domain_of(canonical_url) if canonical_url else None,
        title=meta.title,
        author=meta.author,
        published=meta.published,
        site_name=meta.site_name,
        language=detect_language(text, _language_hint(tree)),
        description=meta.description,
        image=meta.image,
        categories=meta.categories,
        tags=meta.tags,
        text=text,
        word_count=count_words(text),
        extractor=ExtractorInfo(name=EXTRACTOR_NAME, version=EXTRACTOR_VERSION),
        truncated=meta.truncated,
    )
