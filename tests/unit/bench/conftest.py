"""The benchmark modules under test, loaded from their files.

``bench/`` is a folder of scripts run with ``python -m bench.run`` from the repository root,
not an installed package; its pure modules (scorer, cost model, corpus reader, report, samples)
use only the standard library, so each is loaded on its own by file path, like the handlers in
the shared conftest.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def load_bench_module(name: str) -> ModuleType:
    module_name = f"newsflow_bench_{name}"
    spec = importlib.util.spec_from_file_location(module_name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def scoring() -> ModuleType:
    return load_bench_module("scoring")


@pytest.fixture(scope="session")
def costs() -> ModuleType:
    return load_bench_module("costs")


@pytest.fixture(scope="session")
def report() -> ModuleType:
    return load_bench_module("report")


@pytest.fixture(scope="session")
def samples() -> ModuleType:
    return load_bench_module("samples")


@pytest.fixture(scope="session")
def duplicates() -> ModuleType:
    return load_bench_module("duplicates")


@pytest.fixture(scope="session")
def corpus() -> ModuleType:
    return load_bench_module("corpus")


@pytest.fixture(scope="session")
def runner() -> ModuleType:
    return load_bench_module("run")
