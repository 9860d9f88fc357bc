"""A Docker-free stand-in for the Lambda Python runtime: one "container" per function.

A container imports the handler module named by the function's ``Handler`` from its code
folder (by file path, under a module name of its own) with the function's environment set, then
calls the handler with a Lambda-shaped context. Like a real container it keeps its module, its
clients and its caches between invocations.

What a real container isolates and this process must emulate:

* **environment**: ``os.environ`` holds the function's variables (plus endpoint and credentials
  for the local stack) only while the container imports or runs, and is restored afterwards;
* **modules**: the layer packages (e.g. ``newsflow``) and the code folder's own modules are
  private to the container - swapped into ``sys.modules`` while it runs - so a settings cache
  or a client built by one function (or by an earlier stack in the same process) never leaks
  into another;
* **logs**: stdout/stderr written while the container runs (Powertools JSON logs and metrics)
  are captured per invocation, like CloudWatch Logs, and optionally echoed.

Invocations are serialised by a lock: the environment and ``sys.modules`` are process-wide.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from newsflow_cli.stacks import FunctionSpec

_RUNTIME_LOCK = threading.RLock()
_SAFE_NAME = re.compile(r"[^0-9A-Za-z_]")


class LambdaContext:
    """The attributes and method of the context object the Python runtime passes."""

    def __init__(self, spec: FunctionSpec, request_id: str | None = None) -> None:
        self.function_name = spec.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.function_arn
        self.memory_limit_in_mb = spec.memory_size
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.function_name}"
        self.log_stream_name = f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    """What one handler call produced: its return value or error, and its log output."""

    function: str
    request_id: str
    result: Any = None
    error: BaseException | None = None
    error_type: str | None = None
    error_message: str | None = None
    logs: str = ""
    duration_ms: float = 0.0
    timed_out: bool = False
    cold_start: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


class _LogRouter(io.TextIOBase):
    """The stdout/stderr every container sees: writes go to the running invocation's log.

    One object for the whole process, because logging handlers created at import time keep the
    stream they saw (and ``logging`` loggers are process-wide, so a second container of the same
    service reuses the first one's handler). Writes while no container runs go to stderr.
    """

    def __init__(self) -> None:
        self.current: FunctionContainer | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        container = self.current
        if container is not None:
            container._log_write(text)
        elif sys.__stderr__ is not None:
            sys.__stderr__.write(text)
        return len(text)

    def flush(self) -> None:
        container = self.current
        if container is not None and container.echo is not None:
            container.echo.flush()


_ROUTER = _LogRouter()


def _top_level_names(folder: Path) -> set[str]:
    """Module and package names a folder contributes to ``sys.path``."""
    names: set[str] = set()
    if not folder.is_dir():
        return names
    for entry in folder.iterdir():
        if entry.name.startswith((".", "__")):
            continue
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.add(entry.name)
        elif entry.suffix == ".py":
            names.add(entry.stem)
    return names


class FunctionContainer:
    """One warm execution environment of ``spec``; create once, invoke many times."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        runtime_env: Mapping[str, str] | None = None,
        overrides: Mapping[str, str] | None = None,
        clean_aws_env: bool = True,
        echo: TextIO | None = None,
    ) -> None:
        if spec.code_dir is None:
            raise ValueError(f"{spec.logical_id} has no local code folder in the template")
        self.spec = spec
        self.echo = echo
        self._runtime_env = dict(runtime_env or {})
        self._overrides = dict(overrides or {})
        self._clean_aws_env = clean_aws_env
        self._handler: Any = None
        self._modules: dict[str, ModuleType] = {}
        self._log = io.StringIO()
        self._owned = _top_level_names(spec.code_dir)
        for layer in spec.layer_dirs:
            self._owned |= _top_level_names(layer)
        self._paths = [str(spec.code_dir), *(str(p) for p in spec.layer_dirs)]
        self.module_name = f"_newsflow_local_{_SAFE_NAME.sub('_', spec.logical_id)}"

    # ------------------------------------------------------------------ environment

    def environment(self) -> dict[str, str]:
        """The full environment the handler sees (what Lambda would set, plus overrides)."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not (self._clean_aws_env and key.startswith("AWS_"))
        }
        spec = self.spec
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                # What `sam local invoke` sets: Powertools turns X-Ray tracing off for it.
                "AWS_SAM_LOCAL": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        env.update(spec.environment)
        env.update(self._runtime_env)
        env.update(self._overrides)
        return env

    @contextlib.contextmanager
    def _activated(self) -> Iterator[None]:
        """Enter the container: its environment, its modules, its log streams, its paths."""
        with _RUNTIME_LOCK:
            saved_env = dict(os.environ)
            saved_modules = {
                name: sys.modules.pop(name) for name in list(sys.modules) if self._owns(name)
            }
            saved_path = list(sys.path)
            saved_streams = (sys.stdout, sys.stderr)
            os.environ.clear()
            os.environ.update(self.environment())
            sys.modules.update(self._modules)
            sys.path[:0] = self._paths
            sys.stdout = sys.stderr = _ROUTER
            _ROUTER.current = self
            try:
                yield
            finally:
                _ROUTER.current = None
                sys.stdout, sys.stderr = saved_streams
                sys.path[:] = saved_path
                self._modules = {
                    name: sys.modules.pop(name) for name in list(sys.modules) if self._owns(name)
                }
                sys.modules.update(saved_modules)
                os.environ.clear()
                os.environ.update(saved_env)

    def _owns(self, name: str) -> bool:
        return name.split(".", 1)[0] in self._owned or name.startswith(self.module_name)

    # ------------------------------------------------------------------ logs

    def _log_write(self, text: str) -> None:
        self._log.write(text)
        if self.echo is not None:
            self.echo.write(text)

    def _take_log(self) -> str:
        text = self._log.getvalue()
        self._log = io.StringIO()
        return text

    # ------------------------------------------------------------------ running

    def _load_handler(self) -> Any:
        module_path, _, function_name = self.spec.handler.rpartition(".")
        if not module_path or not function_name:
            raise ImportError(f"bad handler '{self.spec.handler}' (expected module.function)")
        assert self.spec.code_dir is not None
        file_path = self.spec.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
        if not file_path.is_file():
            raise ImportError(f"handler module {file_path} not found")
        name = f"{self.module_name}_{module_path.replace('.', '_')}"
        module_spec = importlib.util.spec_from_file_location(name, file_path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {file_path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
        handler = getattr(module, function_name, None)
        if not callable(handler):
            raise ImportError(f"{file_path} has no function {function_name}")
        return handler

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        """Run the handler once; errors are reported in the result, never raised."""
        context = LambdaContext(self.spec, request_id)
        invocation = Invocation(function=self.spec.logical_id, request_id=context.aws_request_id)
        started = time.monotonic()
        with self._activated():
            try:
                if self._handler is None:
                    invocation.cold_start = True
                    self._handler = self._load_handler()
                invocation.result = self._handler(event, context)
            except Exception as exc:
                invocation.error = exc
                invocation.error_type = type(exc).__name__
                invocation.error_message = str(exc)
                self._log_write(
                    "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                )
        invocation.duration_ms = (time.monotonic() - started) * 1000
        if invocation.duration_ms > self.spec.timeout * 1000:
            # Lambda would have stopped the function: its result does not count.
            invocation.timed_out = True
            self._log_write(f"Task timed out after {self.spec.timeout:.2f} seconds\n")
        invocation.logs = self._take_log()
        return invocation


@dataclass
class ContainerPool:
    """One container per function (created on first use), shared by the poller and ``invoke``."""

    runtime_env: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, str] = field(default_factory=dict)
    clean_aws_env: bool = True
    echo: TextIO | None = None
    _containers: dict[str, FunctionContainer] = field(default_factory=dict)

    def get(self, spec: FunctionSpec) -> FunctionContainer:
        container = self._containers.get(spec.logical_id)
        if container is None:
            container = FunctionContainer(
                spec,
                runtime_env=self.runtime_env,
                overrides=self.overrides,
                clean_aws_env=self.clean_aws_env,
                echo=self.echo,
            )
            self._containers[spec.logical_id] = container
        return container
