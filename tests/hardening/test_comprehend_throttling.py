"""Amazon Comprehend throttles: the enrich message waits (retry, then DLQ), the article is
never marked FAILED for it, and a redrive after the throttling ends completes it.

Comprehend is a botocore Stubber (moto does not implement the batch calls); everything else is
moto, and the messages travel through the fixture's real SQS queues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from .support import DEAD_LETTER, REGION, Driver, assert_no_duplicates_or_leftovers

TEXT_START = "Portsmouth council voted on Tuesday to fund a new harbour bridge over the estuary."


@pytest.fixture
def comprehend() -> Iterator[Stubber]:
    client = boto3.client("comprehend", region_name=REGION)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def enrich_handler(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], ModuleType],
    comprehend: Stubber,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """The enrich handler configured for Comprehend, whose client is the stubbed one."""
    module = load_function(
        "EnrichFunction", {**pipeline.enrich_env(), "ENRICH_BACKEND": "comprehend"}
    )

    def client(service: Any, **kwargs: Any) -> Any:
        return comprehend.client if service == "comprehend" else boto3.client(service, **kwargs)

    monkeypatch.setattr(module, "boto3", SimpleNamespace(client=client))
    return module


def throttle(stub: Stubber) -> None:
    stub.add_client_error(
        "batch_detect_entities",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
    )


def answer(stub: Stubber) -> None:
    stub.add_response(
        "batch_detect_entities",
        {
            "ResultList": [
                {
                    "Index": 0,
                    "Entities": [
                        {
                            "Score": 0.99,
                            "Type": "LOCATION",
                            "Text": "Portsmouth",
                            "BeginOffset": 0,
                            "EndOffset": 10,
                        }
                    ],
                }
            ],
            "ErrorList": [],
        },
    )
    stub.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [
                {
                    "Index": 0,
                    "Sentiment": "POSITIVE",
                    "SentimentScore": {
                        "Positive": 0.9,
                        "Negative": 0.02,
                        "Neutral": 0.07,
                        "Mixed": 0.01,
                    },
                }
            ],
            "ErrorList": [],
        },
    )


@pytest.fixture
def article_url(page_server: Any, make_article_page: Callable[..., bytes]) -> str:
    paragraphs = [
        TEXT_START,
        "Residents welcomed the decision after a decade of debate about the old crossing.",
        "Engineers will survey the riverbank in March and expect the bridge to open in 2029.",
    ]
    return str(page_server.add("/news/bridge", make_article_page(paragraphs=paragraphs)))


def test_throttled_once_the_article_is_enriched_on_the_retry(
    drive: Driver, comprehend: Stubber, article_url: str
) -> None:
    # GIVEN Comprehend throttles the first call, then answers
    throttle(comprehend)
    answer(comprehend)

    # WHEN the article goes through the queues
    ledger = drive.run([article_url])

    # THEN it is enriched by Comprehend, with the entity it returned
    assert ledger.outcome[article_url] == "ENRICHED"
    [article] = ledger.articles.values()
    assert [e["text"] for e in article["top_entities"]] == ["Portsmouth"]
    assert article["sentiment"]["label"] == "POSITIVE"
    assert_no_duplicates_or_leftovers(drive.pipeline)


def test_throttled_throughout_it_waits_in_the_dlq_and_a_redrive_completes_it(
    drive: Driver, comprehend: Stubber, article_url: str
) -> None:
    # GIVEN Comprehend throttles every delivery the queue allows
    for _ in range(drive.pipeline.max_receive_count):
        throttle(comprehend)

    # WHEN the article goes through the queues
    ledger = drive.run([article_url])

    # THEN its enrich message is a dead letter and the article is not marked FAILED
    assert ledger.outcome[article_url] == DEAD_LETTER
    [article] = ledger.articles.values()
    assert article["status"] == "FETCHED"
    assert len(ledger.dead_letters[drive.pipeline.enrich_dlq_url]) == 1

    # WHEN the throttling ends and the dead letter is redriven
    answer(comprehend)
    assert drive.redrive() == 1
    drive.drain()

    # THEN the article is enriched, once
    assert drive.ledger().outcome[article_url] == "ENRICHED"
    assert_no_duplicates_or_leftovers(drive.pipeline)
