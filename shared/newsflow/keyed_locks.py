"""One lock per key, for work that runs concurrently but must not overlap for the same key.

The records of a batch run concurrently; two records about the same article (one URL spelled
two ways) or two robots.txt checks of the same origin must run one after the other, so the
second sees what the first stored instead of doing the work again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager


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

    @contextmanager
    def hold_all(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the lock of every key: work on overlapping key sets runs one at a time, on
        disjoint sets at once. Taken in sorted order, so two holders never wait on each other."""
        with ExitStack() as held:
            for key in sorted(set(keys)):
                held.enter_context(self.hold(key))
            yield
