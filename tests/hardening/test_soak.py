"""The soak (`make soak`) in small: lines of every kind through the local stack, all accounted.

The script is loaded from its file, like a handler (it is a tool, not a package module).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "scripts" / "soak.py"
LINES = 60
PAGES = 8


@pytest.fixture(scope="module")
def soak() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("newsflow_soak", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.mark.slow
@pytest.mark.e2e
def test_every_line_ends_enriched_failed_or_dead_lettered_as_its_kind_must(
    soak: ModuleType,
) -> None:
    # GIVEN 60 lines from 8 pages: articles, respellings, 404s, a PDF, private addresses,
    # lines that are not URLs and a page that is always unavailable
    # WHEN they are pushed through the local stack until every queue is empty
    report = soak.run_soak(LINES, PAGES, max_seconds=240)

    # THEN the queues drained and N = ENRICHED + FAILED + DEAD_LETTER
    assert report.drained
    assert report.invariant_holds
    assert sum(report.outcomes.values()) == LINES
    # AND every line ended the way its kind must (the unavailable page in a DLQ)
    assert report.unexpected == {}, report.examples
    assert report.outcomes["DEAD_LETTER"] >= 1
    # AND respellings did not create articles of their own
    respelled = max(1, int(LINES * soak.MIX["respelled"]))
    assert report.distinct_articles_enriched == report.outcomes["ENRICHED"] - respelled
