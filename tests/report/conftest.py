"""A small stream of a known shape, as the report's reader would return it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from newsflow_cli.report import StreamSnapshot
from newsflow_cli.report.reading import ReadStats
from newsflow_cli.report.summary import Commands, StreamReport, summarise

SINCE = date(2026, 11, 20)
UNTIL = date(2026, 11, 21)
HELEN_ROWS = [
    {"article_id": "a1", "url": "https://news.example.com/a1", "title": "Harbour reopens",
     "sentiment": {"label": "POSITIVE", "score": 0.4}},
    {"article_id": "a2", "url": "https://news.example.com/a2", "title": "Harbour again",
     "sentiment": {"label": "NEGATIVE", "score": -0.2}},
]  # fmt: skip


def enriched(
    article_id: str, domain: str, day: str, language: str, score: float | None, **extra: Any
) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "url": f"https://{domain}/{article_id}",
        "domain": domain,
        "status": "ENRICHED",
        "title": f"Story {article_id}",
        "language": language,
        "sentiment": None if score is None else {"label": "NEUTRAL", "score": score},
        "article_key": f"articles/dt={day}/{article_id}.json",
        "created_at": f"{day}T08:00:00+00:00",
        **extra,
    }


def fetch_failure(article_id: str, reason: str, detail: str) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "url": f"https://www.slow.example.net/{article_id}",
        "failure": {"stage": "fetch", "reason": reason, "detail": detail},
        "failed_at": "2026-11-21T09:00:00+00:00",
        "attempts": 1,
    }


def stream() -> StreamSnapshot:
    """3 ENRICHED (one German, not analysed), 2 fetch failures, 1 dead letter, 1 rejected."""
    helen = {"text": "Helen Carter", "type": "PERSON", "count": 3, "salience": 0.5}
    return StreamSnapshot(
        since=SINCE,
        until=UNTIL,
        articles=[
            enriched(
                "a1",
                "news.example.com",
                "2026-11-20",
                "en",
                0.5,
                fetch_ms=850,
                top_entities=[
                    helen,
                    {"text": "Bristol", "type": "LOCATION", "count": 1, "salience": 0.1},
                ],
                source="feed-1",
                cluster_id="a1",
            ),
            enriched(
                "a2",
                "news.example.com",
                "2026-11-21",
                "en",
                -0.3,
                fetch_ms=120,
                top_entities=[{**helen, "count": 2}],
                source="feed-1",
                duplicate_of="a1",
                cluster_id="a1",
            ),
            enriched(
                "a3",
                "blog.example.org",
                "2026-11-21",
                "de",
                None,
                fetch_ms=40,
                top_entities=[],
                language_supported=False,
            ),
        ],
        failures=[
            fetch_failure("f1", "http_error", "HTTP 404 from the server"),
            fetch_failure("f2", "timeout", "no answer within 20 s"),
        ],
        rejected_by_day={"2026-11-21": 1},
        dead_letters={"IngestDLQ": 1},
        sources=[
            {
                "source_id": "feed-1",
                "url": "https://news.example.com/feed.xml",
                "kind": "rss",
                "pushed": 40,
                "last_success_at": "2026-11-21T08:00:00+00:00",
            },
            {
                "source_id": "feed-2",
                "url": "https://down.example.net/sitemap.xml",
                "kind": "sitemap",
                "consecutive_failures": 3,
                "last_error": {
                    "stage": "fetch",
                    "reason": "http_error",
                    "detail": "HTTP 500",
                    "at": "2026-11-21T09:00:00+00:00",
                },
            },
        ],
        stats=ReadStats(s3_list_calls=4, s3_keys_listed=3, batch_get_calls=1, items_read=3),
    )


def entity_rows(name: str) -> list[dict[str, Any]]:
    return HELEN_ROWS if name == "Helen Carter" else []


def build(snapshot: StreamSnapshot) -> StreamReport:
    return summarise(
        snapshot,
        Commands(bucket="articles-bucket", since=SINCE, until=UNTIL),
        stack="newsflow-local",
        entity_reader=entity_rows,
        now=datetime(2026, 11, 22, 7, 0, tzinfo=UTC),
    )


@pytest.fixture
def report() -> StreamReport:
    return build(stream())
