"""SnapStart: what a handler registers for restored containers, and what its init prepares.

Lambda's ``snapshot_restore_py`` exists only in its Python runtime; a stand-in module records
the hooks a handler registers, and the tests call them as the runtime would after a restore.
"""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest

from newsflow import language
from newsflow.enrichment import get_enricher
from newsflow.snapstart import on_restore, snapshot_init


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """A stand-in ``snapshot_restore_py`` that keeps what is registered."""
    registered = types.SimpleNamespace(after_restore=[], before_snapshot=[])
    module = types.ModuleType("snapshot_restore_py")
    module.register_after_restore = registered.after_restore.append  # type: ignore[attr-defined]
    module.register_before_snapshot = registered.before_snapshot.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def restore(runtime: types.SimpleNamespace) -> None:
    """What Lambda does after restoring a snapshot: run every after-restore hook."""
    for hook in runtime.after_restore:
        hook()


def draws_after_restore(runtime: types.SimpleNamespace) -> list[float]:
    random.seed(20261201)  # the state every container restored from one snapshot would share
    restore(runtime)
    return [random.random() for _ in range(3)]


def test_outside_lambda_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "snapshot_restore_py", raising=False)
    assert on_restore(lambda: None) is False


def test_the_snapstart_init_is_told_by_lambdas_initialization_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    assert snapshot_init()
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    assert not snapshot_init()


def test_a_restored_fetch_container_gets_new_clients_and_its_own_random(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], types.ModuleType],
    runtime: types.SimpleNamespace,
) -> None:
    handler = load_function("FetchFunction", pipeline.fetch_env())
    snapshot_stage = handler._stage()
    assert len(runtime.after_restore) == 1

    random.seed(20261201)
    snapshot_draws = [random.random() for _ in range(3)]
    restored_draws = draws_after_restore(runtime)

    stage = handler._stage()
    assert stage is not snapshot_stage
    assert stage._documents._client is not snapshot_stage._documents._client
    assert stage._table._client is not snapshot_stage._table._client
    assert stage._fetcher is not snapshot_stage._fetcher  # its connections too
    assert restored_draws != snapshot_draws


def test_a_restored_enrich_container_gets_new_clients_and_keeps_the_model(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], types.ModuleType],
    runtime: types.SimpleNamespace,
) -> None:
    handler = load_function("EnrichFunction", {**pipeline.enrich_env(), "ENRICH_BACKEND": "local"})
    snapshot_stage = handler._stage()

    restore(runtime)

    stage = handler._stage()
    assert stage is not snapshot_stage
    assert stage._documents._client is not snapshot_stage._documents._client
    assert stage._table._client is not snapshot_stage._table._client
    assert stage._enricher is snapshot_stage._enricher is get_enricher("local")


@pytest.mark.parametrize(
    ("initialization", "prepared"), [("snap-start", True), ("on-demand", False)]
)
def test_only_a_snapstart_init_builds_the_stage_and_loads_the_classifier(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], types.ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    initialization: str,
    prepared: bool,
) -> None:
    language._identifier.cache_clear()
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", initialization)

    handler = load_function("FetchFunction", pipeline.fetch_env())

    assert handler._stage.cache_info().currsize == int(prepared)
    assert language._identifier.cache_info().currsize == int(prepared)
