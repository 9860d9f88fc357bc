"""The time a batch has left, so a handler never starts work it cannot finish.

A Lambda timeout fails every record of the batch, finished or not; a record not started for
lack of time is instead deferred (re-sent at once, its deferral bound untouched). The budget
knows nothing of Lambda: it reads a ``remaining_seconds`` callable (the handler passes
``context.get_remaining_time_in_millis() / 1000``).
"""

from __future__ import annotations

from collections.abc import Callable

from newsflow.politeness.deferral import DeferralError

OUT_OF_TIME = "out_of_time"


class OutOfTimeError(DeferralError):
    """Not enough time left in this invocation to do the next step safely."""

    def __init__(self, what: str, needed: float, left: float) -> None:
        super().__init__(
            0,
            f"{what} needs up to {needed:g} s and the invocation has {max(left, 0):.1f} s left",
            kind=OUT_OF_TIME,
            counted=False,
        )


class TimeBudget:
    def __init__(self, remaining_seconds: Callable[[], float]) -> None:
        self._remaining = remaining_seconds

    def remaining(self) -> float:
        return self._remaining()

    def require(self, seconds: float, what: str) -> None:
        """Raise :class:`OutOfTimeError` unless ``seconds`` are left."""
        left = self._remaining()
        if left < seconds:
            raise OutOfTimeError(what, seconds, left)


UNLIMITED = TimeBudget(lambda: float("inf"))
