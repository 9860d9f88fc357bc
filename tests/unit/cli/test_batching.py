"""The event source mapping's rules: when a batch is handed over, how many run at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsflow_cli.batching import DEFAULT_MAXIMUM_CONCURRENCY, BatchWindow, concurrency_limit
from newsflow_cli.lambda_runtime import ContainerPool
from newsflow_cli.stacks import FunctionSpec


def test_a_full_batch_is_handed_over_at_once() -> None:
    # GIVEN a window of 5 s and batch size 10
    window = BatchWindow(batch_size=10, window_seconds=5)
    # WHEN ten records arrive at once
    window.add(list(range(10)), now=100.0)
    # THEN the batch goes without waiting for the window
    assert window.ready(100.0, queue_empty=False)


def test_a_partial_batch_waits_for_its_window_to_close() -> None:
    # GIVEN three records received at t=100 with a window of 5 s
    window = BatchWindow(batch_size=10, window_seconds=5)
    window.add([1, 2, 3], now=100.0)
    # WHEN the queue has nothing more / THEN the batch waits until t=105, then goes
    assert not window.ready(102.0, queue_empty=True)
    assert window.wait_seconds(102.0) == pytest.approx(3.0)
    assert not window.ready(104.99, queue_empty=True)
    assert window.ready(105.0, queue_empty=True)


def test_the_window_opens_with_the_first_record_not_the_first_receive() -> None:
    # GIVEN empty receives before the first record
    window = BatchWindow(batch_size=10, window_seconds=5)
    window.add([], now=100.0)
    window.add([1], now=103.0)
    # THEN the window counts from t=103
    assert not window.ready(107.0, queue_empty=True)
    assert window.ready(108.0, queue_empty=True)


def test_records_arriving_in_the_window_join_the_batch_until_it_is_full() -> None:
    window = BatchWindow(batch_size=4, window_seconds=5)
    window.add([1, 2], now=100.0)
    assert window.room == 2
    window.add([3, 4], now=101.0)
    assert window.full and window.ready(101.0, queue_empty=False)
    assert window.take() == [1, 2, 3, 4]
    # a taken batch leaves an empty, closed window behind
    assert window.room == 4 and window.opened_at is None
    assert not window.ready(200.0, queue_empty=True)


def test_without_a_window_a_batch_goes_when_the_queue_has_no_more() -> None:
    window = BatchWindow(batch_size=10, window_seconds=0)
    window.add([1, 2], now=100.0)
    assert not window.ready(100.0, queue_empty=False)  # another receive may add more
    assert window.ready(100.0, queue_empty=True)


def test_an_empty_window_is_never_ready() -> None:
    assert not BatchWindow(batch_size=1, window_seconds=0).ready(0.0, queue_empty=True)


@pytest.mark.parametrize(
    ("maximum", "cap", "expected"),
    [
        (10, None, 10),
        (None, None, DEFAULT_MAXIMUM_CONCURRENCY),
        (50, 4, 4),
        (2, 4, 2),
        (None, 1, 1),
    ],
)
def test_the_concurrency_limit_is_the_mappings_maximum_under_a_local_cap(
    maximum: int | None, cap: int | None, expected: int
) -> None:
    assert concurrency_limit(maximum, cap) == expected


def _spec(name: str = "OneFunction") -> FunctionSpec:
    return FunctionSpec(
        logical_id=name,
        function_name=f"stack-{name}",
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:stack-{name}",
        handler="app.lambda_handler",
        runtime="python3.12",
        timeout=3,
        memory_size=256,
        environment={},
        code_dir=Path(),
    )


def test_the_pool_starts_containers_up_to_the_limit_then_reuses_idle_ones() -> None:
    # GIVEN a pool and a function limited to two concurrent batches (no process starts here:
    # a container starts its worker on its first invocation)
    pool = ContainerPool()
    spec = _spec()
    # WHEN three batches want a container at once
    first = pool.acquire(spec, limit=2)
    second = pool.acquire(spec, limit=2)
    third = pool.acquire(spec, limit=2)
    # THEN two distinct containers are leased and the third batch must wait
    assert first is not None and second is not None and first is not second
    assert third is None
    # WHEN one batch ends, the next batch gets that warm container, not a new one
    pool.release(first)
    assert pool.acquire(spec, limit=2) is first
    assert len(pool.containers(spec)) == 2


def test_functions_do_not_share_containers_or_limits() -> None:
    pool = ContainerPool()
    fetch, enrich = _spec("FetchFunction"), _spec("EnrichFunction")
    assert pool.acquire(fetch, limit=1) is not None
    assert pool.acquire(fetch, limit=1) is None
    assert pool.acquire(enrich, limit=1) is not None
