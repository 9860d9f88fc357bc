"""FetchFunction's handler hands a batch's articles to enrichment in one SendMessageBatch, and a
message the batch call did not accept fails its own record only (moto, loopback pages)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from newsflow.storage import ArticleTable
from newsflow.storage.items import ARTICLE_SK
from newsflow.urls import article_id_for, canonicalize_url

from .sqs_events import sqs_event

TOPICS = ("harbour", "railway", "library", "orchard")


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> boto3.session.Session:
    """The session the handler's clients are created from: hooks registered on it reach them."""
    session = boto3.session.Session()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return session


@pytest.fixture
def sqs_calls(session: boto3.session.Session) -> list[tuple[str, dict[str, Any]]]:
    """Every SQS call the handler's clients make."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def note(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params))

    session.events.register("before-parameter-build.sqs.*", note)
    return calls


@pytest.fixture
def handler(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    monkeypatch.setenv("NEWSFLOW_ALLOW_LOOPBACK", "true")
    # one loopback host serves every page: let it take them all at once
    return load_function(
        "FetchFunction", {**pipeline.fetch_env(), "HOST_REQUESTS_PER_SECOND": "50"}
    )


def pages(page_server: Any, make_article_page: Callable[..., bytes]) -> dict[str, str]:
    """Four different stories on the page server: topic -> URL."""
    return {
        topic: page_server.add(
            f"/news/{topic}",
            make_article_page(
                title=f"The {topic} story",
                paragraphs=[
                    f"A long report about the {topic} and its {n} neighbours." * 5 for n in range(4)
                ],
            ),
        )
        for topic in TOPICS
    }


def handoff_mark(pipeline: Any, url: str) -> tuple[str, bool]:
    record = ArticleTable(pipeline.table, pipeline.dynamodb).get(
        article_id_for(canonicalize_url(url))
    )
    assert record is not None
    return record.status.value, record.handoff_at is not None


def enrich_messages(pipeline: Any) -> list[str]:
    """The article ids waiting on the enrich queue."""
    return sorted(
        json.loads(message["Body"])["article_id"]
        for message in pipeline.receive_all(pipeline.enrich_queue_url)
    )


def test_a_batch_hands_its_articles_off_in_one_call(
    pipeline: Any,
    handler: ModuleType,
    page_server: Any,
    make_article_page: Any,
    lambda_context: Any,
    session: boto3.session.Session,
    sqs_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    # GIVEN a batch of four articles, fetched at once: every record has started (read its
    # article item) before any goes on, as when the fetches overlap
    urls = pages(page_server, make_article_page)
    event = sqs_event(pipeline, list(urls.values()))
    all_started = threading.Barrier(len(urls), timeout=30)

    def article_read(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["sk"]["S"] == ARTICLE_SK:
            all_started.wait()

    session.events.register("before-parameter-build.dynamodb.GetItem", article_read)
    sqs_calls.clear()
    # WHEN the handler runs
    response = handler.lambda_handler(event, lambda_context)
    # THEN all four were handed off by one SendMessageBatch carrying the four messages
    assert response == {"batchItemFailures": []}
    assert [name for name, _ in sqs_calls] == ["SendMessageBatch"]
    assert len(sqs_calls[0][1]["Entries"]) == 4
    # AND each article is FETCHED with its hand-off mark, and has its one enrich message
    assert {handoff_mark(pipeline, url) for url in urls.values()} == {("FETCHED", True)}
    assert enrich_messages(pipeline) == sorted(
        article_id_for(canonicalize_url(url)) for url in urls.values()
    )


def test_a_message_the_batch_call_did_not_accept_fails_only_its_record(
    pipeline: Any,
    handler: ModuleType,
    page_server: Any,
    make_article_page: Any,
    lambda_context: Any,
    session: boto3.session.Session,
    sqs_calls: list[tuple[str, dict[str, Any]]],
) -> None:
    # GIVEN SQS refuses one entry of the batch call (InternalError): the railway article's
    urls = pages(page_server, make_article_page)
    refused = article_id_for(canonicalize_url(urls["railway"]))
    refused_ids: list[str] = []
    refusing = True

    def drop_entry(params: dict[str, Any], **_: Any) -> None:
        for entry in list(params["Entries"]) if refusing else []:
            if json.loads(entry["MessageBody"])["article_id"] == refused:
                params["Entries"].remove(entry)
                refused_ids.append(entry["Id"])

    def report_failed(parsed: dict[str, Any], **_: Any) -> None:
        parsed.setdefault("Failed", []).extend(
            {"Id": entry_id, "SenderFault": False, "Code": "InternalError", "Message": "oops"}
            for entry_id in refused_ids
        )
        refused_ids.clear()

    session.events.register("before-parameter-build.sqs.SendMessageBatch", drop_entry)
    session.events.register("after-call.sqs.SendMessageBatch", report_failed)
    event = sqs_event(pipeline, list(urls.values()))
    railway = next(r["messageId"] for r in event["Records"] if r["body"] == urls["railway"])
    # WHEN the handler runs
    response = handler.lambda_handler(event, lambda_context)

    # THEN only the railway record is reported for a retry
    assert response == {"batchItemFailures": [{"itemIdentifier": railway}]}
    # AND its article is FETCHED without the hand-off mark; the others have theirs
    assert handoff_mark(pipeline, urls["railway"]) == ("FETCHED", False)
    others = [url for topic, url in urls.items() if topic != "railway"]
    assert {handoff_mark(pipeline, url) for url in others} == {("FETCHED", True)}
    assert refused not in enrich_messages(pipeline)

    # WHEN SQS delivers the railway record again, and accepts its message
    refusing = False
    sqs_calls.clear()
    response = handler.lambda_handler(sqs_event(pipeline, [urls["railway"]]), lambda_context)
    # THEN only its hand-off is redone: the page is not fetched again, one message goes out
    assert response == {"batchItemFailures": []}
    assert page_server.hits["/news/railway"] == 1
    assert [name for name, _ in sqs_calls] == ["SendMessageBatch"]
    assert handoff_mark(pipeline, urls["railway"]) == ("FETCHED", True)
    assert enrich_messages(pipeline) == [refused]
