"""The same article, delivered twice at once or spelled many ways, is stored once.

SQS delivers at least once, and two Lambda instances can hold copies of one message at the same
moment. Identity is the canonical URL's hash, and every write is keyed on it, so duplicates may
repeat work but must converge on one article item, one object per S3 prefix and one set of
entity items.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from newsflow.enrichment import get_enricher
from newsflow.extraction import parse_html
from newsflow.fetching import FetchedPage, SafeFetcher
from newsflow.models import EnrichMessage, IngestMessage
from newsflow.pipeline import EnrichStage, FetchStage, Outcome, StageResult
from newsflow.settings import FetchPolicy
from newsflow.storage import ArticleTable, DocumentStore, MessageQueue

from .support import (
    Driver,
    FakeDns,
    all_keys,
    article_items,
    assert_no_duplicates_or_leftovers,
    ingest_body,
)


class TogetherFetcher:
    """Lets no fetch return until ``parties`` fetches are under way: both callers pass the
    "already stored?" check before either writes, the widest window a race can have."""

    def __init__(self, inner: SafeFetcher, parties: int) -> None:
        self._inner = inner
        self._barrier = threading.Barrier(parties, timeout=10)

    def fetch(self, url: str) -> FetchedPage:
        page = self._inner.fetch(url)
        self._barrier.wait()
        return page


def run_together(*calls: Callable[[], StageResult]) -> list[StageResult]:
    results: list[StageResult | BaseException] = [RuntimeError("not run")] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    return [r for r in results if isinstance(r, StageResult)]


class OneS3CallAtATime(DocumentStore):
    """moto keeps an S3 object in one buffer and closes it when the key is overwritten, so two
    threads writing (or reading) one key at the same instant can crash moto itself. Real S3 has
    no such limit (the last write wins). Each S3 call is made atomic here; the stages' steps
    still interleave freely, which is the race under test."""

    _lock = threading.Lock()

    def put_raw(self, *args: Any, **kwargs: Any) -> str:
        with self._lock:
            return super().put_raw(*args, **kwargs)

    def put_json(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            super().put_json(*args, **kwargs)

    def get_json(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return super().get_json(*args, **kwargs)


@pytest.fixture
def fetch_stages(pipeline: Any) -> tuple[FetchStage, FetchStage]:
    """Two instances of the fetch use case with real stores on moto, as two containers hold
    them (one instance runs the records of one article one after the other)."""
    fetcher = TogetherFetcher(SafeFetcher(FetchPolicy(allow_loopback=True)), parties=2)
    documents = OneS3CallAtATime(pipeline.bucket, pipeline.s3)

    def instance() -> FetchStage:
        return FetchStage(
            fetcher=fetcher,
            parse=parse_html,
            documents=documents,
            table=ArticleTable(pipeline.table, pipeline.dynamodb),
            enrich_queue=MessageQueue(pipeline.enrich_queue_url, pipeline.sqs),
        )

    return instance(), instance()


def test_one_url_fetched_by_two_instances_at_once_is_one_article(
    pipeline: Any,
    fetch_stages: tuple[FetchStage, FetchStage],
    drive: Driver,
    page_server: Any,
    make_article_page: Callable[..., bytes],
) -> None:
    # GIVEN one message delivered to two instances at the same moment
    url = page_server.add("/news/bridge", make_article_page())
    message = IngestMessage(url=url)

    # WHEN both run the fetch stage concurrently, then enrichment drains the queue
    first, second = fetch_stages
    results = run_together(lambda: first.run(message), lambda: second.run(message))
    drive.drain()

    # THEN both did the whole fetch (neither saw the other's write), on the same article
    assert [r.outcome for r in results] == [Outcome.FETCHED, Outcome.FETCHED]
    assert len({r.article_id for r in results}) == 1
    # AND there is one article item, ENRICHED, with one object per prefix and one set of entities
    articles = article_items(pipeline)
    assert [a["status"] for a in articles.values()] == ["ENRICHED"]
    assert_no_duplicates_or_leftovers(pipeline)
    assert articles[results[0].article_id]["entity_index"]


class TogetherEnricher:
    def __init__(self, inner: Any, parties: int) -> None:
        self.backend = inner.backend
        self._inner = inner
        self._barrier = threading.Barrier(parties, timeout=10)

    def enrich(self, text: str, language: str | None = None) -> Any:
        result = self._inner.enrich(text, language)
        self._barrier.wait()
        return result


def test_one_document_enriched_by_two_instances_at_once_has_one_set_of_entities(
    pipeline: Any,
    drive: Driver,
    page_server: Any,
    make_article_page: Callable[..., bytes],
) -> None:
    # GIVEN an article fetched, and its enrich message copied to two instances
    url = page_server.add("/news/bridge", make_article_page())
    drive.send([url])
    fetch_spec, fetch_source = drive.poller.sources[0]
    drive.poller.process_batch(fetch_spec, fetch_source)
    [raw] = pipeline.sqs.receive_message(QueueUrl=pipeline.enrich_queue_url)["Messages"]
    message = EnrichMessage.model_validate_json(raw["Body"])
    stage = EnrichStage(
        enricher=TogetherEnricher(get_enricher("local"), parties=2),
        documents=OneS3CallAtATime(pipeline.bucket, pipeline.s3),
        table=ArticleTable(pipeline.table, pipeline.dynamodb),
    )

    # WHEN both enrich it concurrently
    results = run_together(lambda: stage.run(message), lambda: stage.run(message))

    # THEN both succeed and the article has exactly one set of entity items
    assert [r.outcome for r in results] == [Outcome.ENRICHED, Outcome.ENRICHED]
    assert_no_duplicates_or_leftovers(pipeline)
    assert len(all_keys(pipeline, "enriched/")) == 1


def test_many_spellings_of_one_url_are_one_article_fetched_once(
    pipeline: Any,
    drive: Driver,
    page_server: Any,
    fake_dns: FakeDns,
    make_article_page: Callable[..., bytes],
) -> None:
    # GIVEN a page, and a producer that sends its URL spelled in every way that means the same
    fake_dns.table["news.example"] = ["127.0.0.1"]
    page_server.add("/story?id=7", make_article_page())
    url = f"http://news.example:{page_server.port}/story?id=7"
    spellings = [
        url,
        url.replace("http://news.example", "HTTP://News.EXAMPLE"),
        url.replace("news.example", "news.example."),
        url.replace("?id=7", "?utm_source=feed&id=7&fbclid=abc123"),
        url + "#comments",
        f"  {url}\n",
        ingest_body(url, source="feed-a", metadata={"section": "local"}),
        json.dumps(url),
    ]

    # WHEN they all go through the queues
    ledger = drive.run(spellings)

    # THEN every one of them is the same ENRICHED article
    assert set(ledger.outcome.values()) == {"ENRICHED"}
    assert len(ledger.articles) == 1
    # AND the page was downloaded once and enriched once (after its site's robots.txt, once,
    # though the spellings were fetched concurrently)
    assert page_server.hits == {"/robots.txt": 1, "/story?id=7": 1}
    assert drive.functions["EnrichFunction"].invocations == 1
    assert_no_duplicates_or_leftovers(pipeline)


def test_a_failed_url_delivered_again_is_recorded_again_not_retried(
    drive: Driver, page_server: Any
) -> None:
    # GIVEN a URL already recorded FAILED (the page is gone)
    url = page_server.url("/news/retracted")
    assert drive.run([url]).outcome[url] == "FAILED"

    # WHEN a producer pushes it again
    drive.send([url])
    delivered = drive.drain()

    # THEN it is consumed in one delivery and stays one FAILED article
    assert delivered == 1
    ledger = drive.ledger()
    assert ledger.outcome[url] == "FAILED"
    assert len(ledger.articles) == 1
    assert not any(ledger.dead_letters.values())


def test_a_forced_refetch_on_a_later_day_keeps_every_version_in_the_first_partition(
    pipeline: Any, page_server: Any, make_article_page: Callable[..., bytes]
) -> None:
    # GIVEN an article fetched on one day
    url = page_server.add("/news/bridge", make_article_page())
    now = [datetime(2026, 11, 20, 23, 59, tzinfo=UTC)]
    stage = FetchStage(
        fetcher=SafeFetcher(FetchPolicy(allow_loopback=True)),
        parse=parse_html,
        documents=DocumentStore(pipeline.bucket, pipeline.s3),
        table=ArticleTable(pipeline.table, pipeline.dynamodb),
        enrich_queue=MessageQueue(pipeline.enrich_queue_url, pipeline.sqs),
        clock=lambda: now[0],
    )
    stage.run(IngestMessage(url=url))

    # WHEN it is re-fetched with force=true after midnight, the page unchanged
    now[0] = datetime(2026, 11, 21, 0, 1, tzinfo=UTC)
    result = stage.run(IngestMessage(url=url, force=True))

    # THEN there is still one raw page and one parsed document, the ones the item points to
    assert result.outcome is Outcome.UNCHANGED
    table = ArticleTable(pipeline.table, pipeline.dynamodb)
    record = table.get(result.article_id)
    assert record is not None and record.checked_at == now[0]
    assert all_keys(pipeline, "raw/") == [record.raw_key]
    assert all_keys(pipeline, "articles/") == [record.article_key]

    # WHEN the page changed and it is re-fetched again
    corrected = [
        "The city council of Portsmouth voted on Wednesday, not Tuesday, to fund a new harbour "
        "bridge, ending a debate that had divided residents for more than a decade.",
        "Correction: an earlier version of this article gave the wrong day for the council vote "
        "and misstated the name of the engineering firm that will survey the estuary site.",
        "Engineers from Atlantic Structures will begin surveying the site in March, and the "
        "council expects the bridge to open to traffic in the spring of 2029.",
    ]
    page_server.add("/news/bridge", make_article_page(paragraphs=corrected))
    result = stage.run(IngestMessage(url=url, force=True))

    # THEN version 2 sits beside version 1, in the partition of the first fetch
    assert result.outcome is Outcome.FETCHED
    record = table.get(result.article_id)
    assert record is not None and record.version == 2
    first = f"articles/dt=2026-11-20/{result.article_id}"
    assert all_keys(pipeline, "articles/") == [f"{first}.json", f"{first}.v2.json"]
    assert record.article_key == f"{first}.v2.json"
    assert [v.version for v in record.versions] == [1, 2]
