"""Sources (feeds and sitemaps) and what a poll finds in them, as pydantic models.

A source is polled on a schedule; its item in the table keeps the validators of the last answer
(``ETag``/``Last-Modified``) for the next conditional GET, the digest of the last body, and the
health of the source (last error, consecutive failures) from which the next poll time follows.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from newsflow.urls import canonicalize_url

MIN_INTERVAL_SECONDS = 60
MAX_BACKOFF_SECONDS = 24 * 3600
MAX_BACKOFF_DOUBLINGS = 8


class SourceKind(StrEnum):
    """What a source publishes; RSS covers 0.9x, 1.0 (RDF) and 2.0 (``format`` says which)."""

    RSS = "rss"
    ATOM = "atom"
    JSON_FEED = "json_feed"
    SITEMAP = "sitemap"
    SITEMAP_INDEX = "sitemap_index"
    NEWS_SITEMAP = "news_sitemap"


class SourceError(BaseModel):
    """Why the last poll failed: the same stage/reason/detail vocabulary as articles."""

    stage: str
    reason: str
    detail: str
    http_status: int | None = None
    at: datetime


class Source(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source_id: str
    url: str
    kind: SourceKind | None = None  # detected from the content when not given
    format: str | None = None  # e.g. rss20, rss10, rss091u, atom10, json_feed1.1
    interval_seconds: Annotated[int, Field(ge=MIN_INTERVAL_SECONDS)] = 300
    created_at: datetime
    next_poll_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    content_sha256: str | None = None
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: SourceError | None = None
    consecutive_failures: int = 0
    polls: int = 0
    not_modified: int = 0
    entries: int = 0  # entries in the last document read
    pushed: int = 0  # new entries pushed, all polls together

    @property
    def first_poll(self) -> bool:
        return self.last_success_at is None

    def backoff_seconds(self) -> int:
        """The wait before the next poll: the interval, doubled per consecutive failure."""
        doublings = min(self.consecutive_failures, MAX_BACKOFF_DOUBLINGS)
        return int(min(self.interval_seconds * 2**doublings, MAX_BACKOFF_SECONDS))

    def next_poll_after(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.backoff_seconds())


class Entry(BaseModel):
    """One item of a feed or one URL of a sitemap."""

    link: str  # as written in the source (resolved against the source URL only to push it)
    title: str | None = None
    published: datetime | None = None


class PollMessage(BaseModel):
    """A SourcePollQueue body: which source to poll now."""

    model_config = ConfigDict(extra="forbid")

    source_id: Annotated[str, Field(min_length=1, max_length=64)]


def source_id_for(url: str) -> str:
    """A stable id for a source URL: the same feed under any spelling is one source."""
    return "src-" + hashlib.sha256(canonicalize_url(url).encode()).hexdigest()[:16]
