"""The article item as the stages write it on moto: small, and read back whole.

Every write of the article item is billed per started KB of the item (the larger of before and
after), so what the item can rebuild is not stored (its id, the raw page's key, a one-entry
version history) and the entity index holds only the most salient entities.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from newsflow.duplicates import DuplicateDetector
from newsflow.fetching import FetchedPage
from newsflow.models import (
    Enrichment,
    EnrichmentInfo,
    EnrichMessage,
    Entity,
    ExtractorInfo,
    IngestMessage,
    ParsedArticle,
    Sentiment,
    SentimentScores,
)
from newsflow.pipeline import EnrichStage, FetchStage, Outcome
from newsflow.settings import MAX_ENTITY_ITEMS
from newsflow.storage import ArticleTable, DocumentStore, MessageQueue, deserialize_item
from newsflow.storage.articles import indexed_entity_keys
from newsflow.storage.fingerprints import FingerprintIndex
from newsflow.storage.items import article_pk, entity_pk


def _item_sizing() -> Any:
    """The cost model's item sizing (DynamoDB's rules), loaded from its file like the bench
    tests do: ``bench/`` is a folder of scripts, not an installed package."""
    path = Path(__file__).resolve().parents[2] / "bench" / "costs.py"
    spec = importlib.util.spec_from_file_location("newsflow_bench_costs_sizing", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module.dynamodb_item_bytes


dynamodb_item_bytes = _item_sizing()

# A news URL of ordinary length (about 110 characters), with tracking parameters to drop.
URL = (
    "https://www.example-regional-news.co.uk/news/local/2026/11/19/"
    "portsmouth-council-votes-to-fund-harbour-bridge?utm_source=rss"
)
TITLE = "Portsmouth council votes to fund the new harbour bridge after a decade of debate"
TEXT = " ".join(
    f"Paragraph {n}: the council of Portsmouth voted to fund a new harbour bridge, and "
    f"residents, engineers and critics from across the city had their say on day {n}."
    for n in range(40)
)
NAMES = [
    ("Helen Carter", "PERSON"),
    ("Portsmouth City Council", "ORGANIZATION"),
    ("Portsmouth", "LOCATION"),
    ("Green Coast Alliance", "ORGANIZATION"),
    ("Atlantic Structures", "ORGANIZATION"),
    ("Environment Agency", "ORGANIZATION"),
    ("Solent", "LOCATION"),
    ("James Whitfield", "PERSON"),
    ("Harbour Bridge", "OTHER"),
    ("Southampton", "LOCATION"),
    ("Isle of Wight", "LOCATION"),
    ("Department for Transport", "ORGANIZATION"),
]
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


class OnePage:
    def fetch(self, url: str) -> FetchedPage:
        return FetchedPage(
            requested_url=url,
            final_url=url,
            status=200,
            content_type="text/html",
            charset="utf-8",
            body=TEXT.encode(),
        )


def parse(html: str | bytes, url: str | None = None, *, charset: str | None = None) -> Any:
    return ParsedArticle(
        title=TITLE,
        author="Jane Reporter",
        language="en",
        published=date(2026, 11, 19),
        site_name="Example Regional News",
        text=TEXT,
        word_count=len(TEXT.split()),
        extractor=ExtractorInfo(version="test"),
    )


class NamesEnricher:
    """Twelve entities, the most salient first, as the local model orders them."""

    backend = "fake"

    def __init__(self, names: list[tuple[str, str]] = NAMES) -> None:
        self.names = names

    def enrich(self, text: str, language: str | None = None) -> Enrichment:
        count = len(self.names)
        return Enrichment(
            entities=[
                Entity(
                    text=name,
                    type=kind,
                    count=count - rank,
                    salience=round((count - rank) / (count * 6), 6),
                    sentiment=Sentiment(label="NEUTRAL", score=0.0),
                )
                for rank, (name, kind) in enumerate(self.names)
            ],
            sentiment=Sentiment(
                label="POSITIVE",
                score=0.412345,
                scores=SentimentScores(positive=0.5, negative=0.1, neutral=0.3, mixed=0.1),
            ),
            enrichment=EnrichmentInfo(
                backend="fake", model="fake-1", version="1", language_supported=True
            ),
        )


class Stages:
    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        documents = DocumentStore(pipeline.bucket, pipeline.s3)
        self.table = ArticleTable(pipeline.table, pipeline.dynamodb)
        self.fetch = FetchStage(
            fetcher=OnePage(),
            parse=parse,
            documents=documents,
            table=self.table,
            enrich_queue=MessageQueue(pipeline.enrich_queue_url, pipeline.sqs),
            clock=lambda: NOW,
            duplicates=DuplicateDetector(
                FingerprintIndex(pipeline.table, pipeline.dynamodb), documents
            ),
        )
        self.enricher = NamesEnricher()
        self.enrich = EnrichStage(
            enricher=self.enricher, documents=documents, table=self.table, clock=lambda: NOW
        )

    def item(self, article_id: str) -> dict[str, Any]:
        response = self.pipeline.dynamodb.get_item(
            TableName=self.pipeline.table,
            Key={"pk": {"S": article_pk(article_id)}, "sk": {"S": "ARTICLE"}},
        )
        return deserialize_item(response["Item"])

    def entity_items(self) -> set[tuple[str, str]]:
        items = self.pipeline.dynamodb.scan(TableName=self.pipeline.table)["Items"]
        return {
            (item["pk"]["S"], item["sk"]["S"])
            for item in items
            if item["pk"]["S"].startswith("ENTITY#")
        }

    def enrich_handed_off(self) -> None:
        for message in self.pipeline.receive_all(self.pipeline.enrich_queue_url):
            result = self.enrich.run(EnrichMessage.model_validate_json(message["Body"]))
            assert result.outcome is Outcome.ENRICHED


@pytest.fixture
def stages(pipeline: Any) -> Stages:
    return Stages(pipeline)


def test_a_typical_article_item_is_one_write_unit_until_enriched(stages: Stages) -> None:
    # GIVEN a news article with an ordinary URL, title and author, fetched and handed off
    result = stages.fetch.run(IngestMessage(url=URL))
    assert result.outcome is Outcome.FETCHED
    fetched = stages.item(result.article_id)
    # THEN the item, hand-off mark included, is under 1 KB: each of its writes is 1 WRU
    assert fetched["handoff_at"]
    assert dynamodb_item_bytes(fetched) < 1024
    # WHEN it is enriched with a dozen entities
    stages.enrich_handed_off()
    enriched = stages.item(result.article_id)
    # THEN it stays under 2 KB (the enrichment write is at most 2 WRU): top entities, not all
    assert enriched["status"] == "ENRICHED"
    assert dynamodb_item_bytes(enriched) < 2048
    assert len(enriched["top_entities"]) == 5
    assert "entity_keys" not in enriched


def test_the_record_read_back_has_what_the_item_does_not_store(stages: Stages) -> None:
    # GIVEN an article fetched once
    result = stages.fetch.run(IngestMessage(url=URL))
    item = stages.item(result.article_id)
    # THEN the item holds no copy of its id, its raw key or a one-entry history
    assert not {"article_id", "raw_key", "versions", "metadata"} & set(item)
    # AND the record read back has them all, as the stage wrote them
    record = stages.table.get(result.article_id)
    assert record is not None
    assert record.article_id == result.article_id
    assert record.raw_key == result.keys["raw"]
    assert record.article_key == result.keys["article"]
    assert [(v.version, v.article_key, v.fetched_at) for v in record.versions] == [
        (1, result.keys["article"], NOW)
    ]
    assert record.versions[0].enriched_key == result.keys["article"].replace(
        "articles/", "enriched/"
    )
    assert record.versions[0].text_sha256 == record.text_sha256


def test_the_entity_index_holds_the_most_salient_entities_only(stages: Stages) -> None:
    # GIVEN an article enriched with twelve entities
    result = stages.fetch.run(IngestMessage(url=URL))
    stages.enrich_handed_off()
    # THEN only the MAX_ENTITY_ITEMS most salient have an index item (the document has all)
    expected = {
        (entity_pk(name), f"2026-11-19#{result.article_id}#{kind}")
        for name, kind in NAMES[:MAX_ENTITY_ITEMS]
    }
    assert stages.entity_items() == expected
    # AND the article item says which, compactly, for the next enrichment to clean up
    assert set(indexed_entity_keys(stages.item(result.article_id), result.article_id)) == expected


def test_enriching_again_removes_index_items_that_left_the_top(stages: Stages) -> None:
    # GIVEN an enriched article
    result = stages.fetch.run(IngestMessage(url=URL))
    stages.enrich_handed_off()
    # WHEN its new version is enriched with other leading entities
    stages.enricher.names = NAMES[3:]
    stages.fetch.run(IngestMessage(url=URL, force=True))
    stages.pipeline.receive_all(stages.pipeline.enrich_queue_url)  # unchanged text: none sent
    stages.enrich.run(
        EnrichMessage(
            article_id=result.article_id,
            bucket=stages.pipeline.bucket,
            key=result.keys["article"],
        )
    )
    # THEN the index holds exactly the new top entities
    assert stages.entity_items() == {
        (entity_pk(name), f"2026-11-19#{result.article_id}#{kind}")
        for name, kind in NAMES[3 : 3 + MAX_ENTITY_ITEMS]
    }


def test_index_items_listed_the_old_way_are_cleaned_up_too(stages: Stages) -> None:
    # GIVEN an article enriched before the compact list, its keys in entity_keys
    result = stages.fetch.run(IngestMessage(url=URL))
    stale = (entity_pk("Old Name"), f"2026-11-19#{result.article_id}#PERSON")
    dynamodb, table = stages.pipeline.dynamodb, stages.pipeline.table
    dynamodb.put_item(
        TableName=table,
        Item={"pk": {"S": stale[0]}, "sk": {"S": stale[1]}, "article_id": {"S": "x"}},
    )
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": article_pk(result.article_id)}, "sk": {"S": "ARTICLE"}},
        UpdateExpression="SET entity_keys = :k",
        ExpressionAttributeValues={":k": {"L": [{"S": f"{stale[0]}|{stale[1]}"}]}},
    )
    # WHEN it is enriched
    stages.enrich_handed_off()
    # THEN the old item is gone, and so is the old list
    assert stale not in stages.entity_items()
    assert len(stages.entity_items()) == MAX_ENTITY_ITEMS
    assert "entity_keys" not in stages.item(result.article_id)
