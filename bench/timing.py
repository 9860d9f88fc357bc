"""Clocks for a shared, noisy machine: wall time and this thread's CPU time side by side.

Wall time includes every moment another process held the core; CPU time of the measuring
thread does not, so ratios between two implementations are quoted on CPU time and wall time is
reported next to it. Neither removes cache and frequency effects of a busy neighbour.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Sample:
    wall_ms: float = 0.0
    cpu_ms: float = 0.0


def timed(function: Callable[[], T]) -> tuple[T | None, Sample, BaseException | None]:
    """Run ``function`` once; return its result (or the exception it raised) and the times."""
    wall = time.perf_counter_ns()
    cpu = time.thread_time_ns()
    error: BaseException | None = None
    result: T | None = None
    try:
        result = function()
    except Exception as exc:
        error = exc
    sample = Sample(
        wall_ms=(time.perf_counter_ns() - wall) / 1e6,
        cpu_ms=(time.thread_time_ns() - cpu) / 1e6,
    )
    return result, sample, error


@dataclass
class Split:
    """Accumulated wall/CPU time per named part (fetch, parse, S3 ...) of one operation."""

    parts: dict[str, Sample] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def measure(self, part: str) -> Iterator[None]:
        wall = time.perf_counter_ns()
        cpu = time.thread_time_ns()
        try:
            yield
        finally:
            sample = self.parts.setdefault(part, Sample())
            sample.wall_ms += (time.perf_counter_ns() - wall) / 1e6
            sample.cpu_ms += (time.thread_time_ns() - cpu) / 1e6
            self.calls[part] = self.calls.get(part, 0) + 1

    def reset(self) -> None:
        self.parts.clear()
        self.calls.clear()


class TimedProxy:
    """Wraps a collaborator so that every public method call is timed under ``part``."""

    def __init__(self, target: Any, part: str, split: Split) -> None:
        self._target = target
        self._part = part
        self._split = split

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name.startswith("_") or not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._split.measure(self._part):
                return value(*args, **kwargs)

        return call
