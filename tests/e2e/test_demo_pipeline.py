"""The whole pipeline on the local stack: sample pages in, documents and items out."""

from __future__ import annotations

import json

import pytest

from newsflow.storage import ArticleQueries, ArticleTable
from newsflow_cli.demo import DEAD_LETTER, DemoRecord, DemoResult
from newsflow_cli.page_server import ALWAYS_UNAVAILABLE, PageServer
from newsflow_cli.targets import Target

pytestmark = pytest.mark.e2e


def _record(result: DemoResult, url: str) -> DemoRecord:
    return next(r for r in result.records if r.url == url)


def test_every_input_line_ends_as_exactly_one_record(
    demo_result: DemoResult, sample_site: PageServer, not_a_url: str
) -> None:
    # GIVEN the sample URLs plus one line that is not a URL, run through the demo
    lines = [*sample_site.sample_urls(), not_a_url]
    # THEN there is one record per line, in order, and the statuses add up
    assert [r.url for r in demo_result.records] == lines
    counts = demo_result.counts()
    assert sum(counts.values()) == len(lines)
    assert set(counts) == {"ENRICHED", "FAILED", DEAD_LETTER}
    assert demo_result.pushed + demo_result.rejected == len(lines)


def test_a_news_page_lands_in_s3_under_all_three_prefixes(
    demo_result: DemoResult, sample_site: PageServer, target: Target
) -> None:
    # GIVEN the English news page, processed by the demo
    record = _record(demo_result, sample_site.url("/news/solar-ferry-trial.html"))
    # THEN it is ENRICHED and its raw, parsed and enriched documents are in the bucket
    assert record.status == "ENRICHED"
    s3 = target.client("s3")
    bucket = target.output("ArticlesBucketName")
    assert record.keys["raw"].startswith("raw/dt=")
    assert record.keys["article"].startswith("articles/dt=")
    assert record.keys["enriched"].startswith("enriched/dt=")
    for key in record.keys.values():
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def test_the_article_item_carries_what_the_page_says(
    demo_result: DemoResult, sample_site: PageServer, table: ArticleTable
) -> None:
    # GIVEN the news page with author and date in its meta tags and JSON-LD
    url = sample_site.url("/news/solar-ferry-trial.html")
    record = _record(demo_result, url)
    # WHEN its item is read from DynamoDB
    assert record.article_id is not None
    item = table.get(record.article_id)
    # THEN title, author, date, language, sentiment and entities are there
    assert item is not None
    assert item.title == "Bristol approves year-long solar ferry trial on the Avon"
    assert item.author == "Priya Raman"
    assert item.published is not None and item.published.isoformat() == "2026-11-18"
    assert item.language == "en"
    assert item.sentiment is not None
    assert any("Bristol" in entity.text for entity in item.top_entities)


def test_the_entity_index_finds_the_article(
    demo_result: DemoResult, sample_site: PageServer, queries: ArticleQueries
) -> None:
    # GIVEN an entity the enrichment found in the warehouse-fire story
    record = _record(demo_result, sample_site.url("/news/warehouse-fire.html"))
    assert record.status == "ENRICHED" and record.entities
    name = str(record.entities[0]["text"])
    # WHEN the entity index is queried by that name
    mentions = queries.mentioning(name)
    # THEN the story is among the articles mentioning it
    assert record.article_id in {m.article_id for m in mentions}


def test_a_redirected_page_is_enriched_under_the_url_given(
    demo_result: DemoResult, sample_site: PageServer
) -> None:
    # GIVEN an old blog address that answers 301 to the new one
    record = _record(demo_result, sample_site.url("/blog/2026/09/danube-trip"))
    # THEN the article was followed, parsed and enriched, identified by the URL pushed
    assert record.status == "ENRICHED"
    assert record.canonical_url == sample_site.url("/blog/2026/09/danube-trip")
    assert record.title is not None and "Danube" in record.title


@pytest.mark.parametrize(
    ("path", "stage", "reason"),
    [
        ("/news/2026/11/retracted-story.html", "fetch", "http_error"),
        ("/reports/annual-report-2025.pdf", "fetch", "not_html"),
    ],
)
def test_permanent_fetch_failures_are_recorded_not_retried(
    demo_result: DemoResult,
    demo_hits: dict[str, int],
    sample_site: PageServer,
    path: str,
    stage: str,
    reason: str,
) -> None:
    # GIVEN a page that answers 404 or serves a PDF
    record = _record(demo_result, sample_site.url(path))
    # THEN its article is FAILED with that stage and reason, and it was fetched only once
    assert record.status == "FAILED"
    assert record.failure == {"stage": stage, "reason": reason}
    assert demo_hits[path] == 1


def test_a_page_without_an_article_fails_permanently(
    demo_result: DemoResult, sample_site: PageServer
) -> None:
    # GIVEN the site's about page: navigation and links, no article
    record = _record(demo_result, sample_site.url("/about.html"))
    # THEN it is FAILED for lack of extractable text (not retried, not dead-lettered)
    assert record.status == "FAILED"
    assert record.failure is not None
    assert record.failure["reason"] in {"nothing_extracted", "text_too_short"}


def test_a_german_article_is_not_given_english_entities(
    demo_result: DemoResult, sample_site: PageServer
) -> None:
    # GIVEN a German article and the English-only local model
    record = _record(demo_result, sample_site.url("/de/hamburger-hafen.html"))
    # THEN it is ENRICHED (never FAILED for its language) but not analysed: no garbage
    # entities, no sentiment, and marked as such
    assert record.language == "de"
    assert record.status == "ENRICHED"
    assert record.failure is None
    assert record.language_supported is False
    assert record.entities == []
    assert record.sentiment is None
    assert record.keys.get("enriched")


def test_an_always_unavailable_page_ends_in_the_dlq_after_every_retry(
    demo_result: DemoResult, demo_hits: dict[str, int], sample_site: PageServer, target: Target
) -> None:
    # GIVEN the page that always answers 503 (a transient error)
    record = _record(demo_result, sample_site.url(ALWAYS_UNAVAILABLE))
    # THEN it is a dead letter whose failure is its retry note (the last error recorded)
    assert record.status == DEAD_LETTER
    assert record.failure == {"stage": "fetch", "reason": "http_error"}
    # AND it was tried exactly as often as the template's redrive policy allows
    assert demo_hits[ALWAYS_UNAVAILABLE] == _max_receive_count(target)


def _max_receive_count(target: Target) -> int:
    sqs = target.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=target.output("IngestQueueUrl"), AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    return int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])


def test_a_line_that_is_not_a_url_never_reaches_the_queue(
    demo_result: DemoResult, not_a_url: str
) -> None:
    # GIVEN a line of prose among the inputs
    record = _record(demo_result, not_a_url)
    # THEN it is FAILED at intake, with an identity, and was not pushed
    assert record.status == "FAILED"
    assert record.failure == {"stage": "intake", "reason": "invalid_url"}
    assert record.article_id is not None
    assert demo_result.rejected == 1
