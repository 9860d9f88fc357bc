"""One Lambda execution environment: a child process that imports a handler and runs it.

Started by :class:`newsflow_cli.lambda_runtime.FunctionContainer` as
``python -I [-S] lambda_worker.py``, with the function's environment as the process
environment (as Lambda sets it before the runtime starts). Standard library only: with
``--from-build`` it runs under the runtime's interpreter in isolated mode without
``site-packages``, where nothing but the built function and its layers may be importable.

Protocol, one JSON object a line:

* stdin, first line: ``{"code_dir": ..., "layer_dirs": [...], "handler": "app.lambda_handler",
  "context": {...}}``; then one request a line: ``{"event": ..., "request_id": ...}``. End of
  input ends the process (so a worker never outlives its parent).
* stdout: one response per request: the result or the error (named as Lambda's runtime names
  it: ``Runtime.ImportModuleError`` for a module the package lacks), the log the invocation
  wrote, whether it was this environment's first (cold) invocation and the peak RSS.

What the handler writes to ``sys.stdout``/``sys.stderr`` (Powertools logs, metrics) is the
invocation's log, returned with the response; file descriptor 1 is moved to 2 so that nothing
written below Python (a C library) can corrupt the protocol.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import resource
import sys
import time
import traceback
from typing import Any, TextIO


class LambdaContext:
    """The attributes and method of the context object the Python runtime passes."""

    def __init__(self, fields: dict[str, Any], request_id: str, timeout: float) -> None:
        self.function_name = fields["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = fields["function_arn"]
        self.memory_limit_in_mb = fields["memory_size"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/[$LATEST]{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _Log(io.TextIOBase):
    """sys.stdout and sys.stderr of the handler: one buffer per invocation.

    One object for the whole process: logging handlers created at import time keep the stream
    they saw, so the stream itself must switch buffers, not be replaced.
    """

    def __init__(self) -> None:
        self.buffer_text = io.StringIO()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self.buffer_text.write(text)

    def take(self) -> str:
        text = self.buffer_text.getvalue()
        self.buffer_text = io.StringIO()
        return text


class HandlerLoadError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def load_handler(spec: str) -> Any:
    """``module.function`` -> the function, failing as Lambda's runtime does."""
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise HandlerLoadError(
            "Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerLoadError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    except SyntaxError as exc:
        raise HandlerLoadError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise HandlerLoadError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(requests: TextIO, responses: TextIO, log: _Log) -> None:
    setup = json.loads(requests.readline())
    sys.path[:0] = [setup["code_dir"], *setup["layer_dirs"]]
    handler: Any = None
    for line in requests:
        request = json.loads(line)
        request_id = str(request["request_id"])
        context = LambdaContext(setup["context"], request_id, float(setup["context"]["timeout"]))
        response: dict[str, Any] = {"request_id": request_id, "pid": os.getpid()}
        started_wall = time.time()
        started = time.monotonic()
        try:
            if handler is None:
                response["cold_start"] = True
                handler = load_handler(setup["handler"])
                response["init_ms"] = (time.monotonic() - started) * 1000
            result = handler(request["event"], context)
            response["result"] = json.loads(json.dumps(result, default=str))
        except HandlerLoadError as exc:
            response["error_type"] = exc.error_type
            response["error_message"] = str(exc)
            log.write(f"[ERROR] {exc.error_type}: {exc}\n")
        except Exception as exc:  # the runtime reports any handler error; the caller decides
            response["error_type"] = type(exc).__name__
            response["error_message"] = str(exc)
            log.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        response["started"] = started_wall
        response["finished"] = time.time()
        response["duration_ms"] = (time.monotonic() - started) * 1000
        response["max_rss_mb"] = _max_rss_mb()
        response["logs"] = log.take()
        responses.write(json.dumps(response) + "\n")
        responses.flush()


def main() -> None:
    responses = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    log = _Log()
    sys.stdout = sys.stderr = log
    serve(sys.stdin, responses, log)


if __name__ == "__main__":
    main()
