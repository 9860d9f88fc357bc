"""The requirements files `sam build` installs are pinned from pyproject.toml and cannot drift."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .cfn import ROOT

SCRIPT = ROOT / "infra" / "scripts" / "pin_requirements.py"
PINNED = [
    Path("shared/requirements.txt"),
    Path("functions/fetch/requirements.txt"),
    Path("functions/enrich/requirements.txt"),
    Path("functions/poll/requirements.txt"),
]


def _verify(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--verify", "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """pyproject.toml and the pinned files, copied so a test may change them."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for relative in PINNED:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    return tmp_path


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_pinned_files_match_pyproject() -> None:
    # GIVEN the repository WHEN the pins are verified offline THEN they are current
    result = _verify(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_changed_version_range_makes_the_pins_stale(project_copy: Path) -> None:
    # GIVEN a copy where a shipped dependency's range changed after pinning
    _replace(project_copy / "pyproject.toml", '"pydantic>=2.9,<3"', '"pydantic>=2.10,<3"')
    # WHEN verified
    result = _verify(project_copy)
    # THEN every file is reported stale, with the command that fixes it
    assert result.returncode == 1
    assert "shared/requirements.txt is stale" in result.stderr
    assert "make requirements" in result.stderr


def test_a_dependency_without_a_group_is_refused(project_copy: Path) -> None:
    # GIVEN a new runtime dependency that does not say where it ships
    _replace(project_copy / "pyproject.toml", '"PyYAML>=6",', '"PyYAML>=6",\n    "httpx>=0.27",')
    # WHEN verified
    result = _verify(project_copy)
    # THEN it must be placed in a group first
    assert result.returncode == 2
    assert "httpx" in result.stderr
    assert "[tool.newsflow.lambda]" in result.stderr


def test_a_hand_edited_pin_outside_its_range_is_reported(project_copy: Path) -> None:
    # GIVEN a function file where someone pinned trafilatura outside pyproject's range
    fetch = project_copy / "functions/fetch/requirements.txt"
    text = fetch.read_text(encoding="utf-8")
    fetch.write_text(re.sub(r"\ntrafilatura==\S+", "\ntrafilatura==1.0.0", text), encoding="utf-8")
    # WHEN verified
    result = _verify(project_copy)
    # THEN the pin is reported
    assert result.returncode == 1
    assert "trafilatura==1.0.0 is outside" in result.stderr


def test_a_package_shipped_twice_is_reported(project_copy: Path) -> None:
    # GIVEN a function file that also pins a package the layer ships
    layer = (project_copy / "shared/requirements.txt").read_text(encoding="utf-8")
    block = layer[layer.index("pydantic==") :].split("\n")
    pydantic_block = "\n".join(
        block[: next(i for i, ln in enumerate(block) if not ln.endswith("\\")) + 1]
    )
    with (project_copy / "functions/enrich/requirements.txt").open("a", encoding="utf-8") as fh:
        fh.write(pydantic_block + "\n")
    # WHEN verified
    result = _verify(project_copy)
    # THEN the duplicate is reported (functions install with --no-deps on top of the layer)
    assert result.returncode == 1
    assert "pydantic is already in the layer" in result.stderr


@pytest.mark.parametrize("relative", PINNED, ids=lambda p: str(p.parent))
def test_every_pin_carries_a_hash(relative: Path) -> None:
    # GIVEN a pinned file WHEN its requirement lines are read
    lines = (ROOT / relative).read_text(encoding="utf-8").splitlines()
    pins = [ln for ln in lines if ln and not ln.startswith((" ", "#"))]
    # THEN every pin is exact and followed by hashes (pip installs it with --require-hashes)
    assert pins
    for pin in pins:
        assert "==" in pin and pin.endswith("\\"), pin


def test_trafilatura_ships_with_lxml_html_clean() -> None:
    # GIVEN the fetch function's pins (lxml split html.clean out; some pips skip the extra)
    text = (ROOT / "functions/fetch/requirements.txt").read_text(encoding="utf-8")
    # THEN both are pinned explicitly
    assert "\ntrafilatura==" in text
    assert "\nlxml-html-clean==" in text


def test_an_unreadable_pin_is_an_error_not_a_crash(project_copy: Path) -> None:
    # GIVEN a pinned file with a line that is not a requirement
    with (project_copy / "shared/requirements.txt").open("a", encoding="utf-8") as fh:
        fh.write("this is not == a pin\n")
    # WHEN verified THEN the script names the line instead of failing with a traceback
    result = _verify(project_copy)
    assert result.returncode == 2
    assert "cannot read pin" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_shipped_dependency_may_come_from_an_extra(project_copy: Path) -> None:
    # GIVEN spaCy, shipped by the enrich function, declared in the `nlp` extra, its range changed
    text = (project_copy / "pyproject.toml").read_text(encoding="utf-8")
    extras = text[text.index("[project.optional-dependencies]") :]
    assert '"spacy>=3.8,<3.9"' in extras
    _replace(project_copy / "pyproject.toml", '"spacy>=3.8,<3.9"', '"spacy>=3.8.1,<3.9"')
    # WHEN verified
    result = _verify(project_copy)
    # THEN the range is read from the extra: the enrich pins are stale
    assert result.returncode == 1
    assert "functions/enrich/requirements.txt is stale" in result.stderr


def test_one_package_with_two_ranges_is_refused(project_copy: Path) -> None:
    # GIVEN a dev extra that repeats a runtime dependency with another range
    _replace(project_copy / "pyproject.toml", '"pytest>=8",', '"pytest>=8",\n    "pydantic>=2",')
    # WHEN verified THEN the script says which range to keep instead of picking one
    result = _verify(project_copy)
    assert result.returncode == 2
    assert "'pydantic' has two ranges" in result.stderr
