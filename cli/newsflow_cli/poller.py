"""Lambda's SQS event source mapping, played in this process.

For every SQS event source of the stack's functions the poller receives up to ``BatchSize``
messages, builds the event Lambda would deliver (the shape ``sam local generate-event sqs
receive-message`` prints), runs the function's handler in its container and then does what the
event source mapping does with the answer:

* success: delete every record, except those named in ``batchItemFailures`` when the mapping
  has ``ReportBatchItemFailures``;
* handler error or timeout, or a malformed batch response: delete nothing.

Records that are not deleted come back after the queue's visibility timeout and, after the
queue's ``maxReceiveCount``, SQS moves them to the dead-letter queue - the template's redrive
policy decides, exactly as on AWS. Why a dead letter died is the article's retry note, which the
handler itself records (``newsflow dlq`` and ``newsflow demo`` read it); the poller reads no logs.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from newsflow_cli.lambda_runtime import ContainerPool, Invocation
from newsflow_cli.stacks import EventSource, FunctionSpec, StackDescription

_IDLE_SLEEP_SECONDS = 0.2


@dataclass(frozen=True)
class BatchOutcome:
    function: str
    received: int
    deleted: int
    failed: int
    invocation: Invocation


@dataclass
class DrainReport:
    drained: bool
    rounds: int = 0
    records: int = 0
    seconds: float = 0.0


def _lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS API message attributes -> the lower-camel-case shape Lambda puts in events."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            entry["binaryValue"] = base64.b64encode(raw).decode("ascii")
        converted[name] = entry
    return converted


def build_sqs_event(
    messages: Iterable[dict[str, Any]], *, queue_arn: str, region: str
) -> dict[str, Any]:
    """The event Lambda delivers for a batch received from ``queue_arn``."""
    records = []
    for message in messages:
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message.get("Body", ""),
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": _lambda_message_attributes(
                    message.get("MessageAttributes", {})
                ),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def _failed_ids(invocation: Invocation, event: dict[str, Any], source: EventSource) -> set[str]:
    """Message ids that must stay on the queue, as the event source mapping decides."""
    all_ids = {record["messageId"] for record in event["Records"]}
    if not invocation.ok:
        return all_ids
    if not source.reports_batch_item_failures:
        return set()
    result = invocation.result
    if result is None or result == {}:
        return set()
    if not isinstance(result, dict):
        return all_ids
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return all_ids
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in all_ids:
            # Lambda treats a malformed response as a failure of the whole batch.
            return all_ids
        failed.add(identifier)
    return failed


@dataclass
class Poller:
    """Runs the stack's SQS-triggered functions until their queues are empty."""

    description: StackDescription
    sqs: Any
    pool: ContainerPool
    region: str
    on_batch: Callable[[BatchOutcome], None] | None = None
    # Called before each round: the local stack plays the template's schedules here.
    before_round: Callable[[], object] | None = None

    @property
    def sources(self) -> list[tuple[FunctionSpec, EventSource]]:
        return [
            (spec, source)
            for spec in self.description.functions
            for source in spec.event_sources
            if source.enabled and spec.code_dir is not None
        ]

    # ------------------------------------------------------------------ one function

    def invoke(self, function: str, event: Any) -> Invocation:
        """Run ``function`` (logical id or short name) once on ``event`` (`sam local invoke`)."""
        spec = self.description.function(function)
        return self.pool.get(spec).invoke(event)

    # ------------------------------------------------------------------ polling

    def _receive(self, source: EventSource) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < source.batch_size:
            response = self.sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(10, source.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            batch = response.get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        return messages

    def _delete(self, source: EventSource, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )

    def process_batch(self, spec: FunctionSpec, source: EventSource) -> BatchOutcome | None:
        messages = self._receive(source)
        if not messages:
            return None
        event = build_sqs_event(messages, queue_arn=source.queue_arn, region=self.region)
        invocation = self.pool.get(spec).invoke(event)
        failed = _failed_ids(invocation, event, source)
        succeeded = [r for r in event["Records"] if r["messageId"] not in failed]
        self._delete(source, succeeded)
        outcome = BatchOutcome(
            function=spec.logical_id,
            received=len(messages),
            deleted=len(succeeded),
            failed=len(failed),
            invocation=invocation,
        )
        if self.on_batch is not None:
            self.on_batch(outcome)
        return outcome

    def poll_once(self) -> int:
        """One receive-invoke-delete round over every event source; returns records handled."""
        if self.before_round is not None:
            self.before_round()
        handled = 0
        for spec, source in self.sources:
            outcome = self.process_batch(spec, source)
            if outcome is not None:
                handled += outcome.received
        return handled

    def pending(self) -> int:
        """Messages still on the source queues: visible, in flight or delayed."""
        total = 0
        for _, source in self.sources:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=source.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            total += sum(int(value) for value in attributes.values())
        return total

    def run_until_drained(self, timeout: float = 120.0) -> DrainReport:
        """Poll until every source queue is empty (retries included) or ``timeout`` passes."""
        started = time.monotonic()
        report = DrainReport(drained=False)
        while True:
            handled = self.poll_once()
            if handled:
                report.rounds += 1
                report.records += handled
            elif self.pending() == 0:
                report.drained = True
                break
            elif time.monotonic() - started > timeout:
                break
            else:
                time.sleep(_IDLE_SLEEP_SECONDS)
        report.seconds = time.monotonic() - started
        return report

    def run_forever(self, should_stop: Callable[[], bool]) -> None:
        """For `newsflow local up`: keep polling until ``should_stop()`` says so."""
        while not should_stop():
            if not self.poll_once():
                time.sleep(_IDLE_SLEEP_SECONDS)
