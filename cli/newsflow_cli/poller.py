"""Lambda's SQS event source mapping, played by this process for the local stack.

For every SQS event source of the stack's functions the poller receives up to ``BatchSize``
messages (waiting up to ``MaximumBatchingWindowInSeconds`` for a batch to fill), builds the
event Lambda would deliver (the shape ``sam local generate-event sqs receive-message`` prints),
runs the function's handler in one of its containers - worker processes, up to the mapping's
``ScalingConfig.MaximumConcurrency`` at once - and then does what the event source mapping
does with the answer:

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
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from newsflow_cli.batching import BatchWindow, concurrency_limit
from newsflow_cli.lambda_runtime import ContainerPool, Invocation
from newsflow_cli.stacks import EventSource, FunctionSpec, StackDescription

_IDLE_SLEEP_SECONDS = 0.2
# How long a receive waits for a message (SQS long polling) when no batch is open; an open
# batching window waits for the rest of the window instead.
_LONG_POLL_SECONDS = 1
# The last part of a window under a second, which long polling cannot express, is slept.
_WINDOW_POLL_SECONDS = 0.1
# Seconds a received batch stays hidden beyond its window and the function's timeout.
_HOLD_MARGIN_SECONDS = 5


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
    """Plays the stack's SQS event source mappings: each one receives batches and runs them on
    the function's worker processes, several at once.

    ``run_until_drained`` / ``run_forever`` (and ``start``/``wait_until_drained``/``stop``) run
    every mapping at once, as Lambda does: a batch is handed over when full or when its
    ``MaximumBatchingWindowInSeconds`` closes, and up to ``MaximumConcurrency`` batches of a
    mapping run at the same time, each in its own container (``max_workers`` caps that locally).
    ``process_batch`` / ``poll_once`` are single synchronous steps for tests that drive the
    pipeline batch by batch: what the queue holds now, no window.
    """

    description: StackDescription
    sqs: Any
    pool: ContainerPool
    region: str
    on_batch: Callable[[BatchOutcome], None] | None = None
    # Called before each round: the local stack plays the template's schedules here.
    before_round: Callable[[], object] | None = None
    max_workers: int | None = None
    _runners: list[_MappingRunner] = field(default_factory=list, init=False, repr=False)
    _report_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _retry_visibility: dict[str, int] = field(default_factory=dict, init=False, repr=False)

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

    # ------------------------------------------------------------------ one batch

    def _receive(
        self, source: EventSource, spec: FunctionSpec, most: int, wait: int = 0
    ) -> list[dict[str, Any]]:
        """Up to ``most`` messages (one call: at most 10), hidden while the batch runs;
        ``wait``: seconds to wait for a first message (long polling, as Lambda's pollers do).

        On AWS the queue's visibility timeout is at least the function's timeout; locally it is
        shortened so that failures retry fast, so the receive asks for the batch's whole time
        and :meth:`run_batch` gives failed records the queue's own timeout back.
        """
        hold = int(spec.timeout + source.batching_window_seconds + _HOLD_MARGIN_SECONDS)
        response = self.sqs.receive_message(
            QueueUrl=source.queue_url,
            MaxNumberOfMessages=max(1, min(10, most)),
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=max(0, min(20, wait)),
            VisibilityTimeout=hold,
        )
        return list(response.get("Messages", []))

    def _receive_now(self, spec: FunctionSpec, source: EventSource) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < source.batch_size:
            batch = self._receive(source, spec, source.batch_size - len(messages))
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

    def _queue_visibility(self, source: EventSource) -> int:
        """The queue's own visibility timeout: how soon a failed record comes back."""
        cached = self._retry_visibility.get(source.queue_url)
        if cached is None:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=source.queue_url, AttributeNames=["VisibilityTimeout"]
            )["Attributes"]
            cached = int(attributes.get("VisibilityTimeout", 30))
            self._retry_visibility[source.queue_url] = cached
        return cached

    def _release(self, source: EventSource, handles: list[str], seconds: int) -> None:
        for start in range(0, len(handles), 10):
            chunk = handles[start : start + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                    for i, handle in enumerate(chunk)
                ],
            )

    def run_batch(
        self,
        spec: FunctionSpec,
        source: EventSource,
        messages: list[dict[str, Any]],
        container: Any = None,
    ) -> BatchOutcome:
        """Invoke the function on ``messages`` and do what the mapping does with the answer:
        delete what succeeded, leave the rest to come back after the queue's timeout."""
        event = build_sqs_event(messages, queue_arn=source.queue_arn, region=self.region)
        invocation = (container or self.pool.get(spec)).invoke(event)
        failed = _failed_ids(invocation, event, source)
        succeeded = [r for r in event["Records"] if r["messageId"] not in failed]
        self._delete(source, succeeded)
        if failed:
            handles = [r["receiptHandle"] for r in event["Records"] if r["messageId"] in failed]
            self._release(source, handles, self._queue_visibility(source))
        outcome = BatchOutcome(
            function=spec.logical_id,
            received=len(messages),
            deleted=len(succeeded),
            failed=len(failed),
            invocation=invocation,
        )
        if self.on_batch is not None:
            with self._report_lock:
                self.on_batch(outcome)
        return outcome

    def process_batch(self, spec: FunctionSpec, source: EventSource) -> BatchOutcome | None:
        """One synchronous batch: what the queue holds now (up to BatchSize), no window."""
        messages = self._receive_now(spec, source)
        if not messages:
            return None
        return self.run_batch(spec, source, messages)

    def poll_once(self) -> int:
        """One synchronous receive-invoke-delete round over every event source."""
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

    # ------------------------------------------------------------------ every mapping at once

    @property
    def running(self) -> bool:
        return bool(self._runners)

    def start(self) -> None:
        """Start playing every mapping in the background (idempotent)."""
        if self._runners:
            return
        self._runners = [
            _MappingRunner(
                self, spec, source, concurrency_limit(source.maximum_concurrency, self.max_workers)
            )
            for spec, source in self.sources
        ]
        for runner in self._runners:
            runner.start()

    def stop(self) -> None:
        """Stop receiving, let running batches finish, give back records not yet handed over."""
        runners, self._runners = self._runners, []
        for runner in runners:
            runner.stopping.set()
        for runner in runners:
            runner.join()

    def close(self) -> None:
        """Stop the mappings and every worker process."""
        self.stop()
        self.pool.close()

    def busy(self) -> int:
        """Batches running right now."""
        return sum(runner.active for runner in self._runners)

    def _dispatched(self) -> int:
        return sum(runner.dispatched for runner in self._runners)

    def idle(self) -> bool:
        """Nothing in flight and every source queue empty, checked so that a batch that
        started meanwhile (and may have sent to another queue) cannot be missed."""
        before = self._dispatched()
        if self.busy():
            return False
        if self.pending():
            return False
        return not self.busy() and self._dispatched() == before

    def wait_until_drained(self, timeout: float, report: DrainReport | None = None) -> DrainReport:
        """With the mappings running: wait until every source queue is empty (retries
        included) and no batch runs, or until ``timeout`` passes."""
        started = time.monotonic()
        report = report or DrainReport(drained=False)
        first_batches = self._dispatched()
        first_records = sum(runner.records for runner in self._runners)
        while True:
            if self.before_round is not None:
                self.before_round()
            if self.idle():
                report.drained = True
                break
            if time.monotonic() - started > timeout:
                break
            time.sleep(_IDLE_SLEEP_SECONDS)
        report.rounds = self._dispatched() - first_batches
        report.records = sum(runner.records for runner in self._runners) - first_records
        report.seconds = time.monotonic() - started
        return report

    def run_until_drained(self, timeout: float = 120.0) -> DrainReport:
        """Run every mapping until every source queue is empty, or ``timeout`` passes."""
        was_running = self.running
        self.start()
        try:
            return self.wait_until_drained(timeout)
        finally:
            if not was_running:
                self.stop()

    def run_forever(self, should_stop: Callable[[], bool]) -> None:
        """For `newsflow local up`: run every mapping until ``should_stop()`` says so."""
        self.start()
        try:
            while not should_stop():
                if self.before_round is not None:
                    self.before_round()
                time.sleep(_IDLE_SLEEP_SECONDS)
        finally:
            self.stop()


