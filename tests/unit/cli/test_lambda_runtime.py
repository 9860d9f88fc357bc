"""The Lambda container (a worker process): handler loading, environment, isolation, logs.

Errors are named as Lambda's Python runtime names them (``Runtime.ImportModuleError``,
``Runtime.MalformedHandlerName``, ``Sandbox.Timedout``, ``Runtime.ExitError``): the container
is a process now, and what the local stack reports should read like CloudWatch Logs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from newsflow_cli.lambda_runtime import FunctionContainer
from newsflow_cli.stacks import FunctionSpec

HANDLER = """\
import os
import sys

from helper import LABEL

SEEN_AT_IMPORT = os.environ.get("GREETING")
CALLS = []


def lambda_handler(event, context):
    CALLS.append(event)
    print(f"{LABEL} handling {event['n']}")
    return {
        "label": LABEL,
        "greeting": os.environ.get("GREETING"),
        "seen_at_import": SEEN_AT_IMPORT,
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "calls": len(CALLS),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 3000,
    }


def failing_handler(event, context):
    raise ValueError("bad event")


def slow_handler(event, context):
    import time

    time.sleep(event["sleep"])
    return {"pid": os.getpid()}


def exiting_handler(event, context):
    os._exit(3)


def pid_handler(event, context):
    return {"pid": os.getpid(), "calls": len(CALLS)}
