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
from newsflow.errors import Reason, Stage
from newsflow.fetching import FetchedPage
from newsflow.models import (
    Enrichment,
    EnrichmentInfo,
    EnrichMessage,
    Entity,
    ExtractorInfo,
    Failure,
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


# --------------------------------------------------------------------------- the first write


def _operations(stages: Stages) -> list[str]:
    """The DynamoDB operations the table's client makes from now on, in order."""
    calls: list[str] = []
    stages.pipeline.dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    return calls


def _first_record(stages: Stages, url: str = URL, title: str = TITLE) -> Any:
    """The FETCHED record of a first fetch, built as the stage builds it."""
    from newsflow.models import ArticleRecord
    from newsflow.urls import article_id_for, canonicalize_url

    canonical = canonicalize_url(url)
    document = parse(b"", url).model_copy(
        update={"title": title, "domain": "www.example-regional-news.co.uk"}
    )
    document.truncated = ["text"]  # the parser cut the text
    article_id = article_id_for(canonical)
    return ArticleRecord.fetched(
        document,
        article_id=article_id,
        url=url,
        canonical_url=canonical,
        article_key=f"articles/dt=2026-11-20/{article_id}.json",
        created_at=NOW,
        updated_at=NOW,
        raw_key=f"raw/dt=2026-11-20/{article_id}.html.gz",
        version=1,
        metadata={"feed": "local"},
    )


def test_a_first_fetch_writes_the_same_item_with_one_put(stages: Stages) -> None:
    # GIVEN the record of an article with no item yet, one of its values over its limit
    record = _first_record(stages, title="T" * 3_000)
    calls = _operations(stages)
    # WHEN it is saved as new
    stages.table.save_fetched(record, new=True)
    # THEN one conditional PutItem wrote it
    assert calls == ["PutItem"]
    put = stages.item(record.article_id)
    # AND it is the very item the update writes for a missing article: created_at, one
    # attempt, the sort key of its domain index, the cut values named with the parser's
    stages.pipeline.dynamodb.delete_item(
        TableName=stages.pipeline.table,
        Key={"pk": {"S": article_pk(record.article_id)}, "sk": {"S": "ARTICLE"}},
    )
    stages.table.save_fetched(record)
    updated = stages.item(record.article_id)
    assert put == updated
    assert put["attempts"] == 1 and datetime.fromisoformat(put["created_at"]) == NOW
    assert put["domain_sk"] == f"2026-11-19#{record.article_id}"
    assert set(put["truncated"]) == {"text", "title"}
    assert len(put["title"]) == 2_000


def test_an_item_written_since_the_read_is_updated_not_replaced(stages: Stages) -> None:
    # GIVEN an article that another container fetched and enriched after this one's read
    result = stages.fetch.run(IngestMessage(url=URL))
    stages.enrich_handed_off()
    enriched = stages.item(result.article_id)
    assert enriched["status"] == "ENRICHED" and enriched["entity_index"]
    calls = _operations(stages)
    # WHEN this container saves its fetch as new, a day later
    later = _first_record(stages).model_copy(
        update={"created_at": NOW.replace(day=21), "updated_at": NOW.replace(day=21)}
    )
    stages.table.save_fetched(later, new=True)
    # THEN the put's condition failed and the update wrote the fetch over the item
    assert calls == ["PutItem", "UpdateItem"]
    item = stages.item(result.article_id)
    assert item["status"] == "FETCHED"
    assert datetime.fromisoformat(item["updated_at"]) == later.updated_at
    # AND the item keeps what only an update keeps: the first created_at, the attempts so far,
    # the entity index list for the next enrichment; the enrichment's own values are gone
    assert datetime.fromisoformat(item["created_at"]) == NOW
    assert item["attempts"] == enriched["attempts"] + 1
    assert item["entity_index"] == enriched["entity_index"]
    assert item["entity_day"] == enriched["entity_day"]
    assert not {"sentiment", "enriched_key", "handoff_at"} & set(item)
    assert not item.get("top_entities")


def test_the_stage_puts_a_new_article_and_updates_a_known_one(stages: Stages) -> None:
    calls = _operations(stages)
    # WHEN an article is fetched for the first time
    result = stages.fetch.run(IngestMessage(url=URL))
    # THEN its item is put (then the hand-off mark updates it)
    article_writes = [name for name in calls if name in {"PutItem", "UpdateItem"}]
    assert article_writes == ["PutItem", "UpdateItem"]
    # WHEN it is recorded FAILED and comes again, so the read finds it
    stages.table.save_failed(
        article_id=result.article_id,
        url=URL,
        canonical_url=None,
        domain=None,
        failure=Failure(stage=Stage.FETCH, reason=Reason.HTTP_ERROR, detail="HTTP 503"),
        at=NOW,
    )
    calls.clear()
    again = stages.fetch.run(IngestMessage(url=URL))
    # THEN the FETCHED write is an update (no put tried), and the failure is cleared
    assert again.outcome is Outcome.FETCHED
    assert [name for name in calls if name in {"PutItem", "UpdateItem"}] == [
        "UpdateItem",
        "UpdateItem",
    ]
    item = stages.item(result.article_id)
    assert item["status"] == "FETCHED" and "failure" not in item and item["attempts"] == 3