class _MappingRunner(threading.Thread):
    """One event source mapping: gathers batches and runs up to ``limit`` of them at once.

    Gathering starts only when a container is free, so no record waits, received, for a
    container; a batch that is gathered runs at once on its own thread.
    """

    def __init__(self, poller: Poller, spec: FunctionSpec, source: EventSource, limit: int):
        super().__init__(name=f"mapping-{spec.logical_id}", daemon=True)
        self.poller = poller
        self.spec = spec
        self.source = source
        self.limit = limit
        self.stopping = threading.Event()
        self.dispatched = 0
        self.records = 0
        self._running = 0
        self._condition = threading.Condition()
        self._threads: list[threading.Thread] = []

    @property
    def active(self) -> int:
        """Batches running now. (Records a batch being gathered holds are in flight on their
        queue, so the poller counts them as pending.)"""
        with self._condition:
            return self._running

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                with self._condition:
                    while self._running >= self.limit and not self.stopping.is_set():
                        self._condition.wait(_IDLE_SLEEP_SECONDS)
                    if self.stopping.is_set():
                        break
                try:
                    messages = self._gather()
                    if messages:
                        self._dispatch(messages)
                except Exception as exc:  # moto restarting, a closed client: say so, go on
                    print(f"{self.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    self.stopping.wait(_IDLE_SLEEP_SECONDS)
        finally:
            for thread in list(self._threads):
                thread.join()

    def _gather(self) -> list[dict[str, Any]]:
        """One batch, by the mapping's rules; empty when the queue had nothing."""
        window = BatchWindow(self.source.batch_size, self.source.batching_window_seconds)
        now = time.monotonic()
        while True:
            # Nothing gathered yet: wait up to a second for a first message. A window open:
            # wait at most what is left of it (whole seconds; the rest is slept below).
            wait = int(window.wait_seconds(now)) if window.records else _LONG_POLL_SECONDS
            messages = self.poller._receive(self.source, self.spec, window.room, wait)
            now = time.monotonic()
            window.add(messages, now)
            if window.ready(now, queue_empty=not messages) or not window.records:
                return window.take()
            if self.stopping.is_set():
                # Handed back at once: the next poller (or run) receives them again.
                handles = [m["ReceiptHandle"] for m in window.take()]
                self.poller._release(self.source, handles, 0)
                return []
            if not messages:
                time.sleep(min(_WINDOW_POLL_SECONDS, max(0.01, window.wait_seconds(now))))

    def _dispatch(self, messages: list[dict[str, Any]]) -> None:
        container = self.poller.pool.acquire(self.spec, self.limit)
        with self._condition:
            self._running += 1
            self.dispatched += 1
            self.records += len(messages)
        thread = threading.Thread(
            target=self._run_batch,
            args=(messages, container),
            daemon=True,
            name=f"batch-{self.spec.logical_id}",
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _run_batch(self, messages: list[dict[str, Any]], container: Any) -> None:
        try:
            self.poller.run_batch(self.spec, self.source, messages, container)
        finally:
            if container is not None:
                self.poller.pool.release(container)
            with self._condition:
                self._running -= 1
                self._condition.notify_all()