"""


def _code_dir(root: Path, label: str) -> Path:
    folder = root / label
    folder.mkdir()
    (folder / "app.py").write_text(HANDLER, encoding="utf-8")
    (folder / "helper.py").write_text(f"LABEL = {label!r}\n", encoding="utf-8")
    return folder


def _spec(
    code_dir: Path, name: str, handler: str = "app.lambda_handler", timeout: int = 3
) -> FunctionSpec:
    return FunctionSpec(
        logical_id=name,
        function_name=f"stack-{name}",
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:stack-{name}",
        handler=handler,
        runtime="python3.12",
        timeout=timeout,
        memory_size=256,
        environment={"GREETING": f"hello from {name}"},
        code_dir=code_dir,
    )


def test_the_handler_sees_its_environment_at_import_and_invocation(tmp_path: Path) -> None:
    # GIVEN a function whose environment sets GREETING, and a runtime endpoint
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction")
    container = FunctionContainer(spec, runtime_env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    # WHEN it is invoked
    result = container.invoke({"n": 1}).result
    # THEN both import-time and call-time code saw the function's variables
    assert result["greeting"] == "hello from OneFunction"
    assert result["seen_at_import"] == "hello from OneFunction"
    assert result["endpoint"] == "http://127.0.0.1:9"
    assert result["function_name"] == "stack-OneFunction"
    assert result["memory"] == 256
    assert result["remaining_ok"] is True


def test_the_callers_environment_is_restored_afterwards(tmp_path: Path) -> None:
    # GIVEN a caller without GREETING
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction")
    before = dict(os.environ)
    # WHEN the container runs
    FunctionContainer(spec).invoke({"n": 1})
    # THEN the process environment is as it was
    assert dict(os.environ) == before


def test_a_container_stays_warm_between_invocations(tmp_path: Path) -> None:
    # GIVEN one container
    container = FunctionContainer(_spec(_code_dir(tmp_path, "one"), "OneFunction"))
    # WHEN it is invoked twice
    first = container.invoke({"n": 1})
    second = container.invoke({"n": 2})
    # THEN the module (and its state) was loaded once
    assert (first.cold_start, second.cold_start) == (True, False)
    assert second.result["calls"] == 2


def test_two_functions_with_the_same_module_names_do_not_mix(tmp_path: Path) -> None:
    # GIVEN two functions that both have app.py and helper.py
    first = FunctionContainer(_spec(_code_dir(tmp_path, "alpha"), "AlphaFunction"))
    second = FunctionContainer(_spec(_code_dir(tmp_path, "beta"), "BetaFunction"))
    # WHEN both run, interleaved
    results = [c.invoke({"n": i}).result for i, c in enumerate((first, second, first))]
    # THEN each sees only its own sibling module and state, and none leaks to the caller
    assert [r["label"] for r in results] == ["alpha", "beta", "alpha"]
    assert results[2]["calls"] == 2
    assert "helper" not in sys.modules


def test_stdout_is_captured_as_the_invocations_log(tmp_path: Path) -> None:
    # GIVEN a handler that prints
    container = FunctionContainer(_spec(_code_dir(tmp_path, "one"), "OneFunction"))
    # WHEN it is invoked
    invocation = container.invoke({"n": 7})
    # THEN its output is in that invocation's log only
    assert invocation.logs.strip() == "one handling 7"


def test_a_handler_error_is_reported_not_raised(tmp_path: Path) -> None:
    # GIVEN a handler that raises
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction", handler="app.failing_handler")
    # WHEN it is invoked
    invocation = FunctionContainer(spec).invoke({"n": 1})
    # THEN the error and its traceback are in the result
    assert not invocation.ok
    assert invocation.error_type == "ValueError"
    assert "bad event" in invocation.logs


def test_a_missing_handler_module_is_an_import_error(tmp_path: Path) -> None:
    # GIVEN a handler string naming a module that does not exist
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction", handler="nothere.handler")
    # WHEN it is invoked
    invocation = FunctionContainer(spec).invoke({})
    # THEN the invocation fails like Lambda's Runtime.ImportModuleError
    assert invocation.error_type == "Runtime.ImportModuleError"


@pytest.mark.parametrize("handler", ["nodot", "app."])
def test_a_malformed_handler_string_is_refused_as_lambda_does(tmp_path: Path, handler: str) -> None:
    # GIVEN a handler setting without module.function
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction", handler=handler)
    # WHEN it is invoked / THEN it fails as Lambda's runtime fails it
    assert FunctionContainer(spec).invoke({}).error_type == "Runtime.MalformedHandlerName"


def test_a_handler_missing_from_its_module_is_handler_not_found(tmp_path: Path) -> None:
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction", handler="app.nothere")
    assert FunctionContainer(spec).invoke({}).error_type == "Runtime.HandlerNotFound"


def test_each_container_is_a_process_of_its_own_with_its_own_cold_start(tmp_path: Path) -> None:
    # GIVEN two containers of the same function
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction", handler="app.pid_handler")
    first, second = FunctionContainer(spec), FunctionContainer(spec)
    try:
        # WHEN each is invoked twice
        runs = [c.invoke({"n": i}) for i, c in enumerate((first, second, first, second))]
    finally:
        first.stop()
        second.stop()
    # THEN each imported the handler once, in a process that is neither this one nor the other
    assert [r.cold_start for r in runs] == [True, True, False, False]
    pids = [r.result["pid"] for r in runs]
    assert pids[0] == pids[2] and pids[1] == pids[3]
    assert len({pids[0], pids[1], os.getpid()}) == 3


def test_an_invocation_past_the_timeout_ends_the_container(tmp_path: Path) -> None:
    # GIVEN a function with a 1 s timeout whose handler sleeps longer
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction", handler="app.slow_handler", timeout=1)
    container = FunctionContainer(spec)
    try:
        # WHEN it is invoked, and then again with a short sleep
        late = container.invoke({"sleep": 30})
        again = container.invoke({"sleep": 0})
    finally:
        container.stop()
    # THEN the first is a timeout, stopped well before the handler would have returned, and
    # the next invocation starts a fresh environment (a cold start in another process)
    assert late.timed_out and late.error_type == "Sandbox.Timedout"
    assert late.duration_ms < 10_000
    assert again.ok and again.cold_start and again.result["pid"] != late.pid


def test_a_process_that_exits_is_a_runtime_exit_error(tmp_path: Path) -> None:
    spec = _spec(_code_dir(tmp_path, "one"), "OneFunction", handler="app.exiting_handler")
    invocation = FunctionContainer(spec).invoke({})
    assert invocation.error_type == "Runtime.ExitError"
    assert not invocation.ok
