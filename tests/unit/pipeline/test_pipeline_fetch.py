"""FetchStage against in-memory fakes: write order, permanent and transient failures, redelivery."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.models import ArticleStatus, IngestMessage
from newsflow.pipeline import FetchStage, Outcome
from newsflow.urls import article_id_for, canonicalize_url

from .fakes import BUCKET, Clock, FakeArticles, FakeDocuments, FakeFetcher, FakeQueue, Journal
from .fakes import parse_page as fake_parse

URL = "https://news.example.com/harbour/solar-ferry"
FETCH_ORDER = [
    "fetcher.fetch",
    "documents.put_raw",
    "documents.put_document",
    "articles.save_fetched",
    "queue.send",
    "articles.mark_handoff",
]


@dataclass
class World:
    journal: Journal
    documents: FakeDocuments
    articles: FakeArticles
    queue: FakeQueue
    fetcher: FakeFetcher
    clock: Clock
    stage: FetchStage


@pytest.fixture
def world() -> World:
    journal = Journal()
    documents = FakeDocuments(journal)
    articles = FakeArticles(journal)
    queue = FakeQueue(journal)
    fetcher = FakeFetcher(journal)
    clock = Clock()
    stage = FetchStage(
        fetcher=fetcher,
        parse=fake_parse,
        documents=documents,
        table=articles,
        enrich_queue=queue,
        clock=clock,
    )
    fetcher.serve(canonicalize_url(URL))
    return World(journal, documents, articles, queue, fetcher, clock, stage)


def article_id() -> str:
    return article_id_for(canonicalize_url(URL))


def test_a_page_is_stored_recorded_and_handed_off_in_that_order(world: World) -> None:
    # WHEN a URL is fetched
    result = world.stage.run(IngestMessage(url=URL))

    # THEN raw page, parsed document, FETCHED item, enrich message, hand-off mark - in that order
    assert result.outcome is Outcome.FETCHED
    assert world.journal.writes() == FETCH_ORDER
    record = world.articles.records[article_id()]
    assert record.status is ArticleStatus.FETCHED and record.handoff_at is not None
    # AND the keys sit under the day of the fetch, and the message names the parsed document
    assert result.keys["article"] == f"articles/dt=2026-11-20/{article_id()}.json"
    assert result.keys["raw"] == f"raw/dt=2026-11-20/{article_id()}.html.gz"
    assert json.loads(world.queue.sent[0]) == {
        "article_id": article_id(),
        "bucket": BUCKET,
        "key": result.keys["article"],
    }


def test_a_permanent_fetch_failure_is_recorded_failed_and_nothing_else(world: World) -> None:
    # GIVEN a page that is gone
    world.fetcher.pages.clear()

    # WHEN it is fetched
    result = world.stage.run(IngestMessage(url=URL))

    # THEN the article is FAILED with the reason, and nothing is stored or sent
    assert result.outcome is Outcome.FAILED
    assert result.failure is not None and result.failure.reason is Reason.HTTP_ERROR
    assert world.articles.records[article_id()].status is ArticleStatus.FAILED
    assert world.journal.writes() == ["fetcher.fetch", "articles.save_failed"]
    assert world.documents.objects == {} and world.queue.sent == []


def test_a_parser_crash_is_a_permanent_parse_failure(world: World) -> None:
    # GIVEN a parser that crashes on the page
    def crash(html: str | bytes, url: str | None = None, *, charset: str | None = None) -> None:
        raise RuntimeError("boom")

    world.stage._parse = crash  # type: ignore[assignment]

    # WHEN the page is fetched
    result = world.stage.run(IngestMessage(url=URL))

    # THEN the article is FAILED at stage parse; the raw page was kept, nothing handed off
    assert result.failure is not None
    assert (result.failure.stage, result.failure.reason) == (Stage.PARSE, Reason.NOTHING_EXTRACTED)
    assert world.queue.sent == []


def test_a_transient_failure_raises_and_leaves_a_retry_note(world: World) -> None:
    # GIVEN a site that answers 503 for now
    world.fetcher.pages[canonicalize_url(URL)] = TransientError(
        Reason.HTTP_ERROR, "HTTP 503", http_status=503
    )
    message = IngestMessage(url=URL)

    # WHEN the stage runs, THEN the error reaches the caller (SQS will retry)
    with pytest.raises(TransientError) as raised:
        world.stage.run(message)
    # AND once noted, the retry note says why, with the attempt number
    world.stage.note_retry(message, raised.value, receive_count=2)
    note = world.articles.retry_notes[article_id()]
    assert (note.failure.stage, note.failure.reason, note.failure.http_status) == (
        Stage.FETCH,
        Reason.HTTP_ERROR,
        503,
    )
    assert note.receive_count == 2 and note.at == world.clock.now
    # AND no article item was written
    assert article_id() not in world.articles.records


def test_a_store_failure_stops_before_the_hand_off(world: World) -> None:
    # GIVEN the table refuses the FETCHED write once
    world.journal.fail_on(
        "articles.save_fetched", TransientError(Reason.THROTTLED, "slow down", stage=Stage.STORE)
    )

    # WHEN the stage runs, THEN it raises and nothing was handed to enrichment
    with pytest.raises(TransientError):
        world.stage.run(IngestMessage(url=URL))
    assert world.queue.sent == []
    # AND the redelivery completes the work once, with the same keys
    result = world.stage.run(IngestMessage(url=URL))
    assert result.outcome is Outcome.FETCHED
    assert len(world.queue.sent) == 1
    assert world.documents.keys("articles") == [result.keys["article"]]


def test_a_failing_retry_note_does_not_hide_the_original_error(world: World) -> None:
    # GIVEN the table cannot store the note either
    world.journal.fail_on(
        "articles.save_retry_note", TransientError(Reason.AWS_ERROR, "down", stage=Stage.STORE)
    )
    error = TransientError(Reason.TIMEOUT, "read timed out")

    # WHEN the retry is noted, THEN nothing is raised (the log line is all there is)
    world.stage.note_retry(IngestMessage(url=URL), error, receive_count=1)
    assert world.articles.retry_notes == {}


def test_a_redelivered_enriched_article_is_skipped_without_a_fetch(world: World) -> None:
    # GIVEN an article fetched and then enriched
    world.stage.run(IngestMessage(url=URL))
    world.articles.records[article_id()] = world.articles.records[article_id()].model_copy(
        update={"status": ArticleStatus.ENRICHED}
    )
    world.journal.calls.clear()

    # WHEN the same URL arrives again
    result = world.stage.run(IngestMessage(url=URL))

    # THEN nothing is fetched or written
    assert result.outcome is Outcome.SKIPPED
    assert world.journal.writes() == []


def test_a_fetched_article_whose_hand_off_was_lost_is_resumed(world: World) -> None:
    # GIVEN the hand-off mark failed after the enrich message went out
    world.journal.fail_on(
        "articles.mark_handoff", TransientError(Reason.AWS_ERROR, "lost", stage=Stage.STORE)
    )
    with pytest.raises(TransientError):
        world.stage.run(IngestMessage(url=URL))
    world.journal.calls.clear()

    # WHEN the message is redelivered
    result = world.stage.run(IngestMessage(url=URL))

    # THEN only the hand-off is redone: no fetch, no document write
    assert result.outcome is Outcome.RESUMED
    assert world.journal.writes() == ["queue.send", "articles.mark_handoff"]
    # AND a third delivery finds the hand-off marked and does nothing
    world.journal.calls.clear()
    assert world.stage.run(IngestMessage(url=URL)).outcome is Outcome.SKIPPED
    assert world.journal.writes() == []


def test_force_refetches_and_an_unchanged_text_only_notes_the_check(world: World) -> None:
    # GIVEN an enriched article fetched yesterday
    first = world.stage.run(IngestMessage(url=URL))
    world.articles.records[article_id()] = world.articles.records[article_id()].model_copy(
        update={"status": ArticleStatus.ENRICHED}
    )
    world.clock.advance(days=1)
    writes_before = len(world.journal.writes())

    # WHEN it is pushed again with force and the page still has the same text
    again = world.stage.run(IngestMessage(url=URL, force=True))

    # THEN it is fetched again, and only the check is recorded: same documents, still ENRICHED
    assert again.outcome is Outcome.UNCHANGED
    assert world.fetcher.fetched == [canonicalize_url(URL)] * 2
    assert world.journal.writes()[writes_before:] == ["fetcher.fetch", "articles.mark_checked"]
    assert world.documents.keys("articles") == [first.keys["article"]]
    record = world.articles.records[article_id()]
    assert record.status is ArticleStatus.ENRICHED and record.version == 1
    assert record.checked_at == world.clock.now


def test_only_a_first_fetch_is_saved_as_a_new_item(world: World) -> None:
    # GIVEN an article fetched once (the stage's read found no item), then recorded FAILED
    world.stage.run(IngestMessage(url=URL))
    world.articles.records[article_id()] = world.articles.records[article_id()].model_copy(
        update={"status": ArticleStatus.FAILED}
    )
    # WHEN it is pushed again (the read finds the item)
    again = world.stage.run(IngestMessage(url=URL))

    # THEN only the first save may be a put of a new item; the second updates the item
    assert again.outcome is Outcome.FETCHED
    assert world.articles.saved_as_new == [True, False]
    assert world.articles.records[article_id()].attempts == 2


def test_a_url_refused_by_its_form_is_failed_not_fetched(world: World) -> None:
    # WHEN a message carries something that is not a usable URL
    result = world.stage.run(IngestMessage(url="ftp://news.example.com/story"))

    # THEN it is FAILED without any fetch
    assert result.outcome is Outcome.FAILED
    assert result.failure is not None and result.failure.reason is Reason.INVALID_URL
    assert world.fetcher.fetched == []


def test_permanent_errors_are_never_raised_by_run(world: World) -> None:
    # GIVEN a fetcher that refuses the address
    world.fetcher.pages[canonicalize_url(URL)] = PermanentError(Reason.BLOCKED_URL, "private")

    # WHEN the stage runs, THEN the outcome is returned, not raised
    assert world.stage.run(IngestMessage(url=URL)).outcome is Outcome.FAILED
