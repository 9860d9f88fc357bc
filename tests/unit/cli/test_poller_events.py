"""The poller's event building and its reading of batch responses and failure logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsflow_cli.lambda_runtime import Invocation
from newsflow_cli.poller import _failed_ids, build_sqs_event
from newsflow_cli.stacks import EventSource, FunctionSpec

EVENTS_DIR = Path(__file__).resolve().parents[3] / "events"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ingest"


def _message(message_id: str, body: str, **extra: Any) -> dict[str, Any]:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "MD5OfBody": "0" * 32,
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1795771800000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1795771800012",
        },
        **extra,
    }


def _source(report_failures: bool = True) -> EventSource:
    types = ("ReportBatchItemFailures",) if report_failures else ()
    return EventSource(QUEUE_ARN, "http://127.0.0.1:1/q", 10, types)


def _spec() -> FunctionSpec:
    return FunctionSpec(
        logical_id="FetchFunction",
        function_name="stack-FetchFunction-X",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:stack-FetchFunction-X",
        handler="app.lambda_handler",
        runtime="python3.12",
        timeout=60,
        memory_size=1024,
        environment={},
        code_dir=Path(),
    )


def _event(*ids: str) -> dict[str, Any]:
    return build_sqs_event(
        [_message(i, f"https://example.com/{i}") for i in ids], queue_arn=QUEUE_ARN, region="r"
    )


def test_records_have_the_keys_of_a_sam_generated_event() -> None:
    # GIVEN the project's sample event, real-shaped like `sam local generate-event` output
    sample = json.loads((EVENTS_DIR / "fetch_single.json").read_text(encoding="utf-8"))
    expected = sample["Records"][0]
    # WHEN the poller builds an event from a received message
    event = build_sqs_event(
        [_message("m-1", "https://example.com/a")], queue_arn=QUEUE_ARN, region="us-east-1"
    )
    record = event["Records"][0]
    # THEN the record has the same keys and attribute names
    assert set(record) == set(expected)
    assert set(record["attributes"]) == set(expected["attributes"])
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == QUEUE_ARN
    assert record["receiptHandle"] == "handle-m-1"


def test_message_attributes_take_the_lambda_event_shape() -> None:
    # GIVEN a message with a string attribute, as the SQS API returns it
    message = _message(
        "m-1",
        "body",
        MessageAttributes={"feed": {"DataType": "String", "StringValue": "harbour"}},
    )
    # WHEN it becomes an event record
    record = build_sqs_event([message], queue_arn=QUEUE_ARN, region="r")["Records"][0]
    # THEN the attribute is in Lambda's lower-camel-case form
    assert record["messageAttributes"] == {
        "feed": {
            "stringValue": "harbour",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }


def test_only_reported_items_stay_on_the_queue() -> None:
    # GIVEN a handler that reports one of two records as failed
    event = _event("a", "b")
    invocation = Invocation("F", "r", result={"batchItemFailures": [{"itemIdentifier": "b"}]})
    # WHEN the response is read
    failed = _failed_ids(invocation, event, _source())
    # THEN only that record stays
    assert failed == {"b"}


def test_a_handler_error_keeps_the_whole_batch() -> None:
    # GIVEN a handler that raised
    event = _event("a", "b")
    invocation = Invocation("F", "r", error=RuntimeError("boom"))
    # WHEN the response is read
    failed = _failed_ids(invocation, event, _source())
    # THEN no record is deleted
    assert failed == {"a", "b"}


def test_an_unknown_item_identifier_fails_the_whole_batch() -> None:
    # GIVEN a batch response naming a message that was not in the batch
    event = _event("a", "b")
    invocation = Invocation("F", "r", result={"batchItemFailures": [{"itemIdentifier": "zzz"}]})
    # WHEN the response is read
    failed = _failed_ids(invocation, event, _source())
    # THEN Lambda's rule applies: the whole batch is retried
    assert failed == {"a", "b"}


def test_without_report_batch_item_failures_a_success_deletes_everything() -> None:
    # GIVEN a mapping without ReportBatchItemFailures and a handler that returned failures
    event = _event("a", "b")
    invocation = Invocation("F", "r", result={"batchItemFailures": [{"itemIdentifier": "a"}]})
    # WHEN the response is read
    failed = _failed_ids(invocation, event, _source(report_failures=False))
    # THEN the return value is ignored, as Lambda ignores it
    assert failed == set()


@pytest.mark.parametrize("result", [None, {}, {"batchItemFailures": []}])
def test_empty_responses_mean_success(result: Any) -> None:
    # GIVEN a handler that returned nothing to retry
    event = _event("a")
    invocation = Invocation("F", "r", result=result)
    # WHEN the response is read / THEN nothing stays on the queue
    assert _failed_ids(invocation, event, _source()) == set()
