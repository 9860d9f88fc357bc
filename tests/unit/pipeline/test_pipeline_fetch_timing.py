"""The fetch stage records how long the download took (the report's slowest hosts)."""

from __future__ import annotations

from newsflow.fetching import FetchedPage
from newsflow.models import IngestMessage
from newsflow.pipeline import FetchStage
from newsflow.urls import article_id_for, canonicalize_url

from .fakes import Clock, FakeArticles, FakeDocuments, FakeFetcher, FakeQueue, Journal
from .fakes import parse_page as fake_parse

URL = "https://news.example.com/harbour/slow-page"


class SlowFetcher(FakeFetcher):
    """A fetcher whose download takes 850 ms on the stage's clock."""

    def __init__(self, journal: Journal, clock: Clock) -> None:
        super().__init__(journal)
        self._clock = clock

    def fetch(self, url: str) -> FetchedPage:
        self._clock.advance(milliseconds=850)
        return super().fetch(url)


def test_the_article_item_carries_the_download_time() -> None:
    # GIVEN a page that takes 850 ms to download
    journal, clock = Journal(), Clock()
    fetcher = SlowFetcher(journal, clock)
    fetcher.serve(canonicalize_url(URL))
    articles = FakeArticles(journal)
    stage = FetchStage(
        fetcher=fetcher,
        parse=fake_parse,
        documents=FakeDocuments(journal),
        table=articles,
        enrich_queue=FakeQueue(journal),
        clock=clock,
    )

    # WHEN it is fetched
    stage.run(IngestMessage(url=URL))

    # THEN its record says so
    assert articles.records[article_id_for(canonicalize_url(URL))].fetch_ms == 850
