"""Cold-start section: each goal is the handler's median CPU over its yardstick's; the issue's
yardsticks judge the goals, the others are reported beside them."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import BENCH


@pytest.fixture
def coldstart(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/coldstart.py imports its siblings as ``bench.*``: the repository root on the path."""
    monkeypatch.syspath_prepend(str(Path(BENCH).parent))
    return importlib.import_module("bench.coldstart")


def _handler(import_cpu: float, init_cpu: float) -> dict[str, Any]:
    def med(value: float) -> dict[str, float]:
        return {"median": value}

    return {
        "import_ms": med(import_cpu),
        "import_cpu_ms": med(import_cpu),
        "init_ms": med(init_cpu),
        "import_plus_init_ms": med(import_cpu + init_cpu),
        "import_plus_init_cpu_ms": med(import_cpu + init_cpu),
        "process_wall_ms": med(import_cpu + init_cpu + 50),
        "first_record_extra_ms": med(400.0),
        "peak_rss_mb": med(100.0),
    }


def _bare(cpu: float) -> dict[str, Any]:
    return {
        "ready_ms": {"median": cpu},
        "ready_cpu_ms": {"median": cpu},
        "process_wall_ms": {"median": cpu + 50},
    }


def _results(coldstart: ModuleType) -> dict[str, Any]:
    results: dict[str, Any] = {
        "samples": 3,
        "fetch": _handler(import_cpu=390.0, init_cpu=80.0),
        "fetch (tracing on)": _handler(import_cpu=450.0, init_cpu=150.0),
        "enrich (local)": _handler(import_cpu=340.0, init_cpu=640.0),
        "enrich (comprehend)": _handler(import_cpu=330.0, init_cpu=85.0),
        "yardsticks": {
            coldstart.FETCH_BARE: _bare(300.0),
            coldstart.FETCH_AS_USED: _bare(360.0),
            coldstart.ENRICH_DEFAULT: _bare(1000.0),
            coldstart.ENRICH_NER: _bare(950.0),
        },
    }
    results["goals"] = coldstart._goals(results)
    return results


def test_fetch_is_judged_on_its_import_and_enrich_on_import_plus_init(
    coldstart: ModuleType,
) -> None:
    goals = {(g["handler"], g["yardstick"]): g for g in _results(coldstart)["goals"]}

    fetch = goals["fetch", coldstart.FETCH_BARE]
    assert fetch["ratio_cpu"] == 1.3  # 390 / 300: the init (clients) is not counted
    assert fetch["met"] is True
    enrich = goals["enrich (local)", coldstart.ENRICH_DEFAULT]
    assert enrich["ratio_cpu"] == 0.98  # (340 + 640) / 1000
    assert enrich["met"] is True
    assert goals["fetch (tracing on)", coldstart.FETCH_BARE]["met"] is None


def test_the_issues_yardsticks_judge_and_the_others_are_reported(coldstart: ModuleType) -> None:
    """The default spaCy load judges the enrich goal; the same-components load only reports."""
    goals = {(g["handler"], g["yardstick"]): g for g in _results(coldstart)["goals"]}

    judged = {key for key, goal in goals.items() if goal["limit"] is not None}
    assert judged == {
        ("fetch", coldstart.FETCH_BARE),
        ("enrich (local)", coldstart.ENRICH_DEFAULT),
    }
    stricter = goals["enrich (local)", coldstart.ENRICH_NER]
    assert stricter["ratio_cpu"] == 1.032  # 980 / 950: over 1.0, yet no verdict
    assert stricter["met"] is None
    assert goals["fetch", coldstart.FETCH_AS_USED]["ratio_cpu"] == 1.083  # 390 / 360


def test_a_ratio_over_its_limit_is_not_met(coldstart: ModuleType) -> None:
    results = _results(coldstart)
    results["fetch"] = _handler(import_cpu=391.0, init_cpu=80.0)

    (fetch,) = [
        g
        for g in coldstart._goals(results)
        if g["handler"] == "fetch" and g["yardstick"] == coldstart.FETCH_BARE
    ]
    assert fetch["ratio_cpu"] == 1.303
    assert fetch["met"] is False


def test_the_report_lists_handlers_yardsticks_and_goals(
    coldstart: ModuleType, report: ModuleType
) -> None:
    markdown = report.cold_start(_results(coldstart))

    assert "| fetch | 390.0 |" in markdown
    assert f"| {coldstart.ENRICH_DEFAULT} | 1,000.0 | - |" in markdown
    assert f"| {coldstart.ENRICH_NER} | 950.0 | - |" in markdown
    assert "<= 1.3: met" in markdown
    assert "<= 1.0: met" in markdown
