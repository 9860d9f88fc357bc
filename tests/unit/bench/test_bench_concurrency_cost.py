"""The cost model of a batch whose records run concurrently: waits overlap, CPU adds up."""

from __future__ import annotations

from types import ModuleType

import pytest


def test_waits_overlap_across_the_records_in_flight_and_cpu_does_not(costs: ModuleType) -> None:
    concurrent_duration_ms = costs.concurrent_duration_ms
    # GIVEN 40 ms of CPU and 400 ms of waits per record, at a full vCPU
    # WHEN ten records of a batch of ten run at once
    concurrent = concurrent_duration_ms(40, 1769, 400, concurrency=10, batch_size=10)
    # THEN each record is billed its CPU plus a tenth of its waits
    assert concurrent == pytest.approx(40 + 40)
    # AND one at a time it is billed both in full, as before
    assert concurrent_duration_ms(40, 1769, 400, concurrency=1, batch_size=10) == (
        costs.lambda_duration_ms(40, 1769, 400)
    )


def test_overlap_is_bounded_by_the_batch_and_cpu_is_stretched_below_a_vcpu(
    costs: ModuleType,
) -> None:
    concurrent_duration_ms = costs.concurrent_duration_ms
    # a batch of four cannot overlap more than four waits, whatever the concurrency
    assert concurrent_duration_ms(0, 1769, 400, concurrency=10, batch_size=4) == 100
    # at 1024 MB the CPU part is stretched by 1769/1024
    assert concurrent_duration_ms(10, 1024, 0, concurrency=10, batch_size=10) == pytest.approx(
        10 * 1769 / 1024
    )
