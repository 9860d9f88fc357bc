"""Build recipes and the size gate: what `make build` and `make sizes` rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .cfn import ROOT, Template, resources_of_type

SIZES = ROOT / "infra" / "scripts" / "lambda_sizes.py"
MB = 1024 * 1024


def _makefile_functions(template: Template) -> dict[str, Path]:
    return {
        fn_id: ROOT / fn["Properties"]["CodeUri"] / "Makefile"
        for fn_id, fn in resources_of_type(template, "AWS::Serverless::Function").items()
        if fn.get("Metadata", {}).get("BuildMethod") == "makefile"
    }


def test_every_makefile_function_has_its_build_target(sam_template: Template) -> None:
    # GIVEN the functions built with BuildMethod makefile
    makefiles = _makefile_functions(sam_template)
    assert makefiles
    for fn_id, makefile in makefiles.items():
        # THEN their folder has a Makefile with the target SAM runs: build-<LogicalId>
        assert f"\nbuild-{fn_id}:" in makefile.read_text(encoding="utf-8"), makefile


def test_function_makefiles_share_one_recipe(sam_template: Template) -> None:
    # GIVEN the function Makefiles with their target names removed
    recipes = {
        makefile.read_text(encoding="utf-8").replace(fn_id, "<FUNCTION>")
        for fn_id, makefile in _makefile_functions(sam_template).items()
    }
    # THEN they are the same recipe (a fix to one cannot be forgotten in the other)
    assert len(recipes) == 1


def test_the_recipe_strips_extensions_but_never_bundled_libraries(sam_template: Template) -> None:
    # GIVEN the shared recipe
    recipe = next(iter(_makefile_functions(sam_template).values())).read_text(encoding="utf-8")
    # THEN it installs pinned wheels without pulling the layer's packages in again,
    assert "--no-deps" in recipe and "--require-hashes" in recipe
    assert "--only-binary=:all:" in recipe and "--python-version 3.12" in recipe
    # strips the packages' own extension modules only, and drops tests and caches
    assert "'*.cpython-*.so' -not -path '*.libs/*'" in recipe
    assert "--strip-unneeded" in recipe
    assert "-name tests -o -name __pycache__" in recipe


def _fake_build(root: Path, function_mb: dict[str, float], layer_mb: float) -> Path:
    """A .aws-sam/build lookalike: a built template, function folders and one layer."""
    build = root / "build"
    resources = {
        "SharedLayer": {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {"ContentUri": "SharedLayer"},
        }
    }
    for name, size in function_mb.items():
        (build / name).mkdir(parents=True)
        (build / name / "blob.bin").write_bytes(b"\0" * int(size * MB))
        resources[name] = {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": name}}
    (build / "SharedLayer" / "python").mkdir(parents=True)
    (build / "SharedLayer" / "python" / "lib.bin").write_bytes(b"\0" * int(layer_mb * MB))
    template = {
        "Globals": {"Function": {"Layers": [{"Ref": "SharedLayer"}]}},
        "Resources": resources,
    }
    (build / "template.yaml").write_text(json.dumps(template), encoding="utf-8")
    return build


def _sizes(build: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SIZES), "--build-dir", str(build), *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_sizes_add_the_layers_to_each_function(tmp_path: Path) -> None:
    # GIVEN a build with a 3 MB and a 1 MB function sharing a 2 MB layer
    build = _fake_build(tmp_path, {"BigFunction": 3, "SmallFunction": 1}, layer_mb=2)
    # WHEN measured
    result = _sizes(build, "--json")
    # THEN each total counts the function and its layer, and nothing is over the limit
    assert result.returncode == 0, result.stderr
    totals = {f["name"]: f["total_bytes"] for f in json.loads(result.stdout)["functions"]}
    assert totals == {"BigFunction": 5 * MB, "SmallFunction": 3 * MB}


def test_sizes_fail_when_function_and_layers_pass_the_limit(tmp_path: Path) -> None:
    # GIVEN a function that fits alone but not with its layer
    build = _fake_build(tmp_path, {"HeavyFunction": 3}, layer_mb=2)
    # WHEN measured against a 4 MB limit
    result = _sizes(build, "--limit-mb", "4")
    # THEN the gate fails and names the function
    assert result.returncode == 1
    assert "HeavyFunction is 5.0 MB" in result.stderr


def test_sizes_explain_a_missing_build(tmp_path: Path) -> None:
    # GIVEN no build WHEN measured THEN it says to build first
    result = _sizes(tmp_path / "nothing")
    assert result.returncode == 2
    assert "make build" in result.stderr


@pytest.mark.skipif(
    not (ROOT / ".aws-sam" / "build" / "template.yaml").exists(), reason="run `make build` first"
)
def test_the_real_build_fits_in_lambda() -> None:
    # GIVEN the output of `make build` WHEN measured THEN every function fits in 250 MB
    result = _sizes(ROOT / ".aws-sam" / "build")
    assert result.returncode == 0, result.stdout + result.stderr
