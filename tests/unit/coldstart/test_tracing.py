"""make_tracer: Powertools' Tracer, without the X-Ray SDK when tracing is off.

Tracing on (the X-Ray recorder loaded, botocore patched) is checked in a fresh interpreter by
test_cold_imports.py: patching botocore here would trace every later test's AWS calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from newsflow.tracing import NoTracing, make_tracer, tracing_enabled


@pytest.fixture(autouse=True)
def fresh_tracer_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tracer keeps its provider and switches in class state: each test starts clean."""
    for name in ("POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    Tracer._reset_config()
    yield
    Tracer._reset_config()


@pytest.mark.parametrize(
    ("environment", "enabled"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),  # outside Lambda
    ],
)
def test_tracing_is_on_exactly_when_powertools_would_trace(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], enabled: bool
) -> None:
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert tracing_enabled() is enabled
    assert bool(Tracer._is_tracer_disabled()) is not enabled  # Powertools' own verdict


def test_off_the_tracer_runs_on_a_provider_that_does_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    tracer = make_tracer("fetch")

    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"seen": event["n"]}

    @tracer.capture_method
    def method(value: int) -> int:
        return value * 2

    assert tracer.disabled
    assert isinstance(tracer.provider, NoTracing)
    assert handler({"n": 3}, None) == {"seen": 3}
    assert method(21) == 42


def test_off_an_error_still_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    tracer = make_tracer("enrich")

    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        handler({}, None)
