"""A Docker-free stand-in for the Lambda Python runtime: each container is a worker process.

A :class:`FunctionContainer` is one execution environment of a function: a child process
(``lambda_worker.py``, standard library only) started with the function's environment, which
imports the handler named by ``Handler`` on its first invocation (a real cold start) and keeps
its module, clients and caches for the next ones. Containers of one function never share
module state, and they run at the same time, each on its own interpreter.

Where the code comes from:

* by default the template's code folders (``functions/fetch`` + the layer folder ``shared``)
  with this environment's interpreter and packages;
* ``--from-build`` (:class:`BuildLocation`): the ``sam build`` output, ``.aws-sam/build/<Id>``
  and each layer's ``python/`` folder, run by the function's runtime interpreter (python3.12)
  in isolated mode without ``site-packages``. A package missing from the build fails the
  invocation with ``Runtime.ImportModuleError``, as it would on AWS.

An invocation that outlives the function's ``Timeout`` is stopped by ending the process, as
Lambda ends the environment; the next invocation starts a fresh one. A process that dies is
reported like Lambda's ``Runtime.ExitError``.

:class:`ContainerPool` holds the containers of every function: the poller leases one per batch
(an idle one, or a new one while the function has fewer than its concurrency limit).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import selectors
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

from newsflow_cli import sam_template
from newsflow_cli.stacks import FunctionSpec

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
# Time a worker gets beyond the function's Timeout before it is stopped: the pipe and JSON.
_TIMEOUT_GRACE_SECONDS = 1.0
_STOP_WAIT_SECONDS = 5.0


class WorkerError(Exception):
    """An error the worker reported (by type name and message), or the worker's own failure."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


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
    init_ms: float = 0.0
    pid: int | None = None
    started: float = 0.0  # wall clock (time.time()) in the worker
    finished: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


# --------------------------------------------------------------------------- where code comes from


