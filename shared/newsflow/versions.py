"""Re-fetching a stored article: conditional GET, unchanged or a new version, a short history.

A re-fetch (``force``) of an article whose text is stored sends the validators of the last
response (``If-None-Match`` / ``If-Modified-Since``). A ``304``, or a ``200`` whose extracted
text is the same after whitespace normalisation, changes nothing but ``checked_at``. Any other
text is version ``n + 1``: its documents are written beside the earlier ones (see
:func:`newsflow.storage.layout.version_stem`), the article item points to the newest and keeps
the last :data:`MAX_VERSION_HISTORY` versions in ``versions``.
"""

from __future__ import annotations

import inspect
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

from newsflow.models import ArticleRecord, ArticleStatus, ArticleVersion
from newsflow.storage.layout import ENRICHED_PREFIX, document_key, version_stem

if TYPE_CHECKING:
    from newsflow.fetching import FetchedPage

MAX_VERSION_HISTORY: Final = 10


def stored_version(existing: ArticleRecord | None) -> ArticleRecord | None:
    """The version a re-fetch compares with: a complete earlier fetch that has not failed.

    A FAILED article is fetched again in full (its current version rewritten), as before.
    """
    if existing is None or existing.status is ArticleStatus.FAILED:
        return None
    if not (existing.article_key and existing.text_sha256):
        return None
    return existing


def validators_of(record: ArticleRecord | None) -> dict[str, str]:
    """Conditional request headers from the stored response validators (may be empty)."""
    if record is None:
        return {}
    headers = {}
    if record.etag:
        headers["If-None-Match"] = record.etag
    if record.last_modified:
        headers["If-Modified-Since"] = record.last_modified
    return headers


def fetch_page(fetcher: Any, url: str, validators: dict[str, str]) -> FetchedPage:
    """A conditional GET when there are validators and the fetcher takes them.

    ``SafeFetcher.fetch`` takes ``conditional`` headers; a wrapper that does not (yet) gets a
    plain GET, and an unchanged page is then recognised by its text instead of a ``304``.
    """
    if validators and "conditional" in inspect.signature(fetcher.fetch).parameters:
        page: FetchedPage = fetcher.fetch(url, conditional=validators)
        return page
    plain: FetchedPage = fetcher.fetch(url)
    return plain


def version_entry(
    article_id: str,
    version: int,
    article_key: str,
    day: date | datetime,
    text_sha256: str,
    fetched_at: datetime,
) -> ArticleVersion:
    """One history entry; the enriched key is the one the enrich stage will write."""
    return ArticleVersion(
        version=version,
        article_key=article_key,
        enriched_key=document_key(ENRICHED_PREFIX, version_stem(article_id, version), day),
        text_sha256=text_sha256,
        fetched_at=fetched_at,
    )


def with_version(history: list[ArticleVersion], entry: ArticleVersion) -> list[ArticleVersion]:
    """``history`` with ``entry`` replacing any entry of its number, newest last, capped."""
    kept = [old for old in history if old.version != entry.version]
    return sorted([*kept, entry], key=lambda v: v.version)[-MAX_VERSION_HISTORY:]
