"""EnrichStage against in-memory fakes: write order, permanent and transient failures, re-runs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from newsflow.errors import Reason, Stage, TransientError
from newsflow.models import ArticleStatus, EnrichMessage, IngestMessage
from newsflow.pipeline import EnrichStage, FetchStage, Outcome
from newsflow.urls import canonicalize_url

from .fakes import (
    BUCKET,
    Clock,
    FakeArticles,
    FakeDocuments,
    FakeEnricher,
    FakeFetcher,
    FakeQueue,
    Journal,
    parse_page,
)

URL = "https://news.example.com/harbour/solar-ferry"


@dataclass
class World:
    journal: Journal
    documents: FakeDocuments
    articles: FakeArticles
    enricher: FakeEnricher
    clock: Clock
    stage: EnrichStage
    message: EnrichMessage


@pytest.fixture
def world() -> World:
    """An article fetched by the real FetchStage into the fakes, and its enrich message."""
    journal = Journal()
    documents = FakeDocuments(journal)
    articles = FakeArticles(journal)
    queue = FakeQueue(journal)
    fetcher = FakeFetcher(journal)
    fetcher.serve(canonicalize_url(URL))
    clock = Clock()
    FetchStage(
        fetcher=fetcher,
        parse=parse_page,
        documents=documents,
        table=articles,
        enrich_queue=queue,
        clock=clock,
    ).run(IngestMessage(url=URL))
    message = EnrichMessage.model_validate_json(queue.sent[0])
    enricher = FakeEnricher(journal)
    clock.advance(minutes=5)
    stage = EnrichStage(
        enricher=enricher, documents=documents, table=articles, min_words=20, clock=clock
    )
    journal.calls.clear()
    return World(journal, documents, articles, enricher, clock, stage, message)


def test_enrichment_is_stored_then_recorded(world: World) -> None:
    # WHEN the enrich message is handled
    result = world.stage.run(world.message)

    # THEN the enriched document is written before the item flips to ENRICHED
    assert result.outcome is Outcome.ENRICHED
    assert world.journal.writes() == [
        "enricher.enrich",
        "documents.put_json",
        "articles.save_enriched",
    ]
    # AND it sits in the same dt= partition as the parsed document
    assert result.keys["enriched"] == world.message.key.replace("articles/", "enriched/", 1)
    record = world.articles.records[world.message.article_id]
    assert record.status is ArticleStatus.ENRICHED
    assert record.top_entities[0].text == "Bristol"


def test_a_redelivered_enrich_message_rewrites_the_same_keys(world: World) -> None:
    # GIVEN an article already enriched
    first = world.stage.run(world.message)

    # WHEN the message is delivered again
    again = world.stage.run(world.message)

    # THEN the same document is rewritten: one enriched object, same key
    assert again.keys == first.keys
    assert world.documents.keys("enriched") == [first.keys["enriched"]]


def test_a_message_for_another_bucket_is_failed_and_names_the_bucket(world: World) -> None:
    # WHEN the message names a bucket that is not the pipeline's
    message = world.message.model_copy(update={"bucket": "someone-elses-bucket"})
    result = world.stage.run(message)

    # THEN the article is FAILED (invalid_message), keeping the URL it was stored with
    assert result.failure is not None and result.failure.reason is Reason.INVALID_MESSAGE
    assert "someone-elses-bucket" in result.failure.detail
    record = world.articles.records[world.message.article_id]
    assert record.status is ArticleStatus.FAILED and record.url == URL
    assert world.journal.writes() == ["articles.save_failed"]


def test_a_missing_document_is_a_permanent_failure(world: World) -> None:
    # GIVEN the parsed document is gone
    world.documents.objects.pop(world.message.key)

    # WHEN the message is handled, THEN the article is FAILED (missing_document)
    result = world.stage.run(world.message)
    assert result.failure is not None and result.failure.reason is Reason.MISSING_DOCUMENT
    assert BUCKET in result.failure.detail


def test_too_little_text_is_failed_without_calling_the_enricher(world: World) -> None:
    # GIVEN a stage that wants more words than the story has
    world.stage._min_words = 10_000

    # WHEN the message is handled
    result = world.stage.run(world.message)

    # THEN the article is FAILED (text_too_short) and the enricher never ran
    assert result.failure is not None and result.failure.reason is Reason.TEXT_TOO_SHORT
    assert "enricher.enrich" not in world.journal.calls


def test_an_unsupported_language_is_enriched_without_analysis(world: World) -> None:
    # GIVEN an enricher that does not handle the language
    world.enricher.language_supported = False

    # WHEN the message is handled
    result = world.stage.run(world.message)

    # THEN the article is never FAILED for its language: it ends ENRICHED, its enriched document
    # stored with the text, no entities, no sentiment and language_supported false
    assert result.outcome is Outcome.ENRICHED and result.failure is None
    stored = world.documents.objects[result.keys["enriched"]]
    assert stored["entities"] == [] and stored["sentiment"] is None
    assert stored["enrichment"]["language_supported"] is False
    assert stored["text"]
    record = world.articles.records[world.message.article_id]
    assert record.status is ArticleStatus.ENRICHED
    assert record.language_supported is False and record.sentiment is None
    assert record.top_entities == []


def test_a_throttled_enricher_raises_and_leaves_a_retry_note(world: World) -> None:
    # GIVEN a throttled enrichment service
    world.journal.fail_on(
        "enricher.enrich", TransientError(Reason.THROTTLED, "slow down", stage=Stage.ENRICH)
    )

    # WHEN the message is handled, THEN the error reaches the caller and nothing is written
    with pytest.raises(TransientError) as raised:
        world.stage.run(world.message)
    assert world.journal.writes() == []
    # AND the retry note records why
    world.stage.note_retry(world.message, raised.value, receive_count=3)
    note = world.articles.retry_notes[world.message.article_id]
    assert (note.failure.reason, note.receive_count) == (Reason.THROTTLED, 3)
    # AND the article stays FETCHED until a retry succeeds
    record = world.articles.records[world.message.article_id]
    assert record.status is ArticleStatus.FETCHED
    assert world.stage.run(world.message).outcome is Outcome.ENRICHED
