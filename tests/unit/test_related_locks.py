"""RelatedLocks: holders of related values go one after the other, unrelated ones at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from newsflow.keyed_locks import RelatedLocks


def same_parity(first: int, second: int) -> bool:
    return first % 2 == second % 2


def test_unrelated_values_are_held_at_the_same_time() -> None:
    locks: RelatedLocks[int] = RelatedLocks(same_parity)
    both_inside = threading.Barrier(2, timeout=10)

    def hold(value: int) -> None:
        with locks.hold(value):
            both_inside.wait()  # broken unless the two holders overlap

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(hold, [1, 2]))


def test_a_related_value_waits_for_the_earlier_holder() -> None:
    locks: RelatedLocks[int] = RelatedLocks(same_parity)
    order: list[str] = []
    first_inside, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with locks.hold(1):
            first_inside.set()
            release_first.wait(timeout=10)
            order.append("first")

    def second() -> None:
        first_inside.wait(timeout=10)
        with locks.hold(3):
            order.append("second")

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(first), pool.submit(second)]
        first_inside.wait(timeout=10)
        # the related holder is still waiting while the first one holds its lock
        assert order == []
        release_first.set()
        for future in done:
            future.result(timeout=10)
    assert order == ["first", "second"]


def test_none_holds_nothing() -> None:
    locks: RelatedLocks[int] = RelatedLocks(lambda first, second: True)
    with locks.hold(1), locks.hold(None):
        pass
