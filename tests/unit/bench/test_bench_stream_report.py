"""The report benchmark's day: every article read by key, failures by index, no scan."""

from __future__ import annotations

from types import ModuleType

from .conftest import load_bench_module


def test_a_generated_day_is_read_by_key_and_index_only(report: ModuleType) -> None:
    stream_report = load_bench_module("stream_report")
    result = stream_report.run(articles=500)
    # 500 stored articles in 5 BatchGetItem calls, plus the 10 that failed before any document
    assert result["report_articles"] == 510
    assert result["batch_get_calls"] == 5
    assert result["items_read"] == 500
    assert result["scans"] == 0
    assert "| 500 |" in report.stream_report(result)
