"""The enrich hand-offs of records running at once, sent together: one SendMessageBatch per ten.

The records of a batch run concurrently (``functions/fetch/app.py``) and each ends by handing its
article to enrichment. Instead of one SendMessage each, a record's message waits here until no
other running record can still add one (every running record is waiting here or has finished),
ten are waiting, or the first has waited ``max_linger_seconds``; then one call sends them.

Every record still learns whether *its* message went out: a message the batch call did not
accept (listed under ``Failed``, or the whole call failed) raises for that record alone, exactly
as a failed SendMessage did, so the record is retried and, its article being FETCHED without the
hand-off mark, the retry only re-sends. Records one at a time (``FETCH_CONCURRENCY=1``) send each
message alone, at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel

from newsflow.errors import PipelineError, Reason, Stage, TransientError

MAX_BATCH = 10  # SendMessageBatch's limit
DEFAULT_MAX_LINGER_SECONDS = 1.0


class BatchSender(Protocol):
    """A queue that sends up to ten bodies in one call (:class:`newsflow.storage.MessageQueue`)."""

    def send_batch(self, bodies: Sequence[str]) -> list[str | PipelineError]: ...


@dataclass(eq=False)
class _Waiting:
    body: str
    since: float
    result: str | PipelineError | None = None  # the message id, or why it was not sent


class BatchedHandOff:
    """``send(message)`` blocks until the message went out in a shared batch; its id, or raises.

    ``record()`` surrounds one record's work: while a record runs, the messages waiting here
    wait for it too, since it may still add one.
    """

    def __init__(
        self,
        queue: BatchSender,
        *,
        max_linger_seconds: float = DEFAULT_MAX_LINGER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue = queue
        self._max_linger = max_linger_seconds
        self._clock = clock
        self._changed = threading.Condition()
        self._running = 0  # records inside record()
        self._sending = 0  # callers inside send(), waiting or being sent
        self._queued: list[_Waiting] = []  # not yet taken into a batch call

    @contextmanager
    def record(self) -> Iterator[None]:
        with self._changed:
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def send(self, message: BaseModel | str) -> str:
        body = message if isinstance(message, str) else message.model_dump_json()
        mine = _Waiting(body, self._clock())
        with self._changed:
            self._queued.append(mine)
            self._sending += 1
            self._changed.notify_all()
            try:
                while mine.result is None:
                    wait = self._seconds_to_wait()
                    if wait == 0:
                        self._send_queued()
                    else:
                        self._changed.wait(timeout=wait)
            finally:
                self._sending -= 1
        if isinstance(mine.result, PipelineError):
            raise _copy(mine.result)
        return mine.result

    def _seconds_to_wait(self) -> float | None:
        """0: send now; otherwise how long the queued messages may still wait (``None``: until
        something changes - nothing is queued, this caller's message is being sent)."""
        if not self._queued:
            return None
        if len(self._queued) >= MAX_BATCH or self._sending >= self._running:
            return 0
        return max(0.0, self._queued[0].since + self._max_linger - self._clock())

    def _send_queued(self) -> None:
        """Take up to ten queued messages and send them, without the lock during the call."""
        batch = self._queued[:MAX_BATCH]
        del self._queued[:MAX_BATCH]
        results: list[str | PipelineError] = []
        self._changed.release()
        try:
            results = self._queue.send_batch([waiting.body for waiting in batch])
        except PipelineError as error:
            results = [error] * len(batch)
        finally:
            self._changed.acquire()
            for index, waiting in enumerate(batch):
                waiting.result = (
                    results[index]
                    if index < len(results)
                    else TransientError(
                        Reason.AWS_ERROR, "the enrich message was not sent", stage=Stage.STORE
                    )
                )
            self._changed.notify_all()


def _copy(error: PipelineError) -> PipelineError:
    """One exception object per raising record (a failed call fails several records)."""
    copy = type(error)(error.reason, error.detail, stage=error.stage, http_status=error.http_status)
    copy.__cause__ = error.__cause__
    return copy
