"""Content modes: what kind of document a caller accepts from one fetch.

The fetcher's safety rules (addresses, redirects, deadline, body cap) are the same for every
caller; only the answer to "is this body what I asked for" differs. Articles take HTML and
XHTML (:data:`HTML`); sources take feeds and sitemaps (:data:`FEED`): XML, JSON, and gzip files,
whose format the source parser judges from the content. A mode names what it accepts, the
``Accept`` header it sends and the failure reason of a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.fetching.sniffing import HTML_MEDIA_TYPES, binary_reason, looks_like_html


@dataclass(frozen=True)
class ContentMode:
    name: str  # what the caller asked for, in a sentence: "content type X is not <name>"
    accept: str  # the Accept header
    media_types: frozenset[str]
    refusal: Reason
    suffixes: tuple[str, ...] = ()  # structured syntax suffixes accepted too, e.g. "+xml"
    sniff_html: bool = False  # HTML rules: sniff a body without Content-Type, refuse binary

    def accepts(self, media_type: str) -> bool:
        return media_type in self.media_types or media_type.endswith(self.suffixes)

    def refused(self, detail: str) -> PermanentError:
        return PermanentError(self.refusal, detail, stage=Stage.FETCH)

    def checked_media_type(self, media_type: str, body: bytes, charset: str | None) -> str:
        """The media type to report for ``body``; raises when the body is not acceptable."""
        if not self.sniff_html:
            return media_type or "application/octet-stream"
        if not media_type:
            if not looks_like_html(body):
                raise self.refused("no Content-Type and the body does not look like HTML")
            media_type = "text/html"
        binary = binary_reason(body, charset)
        if binary is not None:
            raise self.refused(f"served as {media_type} but {binary}")
        return media_type


HTML = ContentMode(
    name="HTML",
    accept="text/html,application/xhtml+xml",
    media_types=HTML_MEDIA_TYPES,
    refusal=Reason.NOT_HTML,
    sniff_html=True,
)

FEED_MEDIA_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/xml",
        "text/xml",
        "text/plain",  # servers that know no better; the parser judges the content
        "application/gzip",
        "application/x-gzip",
        "application/octet-stream",  # how many servers label sitemap.xml.gz
    }
)

FEED = ContentMode(
    name="a feed or sitemap",
    accept=(
        "application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,"
        "text/xml;q=0.9,application/json;q=0.8,*/*;q=0.1"
    ),
    media_types=FEED_MEDIA_TYPES,
    refusal=Reason.NOT_A_FEED,
    suffixes=("+xml", "+json"),
)


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The headers of a conditional GET from the validators of the last answer."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers
