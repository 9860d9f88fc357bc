"""Deferral: a record whose host is not ready goes back on the queue later, not toward the DLQ.

SQS counts a delivery every time a record is handed back (a batch item failure), and after
``MaxReceiveCount`` of them the message is dead-lettered - right for a failure, wrong for "this
host wants us to wait". So a deferred record is *re-sent* as a new message with ``DelaySeconds``
(at most 900, SQS's limit) and a ``defer_count`` one higher, and the original is consumed. After
``max_deferrals`` the record ends FAILED ``host_unavailable``: every URL still ends as exactly one
article or one dead letter.

Re-sending then consuming is at-least-once: a crash in between leaves two messages for one
article, which the article's idempotent writes turn into one article (the second run skips).
"""

from __future__ import annotations

import math
from typing import Protocol

from pydantic import BaseModel

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.models import IngestMessage

MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds limit
DEFAULT_MAX_DEFERRALS = 8


class DeferralError(Exception):
    """This record cannot be worked on now: re-send it due in ``delay_seconds``.

    ``kind`` names why for metrics (``rate_limited``, ``host_backoff``, ``robots_unavailable``,
    ``out_of_time``); ``counted`` is False when nothing about the record itself is wrong (the
    batch ran out of time before it), so it does not use up the record's deferral bound.
    """

    def __init__(self, delay_seconds: float, why: str, *, kind: str, counted: bool = True) -> None:
        super().__init__(f"{why} (again in {delay_seconds:.1f} s)")
        self.delay_seconds = delay_seconds
        self.why = why
        self.kind = kind
        self.counted = counted


class DelayedSender(Protocol):
    def send(self, message: BaseModel | str, *, delay_seconds: int = 0) -> str: ...


class Deferrer:
    """Re-sends ingest messages with a delay, counting deferrals up to a bound."""

    def __init__(self, queue: DelayedSender, *, max_deferrals: int = DEFAULT_MAX_DEFERRALS) -> None:
        self._queue = queue
        self.max_deferrals = max_deferrals

    def defer(self, message: IngestMessage, request: DeferralError) -> int:
        """Re-send ``message`` due in ``request.delay_seconds`` (rounded up, capped at 900);
        returns the delay used. An uncounted request keeps the defer count.

        Raises :class:`PermanentError` ``host_unavailable`` once the bound is reached.
        """
        deferrals = message.defer_count + (1 if request.counted else 0)
        if request.counted and deferrals > self.max_deferrals:
            raise PermanentError(
                Reason.HOST_UNAVAILABLE,
                f"deferred {message.defer_count} times and still not ready: {request.why}",
                stage=Stage.FETCH,
            )
        delay = min(max(math.ceil(request.delay_seconds), 0), MAX_DELAY_SECONDS)
        self._queue.send(message.model_copy(update={"defer_count": deferrals}), delay_seconds=delay)
        return delay
