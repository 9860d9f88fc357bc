"""One lock per key, for work that runs concurrently but must not overlap for the same key.

The records of a batch run concurrently; two records about the same article (one URL spelled
two ways) or two robots.txt checks of the same origin must run one after the other, so the
second sees what the first stored instead of doing the work again. :class:`RelatedLocks` does
the same for values that are not keys but can be compared (two texts that may be copies).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class KeyedLocks:
    """``with locks.hold(key):`` - a lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class RelatedLocks(Generic[T]):
    """``with locks.hold(value):`` waits only for the earlier holders of related values.

    A holder never waits for a later one, so there is no deadlock; holders of unrelated values
    run at once. ``related`` must be symmetric.
    """

    def __init__(self, related: Callable[[T, T], bool]) -> None:
        self._related = related
        self._guard = threading.Lock()
        self._holders: list[tuple[T, threading.Event]] = []

    @contextmanager
    def hold(self, value: T | None) -> Iterator[None]:
        """``None`` holds nothing."""
        if value is None:
            yield
            return
        done = threading.Event()
        with self._guard:
            earlier = [event for other, event in self._holders if self._related(value, other)]
            self._holders.append((value, done))
        try:
            for event in earlier:
                event.wait()
            yield
        finally:
            with self._guard:
                self._holders = [held for held in self._holders if held[1] is not done]
            done.set()
