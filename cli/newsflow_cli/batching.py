"""The event source mapping's two rules, as plain logic: when a batch is handed over, and how
many batches of one function run at once.

* A batch is handed over when it holds ``BatchSize`` records, or when
  ``MaximumBatchingWindowInSeconds`` have passed since its first record arrived; without a
  window (0) as soon as the queue has nothing more to give.
* At most ``ScalingConfig.MaximumConcurrency`` batches of a mapping run at once (Lambda's
  default when the template sets none: :data:`DEFAULT_MAXIMUM_CONCURRENCY`), and never more
  than a local cap when one is given (a small machine).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Lambda starts an SQS mapping with five concurrent batches and scales up from there; with no
# ScalingConfig locally we stay at that first step.
DEFAULT_MAXIMUM_CONCURRENCY = 5


def concurrency_limit(maximum_concurrency: int | None, local_cap: int | None = None) -> int:
    """How many batches of one mapping may run at once."""
    limit = maximum_concurrency if maximum_concurrency else DEFAULT_MAXIMUM_CONCURRENCY
    if local_cap is not None:
        limit = min(limit, local_cap)
    return max(1, limit)


@dataclass
class BatchWindow:
    """The records gathered for one batch, and whether the batch is ready to hand over."""

    batch_size: int
    window_seconds: float = 0.0
    records: list[Any] = field(default_factory=list)
    opened_at: float | None = None

    @property
    def room(self) -> int:
        return max(0, self.batch_size - len(self.records))

    @property
    def full(self) -> bool:
        return self.room == 0

    def add(self, records: list[Any], now: float) -> None:
        """Records from one receive; the window opens with the first record."""
        if records and self.opened_at is None:
            self.opened_at = now
        self.records.extend(records)

    def ready(self, now: float, *, queue_empty: bool) -> bool:
        """Hand over now? ``queue_empty``: the last receive returned nothing more."""
        if not self.records:
            return False
        if self.full:
            return True
        if self.window_seconds <= 0:
            return queue_empty
        assert self.opened_at is not None
        return now - self.opened_at >= self.window_seconds

    def wait_seconds(self, now: float) -> float:
        """How long the window stays open from ``now`` (0 when empty or closed)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + self.window_seconds - now)

    def take(self) -> list[Any]:
        records, self.records, self.opened_at = self.records, [], None
        return records
