"""Cold-start section: each goal is the handler's median CPU over its yardstick's."""

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
    fetch_bare, enrich_bare = (name for name, _ in coldstart.YARDSTICKS)
    results: dict[str, Any] = {
        "samples": 3,
        "fetch": _handler(import_cpu=390.0, init_cpu=80.0),
        "fetch (tracing on)": _handler(import_cpu=450.0, init_cpu=150.0),
        "enrich (local)": _handler(import_cpu=340.0, init_cpu=640.0),
        "enrich (comprehend)": _handler(import_cpu=330.0, init_cpu=85.0),
        "yardsticks": {fetch_bare: _bare(300.0), enrich_bare: _bare(1000.0)},
    }
    results["goals"] = coldstart._goals(results)
    return results


def test_fetch_is_judged_on_its_import_and_enrich_on_import_plus_init(
    coldstart: ModuleType,
) -> None:
    goals = {g["handler"]: g for g in _results(coldstart)["goals"]}

    assert goals["fetch"]["ratio_cpu"] == 1.3  # 390 / 300: the init (clients) is not counted
    assert goals["fetch"]["met"] is True
    assert goals["enrich (local)"]["ratio_cpu"] == 0.98  # (340 + 640) / 1000
    assert goals["enrich (local)"]["met"] is True
    assert goals["fetch (tracing on)"]["limit"] is None
    assert goals["fetch (tracing on)"]["met"] is None


def test_a_ratio_over_its_limit_is_not_met(coldstart: ModuleType) -> None:
    results = _results(coldstart)
    results["fetch"] = _handler(import_cpu=391.0, init_cpu=80.0)

    (fetch,) = [g for g in coldstart._goals(results) if g["handler"] == "fetch"]
    assert fetch["ratio_cpu"] == 1.303
    assert fetch["met"] is False


def test_the_report_lists_handlers_yardsticks_and_goals(
    coldstart: ModuleType, report: ModuleType
) -> None:
    markdown = report.cold_start(_results(coldstart))

    assert "| fetch | 390.0 |" in markdown
    assert "| bare spaCy model (ner) + VADER | 1,000.0 | - |" in markdown
    assert "<= 1.3: met" in markdown
    assert "<= 1.0: met" in markdown
