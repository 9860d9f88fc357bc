"""What the report reads from a stack (moto): only the range, by key and by index, no Scan."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from newsflow.errors import Reason, Stage
from newsflow.models import ArticleRecord, ArticleStatus, Failure, Sentiment, TopEntity
from newsflow.storage import ArticleTable, entity_pk, serialize_item
from newsflow_cli.report import StreamReader

DAY = date(2026, 11, 20)
OTHER_DAY = date(2026, 11, 25)
ARTICLES_ON_DAY = 120  # two BatchGetItem calls of at most 100 keys


def article_id(n: int) -> str:
    return f"{n:032x}"


def store_enriched(pipeline: Any, n: int, day: date) -> None:
    at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    key = f"articles/dt={day}/{article_id(n)}.json"
    pipeline.s3.put_object(Bucket=pipeline.bucket, Key=key, Body=b"{}")
    ArticleTable(pipeline.table, pipeline.dynamodb).save_fetched(
        ArticleRecord(
            article_id=article_id(n),
            url=f"https://news.example.com/{n}",
            domain="news.example.com",
            status=ArticleStatus.ENRICHED,
            language="en",
            sentiment=Sentiment(label="POSITIVE", score=0.5),
            top_entities=[TopEntity(text="Helen Carter", type="PERSON", count=2, salience=0.4)],
            article_key=key,
            created_at=at,
            updated_at=at,
        )
    )


def store_failure(pipeline: Any, n: int, day: date) -> None:
    ArticleTable(pipeline.table, pipeline.dynamodb).save_failed(
        article_id=article_id(n),
        url=f"https://slow.example.net/{n}",
        canonical_url=None,
        domain=None,
        failure=Failure(stage=Stage.FETCH, reason=Reason.TIMEOUT, detail="no answer"),
        at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
    )


def store_mention(pipeline: Any, n: int, day: date, score: float) -> None:
    item = {
        "pk": entity_pk("Helen Carter"),
        "sk": f"{day}#{article_id(n)}#PERSON",
        "entity": "Helen Carter",
        "type": "PERSON",
        "article_id": article_id(n),
        "title": f"Story {n}",
        "sentiment": {"label": "NEUTRAL", "score": score},
    }
    pipeline.dynamodb.put_item(TableName=pipeline.table, Item=serialize_item(item))


def operations(pipeline: Any) -> list[str]:
    made: list[str] = []
    pipeline.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.*", lambda model, **_: made.append(model.name)
    )
    return made


def test_reads_the_range_by_key_and_index_never_a_scan(pipeline: Any) -> None:
    # GIVEN 120 articles and a failure on the day, and one of each on a later day
    for n in range(ARTICLES_ON_DAY):
        store_enriched(pipeline, n, DAY)
    store_enriched(pipeline, 500, OTHER_DAY)
    store_failure(pipeline, 600, DAY)
    store_failure(pipeline, 601, OTHER_DAY)
    reader = StreamReader(
        bucket=pipeline.bucket, table=pipeline.table, s3=pipeline.s3, dynamodb=pipeline.dynamodb
    )
    made = operations(pipeline)

    # WHEN the report reads that one day
    snapshot = reader.read(DAY, DAY, {"IngestDLQ": 0})

    # THEN it has exactly the day's articles and failures
    assert {row["article_id"] for row in snapshot.articles} == {
        article_id(n) for n in range(ARTICLES_ON_DAY)
    }
    assert [row["article_id"] for row in snapshot.failures] == [article_id(600)]
    assert snapshot.failures[0]["failure"]["reason"] == "timeout"
    # AND it read them by key (2 BatchGetItem calls) and by the failures index, never scanning
    assert "Scan" not in made
    assert made.count("BatchGetItem") == 2
    assert set(made) == {"BatchGetItem", "Query"}
    assert snapshot.stats.items_read == ARTICLES_ON_DAY
    assert snapshot.stats.scans == 0
    # AND only the attributes the report shows came back
    assert "entity_keys" not in snapshot.articles[0]
    assert snapshot.articles[0]["top_entities"][0]["text"] == "Helen Carter"


def test_entity_mentions_are_bounded_by_the_range_and_the_limit(pipeline: Any) -> None:
    # GIVEN three mentions on the day and one on a later day
    for n in (1, 2, 3):
        store_mention(pipeline, n, DAY, 0.4)
    store_mention(pipeline, 9, OTHER_DAY, -0.9)
    reader = StreamReader(
        bucket=pipeline.bucket, table=pipeline.table, s3=pipeline.s3, dynamodb=pipeline.dynamodb
    )
    # WHEN the report asks for the newest two of the day
    rows = reader.entity_mentions("helen carter", DAY, DAY, limit=2)
    # THEN one Query page returns them, newest first
    assert [row["article_id"] for row in rows] == [article_id(3), article_id(2)]
    assert reader.stats.index_queries == 1
    assert reader.stats.index_items_read == 2


def test_feed_and_sitemap_items_come_from_their_partition(pipeline: Any) -> None:
    from newsflow.sources import Source, SourceTable

    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    SourceTable(pipeline.table, pipeline.dynamodb).add(
        Source(source_id="feed-1", url="https://news.example.com/feed.xml", created_at=at,
               next_poll_at=at)
    )  # fmt: skip
    reader = StreamReader(
        bucket=pipeline.bucket, table=pipeline.table, s3=pipeline.s3, dynamodb=pipeline.dynamodb
    )
    made = operations(pipeline)
    snapshot = reader.read(DAY, DAY)
    assert [source["source_id"] for source in snapshot.sources] == ["feed-1"]
    assert "Scan" not in made