@functools.cache
def find_runtime_python(runtime: str) -> str:
    """The interpreter of a Lambda runtime (``python3.12``): on PATH, else pyenv's.

    The same search as the Makefile's for ``sam build``; a pyenv shim on PATH that has no such
    version selected does not count.
    """
    version = runtime.removeprefix("python")
    name = f"python{version}"
    candidates: list[str] = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    pyenv = shutil.which("pyenv")
    if pyenv:
        prefixes = subprocess.run(  # noqa: S603 - pyenv found on PATH, fixed arguments
            [pyenv, "prefix", version], capture_output=True, text=True, check=False
        ).stdout.split()
        candidates += [str(Path(prefix) / "bin" / name) for prefix in prefixes]
    for candidate in candidates:
        probe = subprocess.run(  # noqa: S603 - an interpreter path, fixed arguments
            [candidate, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip():
            return probe.stdout.strip()
    raise FileNotFoundError(
        f"{name} not found (put it on PATH, or 'pyenv install {version}'): --from-build runs "
        "the built functions with the Lambda runtime's python"
    )


@dataclass(frozen=True)
class BuildLocation:
    """Where ``sam build`` put each function (``<Id>/``) and layer (``<LayerId>/python/``)."""

    build_dir: Path
    layer_ids: Mapping[str, tuple[str, ...]]  # function logical id -> its layers' logical ids

    @classmethod
    def of(cls, build_dir: Path, template: sam_template.TemplateDict) -> BuildLocation:
        build_dir = Path(build_dir).resolve()
        if not build_dir.is_dir():
            raise FileNotFoundError(f"{build_dir} does not exist: run `make build` first")
        functions = [
            logical_id
            for logical_id, kind in sam_template.resource_types(template)
            if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function")
        ]
        return cls(
            build_dir=build_dir,
            layer_ids={f: tuple(sam_template.function_layer_ids(template, f)) for f in functions},
        )

    def code_dir(self, spec: FunctionSpec) -> Path:
        folder = self.build_dir / spec.logical_id
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} does not exist: run `make build` first")
        return folder

    def layer_dirs(self, spec: FunctionSpec) -> list[Path]:
        return [
            self.build_dir / layer / "python" for layer in self.layer_ids.get(spec.logical_id, ())
        ]


# --------------------------------------------------------------------------- one container


class FunctionContainer:
    """One execution environment of ``spec``: a worker process, started on first use."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        runtime_env: Mapping[str, str] | None = None,
        overrides: Mapping[str, str] | None = None,
        clean_aws_env: bool = True,
        echo: TextIO | None = None,
        build: BuildLocation | None = None,
        python: str | None = None,
    ) -> None:
        if spec.code_dir is None and build is None:
            raise ValueError(f"{spec.logical_id} has no local code folder in the template")
        self.spec = spec
        self.echo = echo
        self.build = build
        self._python = python
        self._runtime_env = dict(runtime_env or {})
        self._overrides = dict(overrides or {})
        self._clean_aws_env = clean_aws_env
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self.invocations = 0
        self.cold_starts = 0
        self.pids: list[int] = []

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
                "LAMBDA_TASK_ROOT": str(self.code_dir),
                # What `sam local invoke` sets: Powertools turns X-Ray tracing off for it.
                "AWS_SAM_LOCAL": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(spec.environment)
        env.update(self._runtime_env)
        env.update(self._overrides)
        return env

    @property
    def code_dir(self) -> Path:
        if self.build is not None:
            return self.build.code_dir(self.spec)
        assert self.spec.code_dir is not None
        return self.spec.code_dir

    @property
    def layer_dirs(self) -> list[Path]:
        if self.build is not None:
            return self.build.layer_dirs(self.spec)
        return list(self.spec.layer_dirs)

    def command(self) -> list[str]:
        """How the worker starts: isolated mode (no PYTHONPATH, no user site, no script dir);
        from a build also without ``site-packages``, so only the package is importable."""
        if self.build is not None:
            python = self._python or find_runtime_python(self.spec.runtime)
            return [python, "-I", "-S", str(WORKER_SCRIPT)]
        return [self._python or sys.executable, "-I", str(WORKER_SCRIPT)]

    # ------------------------------------------------------------------ process

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(  # noqa: S603 - our own worker script, argument list
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.environment(),
            cwd=str(self.code_dir),
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.pids.append(process.pid)
        spec = self.spec
        setup = {
            "code_dir": str(self.code_dir),
            "layer_dirs": [str(path) for path in self.layer_dirs],
            "handler": spec.handler,
            "context": {
                "function_name": spec.function_name,
                "function_arn": spec.function_arn,
                "memory_size": spec.memory_size,
                "timeout": spec.timeout,
            },
        }
        assert process.stdin is not None
        process.stdin.write(json.dumps(setup) + "\n")
        process.stdin.flush()
        self._process = process
        return process

    def stop(self) -> None:
        """End the worker (closing its input ends it; a stuck one is killed)."""
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            process.wait(_STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()

    # ------------------------------------------------------------------ running

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        """Run the handler once; errors are reported in the result, never raised."""
        with self._lock:
            return self._invoke(event, request_id or str(uuid.uuid4()))

    def _invoke(self, event: Any, request_id: str) -> Invocation:
        invocation = Invocation(function=self.spec.logical_id, request_id=request_id)
        started = time.monotonic()
        process = self._process
        if process is None or process.poll() is not None:
            process = self._start()
        invocation.pid = process.pid
        self.invocations += 1
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps({"event": event, "request_id": request_id}) + "\n")
            process.stdin.flush()
            line = read_line(process.stdout, self.spec.timeout + _TIMEOUT_GRACE_SECONDS)
        except (BrokenPipeError, OSError):
            line = ""
        invocation.duration_ms = (time.monotonic() - started) * 1000
        if line is None:
            # Lambda stops the environment at the timeout: the result does not count.
            self._kill()
            invocation.timed_out = True
            invocation.error_type = "Sandbox.Timedout"
            invocation.error_message = f"Task timed out after {self.spec.timeout:.2f} seconds"
            invocation.error = WorkerError(invocation.error_type, invocation.error_message)
            invocation.logs = invocation.error_message + "\n"
        elif not line:
            code = process.wait()
            self._process = None
            invocation.error_type = "Runtime.ExitError"
            invocation.error_message = f"RequestId: {request_id} Error: Runtime exited ({code})"
            invocation.error = WorkerError(invocation.error_type, invocation.error_message)
            invocation.logs = invocation.error_message + "\n"
        else:
            self._read_response(invocation, json.loads(line))
        if self.echo is not None and invocation.logs:
            self.echo.write(invocation.logs)
            self.echo.flush()
        return invocation

    def _read_response(self, invocation: Invocation, response: dict[str, Any]) -> None:
        invocation.result = response.get("result")
        invocation.logs = str(response.get("logs", ""))
        invocation.cold_start = bool(response.get("cold_start", False))
        invocation.init_ms = float(response.get("init_ms", 0.0))
        invocation.started = float(response.get("started", 0.0))
        invocation.finished = float(response.get("finished", 0.0))
        invocation.duration_ms = float(response.get("duration_ms", invocation.duration_ms))
        if invocation.cold_start:
            self.cold_starts += 1
        error_type = response.get("error_type")
        if error_type:
            invocation.error_type = str(error_type)
            invocation.error_message = str(response.get("error_message", ""))
            invocation.error = WorkerError(invocation.error_type, invocation.error_message)
        if invocation.duration_ms > self.spec.timeout * 1000:
            invocation.timed_out = True
            invocation.logs += f"Task timed out after {self.spec.timeout:.2f} seconds\n"


def read_line(stream: IO[str], timeout: float) -> str | None:
    """One line from the worker, ``""`` at end of file, ``None`` when ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if selector.select(left):
                # The worker writes whole lines and flushes: a ready pipe holds one.
                return stream.readline()


# --------------------------------------------------------------------------- the pool


@dataclass
class ContainerPool:
    """The containers of every function, leased one per batch; stop them with ``close()``."""

    runtime_env: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, str] = field(default_factory=dict)
    clean_aws_env: bool = True
    echo: TextIO | None = None
    build: BuildLocation | None = None
    python: str | None = None
    _containers: dict[str, list[FunctionContainer]] = field(default_factory=dict)
    _busy: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _new(self, spec: FunctionSpec) -> FunctionContainer:
        container = FunctionContainer(
            spec,
            runtime_env=self.runtime_env,
            overrides=self.overrides,
            clean_aws_env=self.clean_aws_env,
            echo=self.echo,
            build=self.build,
            python=self.python,
        )
        self._containers.setdefault(spec.logical_id, []).append(container)
        return container

    def containers(self, spec: FunctionSpec | None = None) -> list[FunctionContainer]:
        with self._lock:
            if spec is not None:
                return list(self._containers.get(spec.logical_id, []))
            return [c for group in self._containers.values() for c in group]

    def get(self, spec: FunctionSpec) -> FunctionContainer:
        """A container for one call (``newsflow invoke``, a schedule tick): an idle one, else a
        new one. A container runs one invocation at a time, so a busy one would only wait."""
        with self._lock:
            for container in self._containers.get(spec.logical_id, []):
                if id(container) not in self._busy:
                    return container
            return self._new(spec)

    def acquire(self, spec: FunctionSpec, limit: int | None) -> FunctionContainer | None:
        """Lease an idle container, or start a new one while fewer than ``limit`` exist (the
        event source mapping's ``MaximumConcurrency``); ``None`` when all are busy."""
        with self._lock:
            group = self._containers.get(spec.logical_id, [])
            for container in group:
                if id(container) not in self._busy:
                    self._busy.add(id(container))
                    return container
            if limit is not None and len(group) >= limit:
                return None
            container = self._new(spec)
            self._busy.add(id(container))
            return container

    def release(self, container: FunctionContainer) -> None:
        with self._lock:
            self._busy.discard(id(container))

    def close(self) -> None:
        """Stop every worker process (they also end by themselves when this process ends)."""
        for container in self.containers():
            container.stop()
