"""`newsflow report` on the local stack after the demo's run: its figures add up to the run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsflow_cli.cli import app
from newsflow_cli.demo import DEAD_LETTER, DemoResult
from newsflow_cli.report import build_report
from newsflow_cli.targets import Target

pytestmark = pytest.mark.e2e


def test_the_report_accounts_for_the_demo_run(target: Target, demo_result: DemoResult) -> None:
    # GIVEN the demo's run on the sample pages (other tests may add articles to the stack later)
    today = datetime.now(UTC).date()
    counts = demo_result.counts()

    # WHEN the report reads today
    report = build_report(target, today, today)

    # THEN every outcome of the run is counted, read by key and index only
    outcomes = {figure.label: figure.value for figure in report.outcomes}
    assert outcomes["ENRICHED"] >= counts["ENRICHED"]
    assert outcomes["FAILED"] >= counts["FAILED"] - demo_result.rejected
    assert outcomes["dead letters (now)"] >= counts[DEAD_LETTER]
    assert report.reads.scans == 0
    assert report.reads.batch_get_calls >= 1
    assert {figure.label for figure in report.languages} >= {"en", "de"}
    assert report.entities, "the sample pages name people and places"


def test_newsflow_report_writes_the_page(cli_workdir: Path, demo_result: DemoResult) -> None:
    out = cli_workdir / "out" / "report.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "written to" in result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Who is in the news" in page


def test_newsflow_report_refuses_a_range_that_ends_before_it_starts(cli_workdir: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--since", "2026-11-21", "--until", "2026-11-20"])
    assert result.exit_code == 1
    assert "is after --until" in result.output
