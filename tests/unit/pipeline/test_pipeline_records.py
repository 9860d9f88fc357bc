"""The record-handling helper both functions share: reject, run, note-and-raise, report."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics

from newsflow.errors import Reason, TransientError
from newsflow.models import IngestMessage, parse_ingest_body
from newsflow.observability import RecordReporter
from newsflow.pipeline import FetchStage
from newsflow.records import process_record
from newsflow.urls import article_id_for, canonicalize_url

from .fakes import Clock, FakeArticles, FakeDocuments, FakeFetcher, FakeQueue, Journal, parse_page

URL = "https://news.example.com/harbour/solar-ferry"


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def documents(journal: Journal) -> FakeDocuments:
    return FakeDocuments(journal)


@pytest.fixture
def articles(journal: Journal) -> FakeArticles:
    return FakeArticles(journal)


@pytest.fixture
def fetcher(journal: Journal) -> FakeFetcher:
    fetcher = FakeFetcher(journal)
    fetcher.serve(canonicalize_url(URL))
    return fetcher


@pytest.fixture
def stage(
    journal: Journal, documents: FakeDocuments, articles: FakeArticles, fetcher: FakeFetcher
) -> FetchStage:
    return FetchStage(
        fetcher=fetcher,
        parse=parse_page,
        documents=documents,
        table=articles,
        enrich_queue=FakeQueue(journal),
        clock=Clock(),
    )


@pytest.fixture
def reporter(monkeypatch: pytest.MonkeyPatch) -> RecordReporter:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "newsflow")
    return RecordReporter(Logger(service="test"), Metrics(service="test"), "test")


def handle(
    stage: FetchStage, reporter: RecordReporter, body: str, receive_count: int = 1
) -> dict[str, Any]:
    return process_record(
        message_id="m-1",
        body=body,
        receive_count=receive_count,
        parse_body=parse_ingest_body,
        stage=stage,
        reporter=reporter,
        describe=lambda message: {"url": message.url},
    )


def test_a_body_that_is_no_message_is_rejected_and_kept(
    stage: FetchStage, reporter: RecordReporter, documents: FakeDocuments, journal: Journal
) -> None:
    # WHEN a record's body is not an ingest message
    outcome = handle(stage, reporter, '{"url": 42}')

    # THEN it is consumed as REJECTED, kept under rejected/, and the stage never ran
    assert outcome == {"status": "REJECTED", "reason": Reason.INVALID_MESSAGE}
    assert len(documents.keys("rejected")) == 1
    assert "fetcher.fetch" not in journal.calls


def test_a_processed_record_reports_the_stage_outcome(
    stage: FetchStage, reporter: RecordReporter
) -> None:
    # WHEN a good record is handled, THEN the outcome names the article
    outcome = handle(stage, reporter, IngestMessage(url=URL).model_dump_json())
    assert outcome == {
        "status": "FETCHED",
        "article_id": article_id_for(canonicalize_url(URL)),
    }


def test_a_transient_failure_is_noted_then_raised_for_a_retry(
    stage: FetchStage, reporter: RecordReporter, articles: FakeArticles, fetcher: FakeFetcher
) -> None:
    # GIVEN a site that times out
    fetcher.pages[canonicalize_url(URL)] = TransientError(Reason.TIMEOUT, "read timed out")

    # WHEN the record is handled on its fourth delivery, THEN the error is raised again
    with pytest.raises(TransientError):
        handle(stage, reporter, URL, receive_count=4)
    # AND the retry note says why and on which attempt
    note = articles.retry_notes[article_id_for(canonicalize_url(URL))]
    assert (note.failure.reason, note.receive_count) == (Reason.TIMEOUT, 4)
