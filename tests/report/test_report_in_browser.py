"""The report in a real browser: headless Chromium loads it with no console error, no request
to anywhere and the expected figures on screen.

Skipped when no Chromium is installed; `.ci/run` installs Debian's `chromium`, so CI runs it.
Set NEWSFLOW_REPORT_SCREENSHOT=PATH to keep the screenshot (docs/report.png comes from here).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsflow_cli.report import StreamReport, render

from .chromium import PageRun, find_chromium, load

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH (apt-get install chromium; .ci/run installs it for CI)",
)


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> PageRun:
    from .conftest import build, stream

    page = tmp_path_factory.mktemp("report") / "report.html"
    page.write_text(render(build(stream())), encoding="utf-8")
    assert CHROMIUM is not None
    run = load(CHROMIUM, page)
    keep = os.environ.get("NEWSFLOW_REPORT_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(run.screenshot)
    return run


def test_the_report_loads_without_console_errors(shown: PageRun) -> None:
    assert shown.console == []
    assert 'data-ready="yes"' in shown.html  # its inline script ran


def test_the_report_asks_no_host_for_anything(shown: PageRun) -> None:
    assert shown.requests, "the page's own load is seen"
    assert shown.outside_requests() == []


def test_the_report_shows_the_expected_figures(shown: PageRun, report: StreamReport) -> None:
    text = shown.text
    for heading in ("At a glance", "Articles per day", "Outcomes", "Languages",
                    "Who is in the news", "Sentiment per domain", "duplicate clusters",
                    "Feeds and sitemaps", "Slowest hosts", "Failing hosts",
                    "What this report read"):  # fmt: skip
        assert heading in text
    assert "Helen Carter" in text
    assert "newsflow entity 'Helen Carter' --json" in text
    assert "fetch / timeout" not in text  # stage and reason are separate columns
    assert "http_error" in text and "timeout" in text
    assert "slow.example.net" in text
    assert "+0.10" in text  # Helen Carter's average sentiment
    assert "850 ms" in text  # the slowest fetch
    assert "http_error: HTTP 500 (3 in a row)" in text  # a failing sitemap
    assert "aws s3 ls s3://articles-bucket/articles/dt=2026-11-21/ | wc -l" in text
    assert len(shown.screenshot) > 10_000


def test_the_checks_catch_a_page_that_reaches_out_or_errs(tmp_path: Path) -> None:
    # GIVEN a page that loads an outside image and logs an error (what the report must not do)
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><body><img src='https://outside.example/pixel.png'>"
        "<script>console.error('boom')</script></body></html>",
        encoding="utf-8",
    )
    assert CHROMIUM is not None
    run = load(CHROMIUM, page)
    # THEN both are seen (the host resolves nowhere: nothing leaves the machine)
    assert run.outside_requests() == ["https://outside.example/pixel.png"]
    assert "console.error: boom" in run.console
