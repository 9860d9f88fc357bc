"""The project Makefile: `make help` lists every target, `make typecheck` runs the type check."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MAKEFILE = ROOT / "Makefile"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(*args: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def _phony_targets() -> set[str]:
    text = MAKEFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    targets: set[str] = set()
    for line in re.findall(r"^\.PHONY:(.*)$", text, flags=re.MULTILINE):
        targets.update(line.split())
    return targets


def test_help_lists_every_public_target_with_a_description() -> None:
    # GIVEN the targets the Makefile declares / WHEN `make help` runs
    listed = {}
    for line in _make("help").splitlines():
        name, _, description = line.strip().partition(" ")
        listed[name] = description.strip()
    # THEN each one is listed, with what it does
    targets = _phony_targets()
    assert {"install", "test", "demo", "typecheck", "lint", "help"} <= targets
    assert targets <= set(listed), targets - set(listed)
    assert all(listed[name] for name in targets), listed


def test_typecheck_runs_mypy_on_the_shipped_code() -> None:
    # GIVEN the typecheck target / WHEN make shows what it would run
    commands = _make("-n", "typecheck")
    # THEN it runs mypy on the layer, the CLI and the functions (it did nothing before)
    assert re.search(r"mypy\s+shared/newsflow\s+cli/newsflow_cli\s+functions", commands), commands
