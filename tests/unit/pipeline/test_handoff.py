"""The batched enrich hand-off: records running at once share one send, each keeps its outcome."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsflow.errors import PermanentError, PipelineError, Reason, Stage, TransientError
from newsflow.handoff import BatchedHandOff


class FakeBatchQueue:
    """Records each batch call; ``refuse`` bodies come back as failed entries."""

    def __init__(self, *, refuse: Sequence[str] = (), down: PipelineError | None = None) -> None:
        self.calls: list[list[str]] = []
        self.refuse = set(refuse)
        self.down = down
        self._lock = threading.Lock()

    def send_batch(self, bodies: Sequence[str]) -> list[str | PipelineError]:
        with self._lock:
            self.calls.append(list(bodies))
        if self.down is not None:
            raise self.down
        return [
            TransientError(Reason.THROTTLED, f"{body} refused", stage=Stage.STORE)
            if body in self.refuse
            else f"id-{body}"
            for body in bodies
        ]


def run_records(handoff: BatchedHandOff, bodies: list[str]) -> list[str | PipelineError]:
    """Each body is one record running at once with the others: its message id or its error."""
    all_running = threading.Barrier(len(bodies))

    def record(body: str) -> str | PipelineError:
        with handoff.record():
            all_running.wait()
            try:
                return handoff.send(body)
            except PipelineError as error:
                return error

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(record, bodies))


def test_records_running_at_once_send_their_messages_in_one_call() -> None:
    queue = FakeBatchQueue()
    results = run_records(BatchedHandOff(queue), ["a", "b", "c"])
    assert results == ["id-a", "id-b", "id-c"]
    assert [sorted(call) for call in queue.calls] == [["a", "b", "c"]]


def test_a_refused_message_fails_its_record_only() -> None:
    # GIVEN SQS does not accept "b" of the batch
    queue = FakeBatchQueue(refuse=["b"])
    # WHEN three records hand off at once
    results = run_records(BatchedHandOff(queue), ["a", "b", "c"])
    # THEN "b" raises a transient error (its record is retried), the others have their ids
    assert results[0] == "id-a" and results[2] == "id-c"
    assert isinstance(results[1], TransientError) and "b refused" in results[1].detail
    assert len(queue.calls) == 1


def test_a_failed_call_fails_every_record_in_it_with_its_own_error() -> None:
    down = TransientError(Reason.AWS_ERROR, "SQS is down", stage=Stage.STORE)
    results = run_records(BatchedHandOff(FakeBatchQueue(down=down)), ["a", "b"])
    assert all(isinstance(result, TransientError) for result in results)
    assert results[0] is not results[1]
    assert {result.detail for result in results if isinstance(result, PipelineError)} == {
        "SQS is down"
    }


def test_a_permanent_refusal_stays_permanent() -> None:
    class Refusing(FakeBatchQueue):
        def send_batch(self, bodies: Sequence[str]) -> list[str | PipelineError]:
            return [PermanentError(Reason.INVALID_DOCUMENT, "too long", stage=Stage.STORE)]

    [result] = run_records(BatchedHandOff(Refusing()), ["a"])
    assert isinstance(result, PermanentError)


def test_more_than_ten_records_send_ten_at_a_time() -> None:
    queue = FakeBatchQueue()
    bodies = [f"m{n}" for n in range(12)]
    results = run_records(BatchedHandOff(queue), bodies)
    assert results == [f"id-{body}" for body in bodies]
    assert sorted(len(call) for call in queue.calls) == [2, 10]


def test_a_record_alone_sends_at_once() -> None:
    queue = FakeBatchQueue()
    handoff = BatchedHandOff(queue, max_linger_seconds=3600)
    with handoff.record():
        assert handoff.send("only") == "id-only"
    assert handoff.send("outside any record") == "id-outside any record"
    assert queue.calls == [["only"], ["outside any record"]]


def test_a_record_that_never_hands_off_holds_the_others_no_longer_than_the_linger() -> None:
    # GIVEN a record still running (say, a slow fetch) and a short linger
    queue = FakeBatchQueue()
    handoff = BatchedHandOff(queue, max_linger_seconds=0.05)
    slow_record_done = threading.Event()
    sent: list[str] = []

    def slow(_: None) -> None:
        with handoff.record():
            slow_record_done.wait()

    def quick(_: None) -> None:
        with handoff.record():
            sent.append(handoff.send("quick"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow_running = pool.submit(slow, None)
        pool.submit(quick, None).result(timeout=30)
        # THEN the quick record's message went out while the slow one was still running
        assert sent == ["id-quick"] and not slow_running.done()
        slow_record_done.set()
    assert queue.calls == [["quick"]]


@pytest.mark.parametrize("records", [1, 4])
def test_every_message_is_sent_exactly_once(records: int) -> None:
    queue = FakeBatchQueue()
    bodies = [f"m{n}" for n in range(records)]
    run_records(BatchedHandOff(queue), bodies)
    assert sorted(body for call in queue.calls for body in call) == bodies
