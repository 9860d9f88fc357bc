"""FetchFunction's handler against moto, on the sample events, fetching from 127.0.0.1."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from newsflow.urls import article_id_for, canonicalize_url


def rewrite_bodies(event: dict[str, Any], urls: dict[int, str]) -> dict[str, Any]:
    """Point the event's good records at the loopback page server, keeping everything else."""
    for index, url in urls.items():
        record = event["Records"][index]
        body = record["body"]
        if body.lstrip().startswith("{"):
            payload = json.loads(body)
            payload["url"] = url
            record["body"] = json.dumps(payload)
        else:
            record["body"] = url
    return event


def item(pipeline: Any, article_id: str) -> dict[str, Any] | None:
    from newsflow.storage import ArticleTable

    record = ArticleTable(pipeline.table, pipeline.dynamodb).get(article_id)
    return record.model_dump(mode="json") if record else None


@pytest.fixture
def fetch_handler(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    monkeypatch.setenv("NEWSFLOW_ALLOW_LOOPBACK", "true")
    return load_function("FetchFunction", pipeline.fetch_env())


def test_single_event_stores_raw_parsed_item_and_hands_off(
    pipeline: Any,
    fetch_handler: ModuleType,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN the sample event pointing at a real article page on loopback
    url = page_server.add("/news/harbour-bridge", make_article_page())
    event = rewrite_bodies(sample_event("fetch_single.json"), {0: url})
    article_id = article_id_for(canonicalize_url(url))

    # WHEN the handler runs
    response = fetch_handler.lambda_handler(event, lambda_context)

    # THEN nothing is retried
    assert response == {"batchItemFailures": []}
    # AND the raw page is stored gzipped with its provenance
    [raw_key] = pipeline.keys("raw/")
    assert raw_key.startswith("raw/dt=") and raw_key.endswith(f"/{article_id}.html.gz")
    raw = pipeline.s3.get_object(Bucket=pipeline.bucket, Key=raw_key)
    assert gzip.decompress(raw["Body"].read()) == make_article_page()
    assert raw["Metadata"]["http-status"] == "200"
    assert raw["Metadata"]["final-url"] == url
    # AND the parsed document is stored as JSON
    [doc_key] = pipeline.keys("articles/")
    document = json.loads(
        pipeline.s3.get_object(Bucket=pipeline.bucket, Key=doc_key)["Body"].read()
    )
    assert document["title"] == "Portsmouth approves new harbour bridge"
    assert document["article_id"] == article_id
    assert "harbour bridge" in document["text"]
    # AND the article item is FETCHED with the keys and source from the message
    record = item(pipeline, article_id)
    assert record is not None
    assert record["status"] == "FETCHED"
    assert (record["raw_key"], record["article_key"]) == (raw_key, doc_key)
    assert record["source"] == "sample-event"
    assert record["metadata"] == {"feed": "harbour-gazette"}
    assert record["handoff_at"] is not None
    # AND exactly one enrich message names the document
    [message] = pipeline.receive_all(pipeline.enrich_queue_url)
    assert json.loads(message["Body"]) == {
        "article_id": article_id,
        "bucket": pipeline.bucket,
        "key": doc_key,
    }


def test_batch_with_bad_records_fails_none_and_records_each(
    pipeline: Any,
    fetch_handler: ModuleType,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN the sample batch: two good URLs, a truncated JSON body and an ftp:// URL
    first = page_server.add("/blog/estuaries", make_article_page(title="Estuaries"))
    second = page_server.add("/world/summit", make_article_page(title="Summit"))
    event = rewrite_bodies(sample_event("fetch_batch_with_bad_records.json"), {0: first, 3: second})

    # WHEN the handler runs
    response = fetch_handler.lambda_handler(event, lambda_context)

    # THEN no record is retried: the bad ones are permanent and recorded
    assert response == {"batchItemFailures": []}
    # AND the good ones are FETCHED
    for url in (first, second):
        record = item(pipeline, article_id_for(canonicalize_url(url)))
        assert record is not None and record["status"] == "FETCHED"
    # AND the ftp URL is a FAILED item with a readable reason
    from newsflow.urls import fallback_article_id

    failed = item(pipeline, fallback_article_id("ftp://files.example.com/reports/annual.pdf"))
    assert failed is not None
    assert failed["status"] == "FAILED"
    assert failed["failure"]["reason"] == "invalid_url"
    assert "ftp" in failed["failure"]["detail"]
    # AND the body with no URL is kept under rejected/ with its reason
    [rejected_key] = pipeline.keys("rejected/")
    rejected = json.loads(
        pipeline.s3.get_object(Bucket=pipeline.bucket, Key=rejected_key)["Body"].read()
    )
    assert rejected["body"] == '{"url": '
    assert rejected["failure"]["reason"] == "invalid_message"
    # AND only the two good articles go on to enrichment
    assert len(pipeline.receive_all(pipeline.enrich_queue_url)) == 2


def test_404_is_recorded_failed_and_not_retried(
    pipeline: Any,
    fetch_handler: ModuleType,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
) -> None:
    # GIVEN a URL that answers 404
    url = page_server.url("/gone")
    event = rewrite_bodies(sample_event("fetch_single.json"), {0: url})

    # WHEN the handler runs
    response = fetch_handler.lambda_handler(event, lambda_context)

    # THEN it is consumed and recorded FAILED with the HTTP status
    assert response == {"batchItemFailures": []}
    record = item(pipeline, article_id_for(canonicalize_url(url)))
    assert record is not None
    assert record["status"] == "FAILED"
    assert record["failure"]["stage"] == "fetch"
    assert record["failure"]["reason"] == "http_error"
    assert record["failure"]["http_status"] == 404
    assert pipeline.receive_all(pipeline.enrich_queue_url) == []


def test_transient_error_is_reported_for_retry_then_succeeds(
    pipeline: Any,
    fetch_handler: ModuleType,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN a page that is temporarily unavailable (503)
    url = page_server.add("/busy", b"<html>busy</html>", status=503)
    event = rewrite_bodies(sample_event("fetch_single.json"), {0: url})
    message_id = event["Records"][0]["messageId"]

    # WHEN the handler runs
    response = fetch_handler.lambda_handler(event, lambda_context)

    # THEN the record is reported for retry and nothing is recorded yet
    assert response == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    assert item(pipeline, article_id_for(canonicalize_url(url))) is None
    # AND why it failed is noted for `newsflow dlq`, should it end as a dead letter
    from newsflow.storage import ArticleQueries

    note = ArticleQueries(pipeline.table, pipeline.dynamodb).retry_note(
        article_id_for(canonicalize_url(url))
    )
    assert note is not None
    assert (note.failure.reason, note.failure.http_status, note.receive_count) == (
        "http_error",
        503,
        1,
    )

    # WHEN the page recovers and SQS redelivers the record
    page_server.add("/busy", make_article_page())
    response = fetch_handler.lambda_handler(event, lambda_context)

    # THEN it is fetched
    assert response == {"batchItemFailures": []}
    record = item(pipeline, article_id_for(canonicalize_url(url)))
    assert record is not None and record["status"] == "FETCHED"


def test_mixed_batch_reports_exactly_the_transient_record(
    pipeline: Any,
    fetch_handler: ModuleType,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN a batch where one page is down (502), one is fine and the others are bad input
    down = page_server.add("/down", b"bad gateway", status=502)
    fine = page_server.add("/fine", make_article_page())
    event = rewrite_bodies(sample_event("fetch_batch_with_bad_records.json"), {0: down, 3: fine})
    down_id = event["Records"][0]["messageId"]

    # WHEN the handler runs
    response = fetch_handler.lambda_handler(event, lambda_context)

    # THEN only the record whose page was down is retried
    assert response == {"batchItemFailures": [{"itemIdentifier": down_id}]}
    fine_record = item(pipeline, article_id_for(canonicalize_url(fine)))
    assert fine_record is not None and fine_record["status"] == "FETCHED"


def test_loopback_is_refused_without_the_local_setting(
    pipeline: Any,
    load_function: Any,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
    make_article_page: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the deployed configuration (no NEWSFLOW_ALLOW_LOOPBACK) and a page on 127.0.0.1
    monkeypatch.delenv("NEWSFLOW_ALLOW_LOOPBACK", raising=False)
    handler = load_function("FetchFunction", pipeline.fetch_env())
    url = page_server.add("/article", make_article_page())
    event = rewrite_bodies(sample_event("fetch_single.json"), {0: url})

    # WHEN the handler runs
    response = handler.lambda_handler(event, lambda_context)

    # THEN the URL is blocked, recorded, never requested
    assert response == {"batchItemFailures": []}
    record = item(pipeline, article_id_for(canonicalize_url(url)))
    assert record is not None
    assert record["failure"]["reason"] == "blocked_url"
    assert page_server.hits.get("/article", 0) == 0


def test_redelivery_of_a_fetched_url_is_a_no_op(
    pipeline: Any,
    fetch_handler: ModuleType,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN a URL already fetched and handed off
    url = page_server.add("/story", make_article_page())
    event = rewrite_bodies(sample_event("fetch_single.json"), {0: url})
    fetch_handler.lambda_handler(event, lambda_context)
    assert len(pipeline.receive_all(pipeline.enrich_queue_url)) == 1

    # WHEN the same URL arrives again under another spelling
    respelled = url.replace("http://127.0.0.1", "HTTP://127.0.0.1") + "?utm_source=feed#top"
    fetch_handler.lambda_handler(rewrite_bodies(event, {0: respelled}), lambda_context)

    # THEN the page is not downloaded again and no second hand-off is sent
    assert page_server.hits["/story"] == 1
    assert pipeline.receive_all(pipeline.enrich_queue_url) == []
    assert len(pipeline.keys("articles/")) == 1


def test_force_refetches_an_already_fetched_url(
    pipeline: Any,
    fetch_handler: ModuleType,
    page_server: Any,
    sample_event: Any,
    lambda_context: Any,
    make_article_page: Any,
) -> None:
    # GIVEN a URL already fetched
    url = page_server.add("/story", make_article_page(title="First version"))
    event = rewrite_bodies(sample_event("fetch_single.json"), {0: url})
    fetch_handler.lambda_handler(event, lambda_context)
    pipeline.receive_all(pipeline.enrich_queue_url)

    # WHEN it is pushed again with force=true after the page changed
    page_server.add("/story", make_article_page(title="Second version"))
    record = event["Records"][0]
    record["body"] = json.dumps({"url": url, "force": True})
    fetch_handler.lambda_handler(event, lambda_context)

    # THEN it is downloaded again, re-recorded and handed off again, still one article
    assert page_server.hits["/story"] == 2
    stored = item(pipeline, article_id_for(canonicalize_url(url)))
    assert stored is not None
    assert stored["title"] == "Second version"
    assert stored["attempts"] == 2
    assert len(pipeline.receive_all(pipeline.enrich_queue_url)) == 1


def test_a_refused_url_with_credentials_is_recorded_without_them(
    pipeline: Any, fetch_handler: ModuleType, sample_event: Any, lambda_context: Any
) -> None:
    # GIVEN a URL carrying a password
    from newsflow.urls import fallback_article_id

    url = "http://admin:hunter2@news.example.com/story"
    event = rewrite_bodies(sample_event("fetch_single.json"), {0: url})

    # WHEN the handler refuses it
    assert fetch_handler.lambda_handler(event, lambda_context) == {"batchItemFailures": []}

    # THEN the FAILED item keeps the URL without the secret
    record = item(pipeline, fallback_article_id(url))
    assert record is not None
    assert record["failure"]["reason"] == "invalid_url"
    assert record["url"] == "http://***@news.example.com/story"
