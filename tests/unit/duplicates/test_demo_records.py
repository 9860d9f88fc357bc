"""`newsflow demo --json` records say which article a copy repeats and its cluster."""

from __future__ import annotations

from datetime import UTC, datetime

from newsflow.models import ArticleRecord, ArticleStatus
from newsflow_cli import demo, intake

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ORIGINAL = "a" * 32
COPY = "b" * 32


def record_of(article: ArticleRecord) -> dict[str, object]:
    line = intake.IntakeLine(
        line=article.url, canonical_url=article.url, article_id=article.article_id
    )
    return demo._from_article(line, article).as_json()


def test_a_copy_names_its_original_and_cluster_and_a_lone_article_its_own() -> None:
    # GIVEN an original and a near copy of it, as stored
    original = ArticleRecord(
        article_id=ORIGINAL, url="https://a.example/x", status=ArticleStatus.ENRICHED,
        cluster_id=ORIGINAL, created_at=AT, updated_at=AT,
    )  # fmt: skip
    copy = original.model_copy(
        update={"article_id": COPY, "url": "https://b.example/y", "duplicate_of": ORIGINAL,
                "duplicate_kind": "near"}
    )  # fmt: skip
    # THEN the JSON records carry duplicate_of (or null) and the shared cluster_id
    assert (record_of(original)["duplicate_of"], record_of(original)["cluster_id"]) == (
        None,
        ORIGINAL,
    )
    assert (record_of(copy)["duplicate_of"], record_of(copy)["cluster_id"]) == (ORIGINAL, ORIGINAL)
