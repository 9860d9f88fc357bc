"""The sources bench section: its measurements on a small run, its cost model and its table."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import BENCH


@pytest.fixture
def source_polls(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/sources.py imports its siblings as ``bench.*``: the repository root on the path."""
    monkeypatch.syspath_prepend(str(Path(BENCH).parent))
    return importlib.import_module("bench.sources")


def test_a_poll_where_nothing_changed_costs_no_entry_read_or_write(costs: ModuleType) -> None:
    MILLION, PollUsage, Prices, poll_cost = (  # noqa: N806 - the module's names
        costs.MILLION,
        costs.PollUsage,
        costs.Prices,
        costs.poll_cost,
    )
    usage = PollUsage(duration_ms=10, source_item_bytes=500)
    cost = poll_cost(MILLION, usage, Prices())
    # two writes per poll (the tick's claim and the write-back), one strong read + a Query share
    assert cost.lines["dynamodb_writes"] == pytest.approx(2 * MILLION * Prices().dynamodb_wru)
    # tick send (a tenth), receive, delete
    assert cost.lines["sqs_requests"] == pytest.approx(2.1 * MILLION * Prices().sqs_request)
    changed = poll_cost(
        MILLION,
        PollUsage(
            duration_ms=10,
            source_item_bytes=500,
            entries_read=50,
            entries_written=1,
            messages_pushed=1,
        ),
        Prices(),
    )
    assert changed.total > cost.total


def test_a_small_run_writes_nothing_per_entry_when_nothing_changed(
    source_polls: ModuleType, report: ModuleType
) -> None:
    result = source_polls.run(sources=4, entries=6)
    first, unchanged, one_new = result["cycles"]
    assert result["tick"]["sources_queued"] == 4
    assert first["pushed"] == 4 * 6 and first["seen_item_writes"] == 4 * 6
    assert unchanged["not_modified"] == 4 and unchanged["pushed"] == 0
    assert unchanged["table_writes"] == unchanged["source_item_writes"] == 4
    assert one_new["pushed"] == 4 and one_new["seen_item_writes"] == 4
    # and the report renders it
    assert "nothing changed (304)" in report.sources(result)
