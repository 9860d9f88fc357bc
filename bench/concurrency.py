"""10. Records of a batch in parallel: billed milliseconds per article, sequential vs concurrent.

Ten loopback hosts (127.0.0.1 to 127.0.0.10, each its own server) add a fixed latency to every
response, standing in for remote sites. A batch of ten articles, one per host, goes through
FetchFunction's real handler (loaded from its file as Lambda loads it, robots.txt and the host
gate on, AWS on moto in-process) once with ``FETCH_CONCURRENCY=1`` (one record after another,
as before) and once with ``FETCH_CONCURRENCY=10``. Lambda bills the invocation's wall-clock
duration, so the billed milliseconds per article are the handler's wall time divided by the
batch size. Each mode first runs one untimed batch so that robots.txt is cached, as in a warm
container, then ``rounds`` timed batches of fresh URLs.

AWS is moto's server in a process of its own on 127.0.0.1, so that S3, DynamoDB and SQS calls
are network waits for the handler, as they are on Lambda, and moto's own CPU work is not billed
to the function (in-process moto would add tens of ms of CPU per article that AWS does not).
The AWS calls the handler makes in the timed batches are counted per operation (botocore hooks
on the session its clients are created from), and moto's CPU time per batch is read from /proc:
on one machine, the function and its stand-in for AWS share the cores.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from bench.fetch_stage import BUCKET, TABLE
from bench.fetch_stage import _create_resources as create_resources
from bench.samples import make_page
from bench.stats import summary
from newsflow import settings as newsflow_settings
from newsflow_cli.poller import build_sqs_event
from newsflow_cli.process_stats import process_stats

HOSTS = tuple(f"127.0.0.{i}" for i in range(1, 11))


class SlowHost:
    """One loopback host that answers every request after ``latency_s``."""

    def __init__(self, address: str, latency_s: float, page: bytes) -> None:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(host.latency_s)
                robots = self.path == "/robots.txt"
                body = b"User-agent: *\nAllow: /\n" if robots else host.page
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if robots else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.latency_s = latency_s
        self.page = page
        self._server = ThreadingHTTPServer((address, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.address = address
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://{self.address}:{self.port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _CallCounter:
    """AWS operations called while ``counting`` is on (the bench's own calls happen outside)."""

    def __init__(self) -> None:
        self.counting = False
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        if self.counting:
            with self._lock:
                self.calls[model.name] += 1


class _Context:
    function_name = "bench-fetch"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-fetch"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@contextmanager
def _moto_server() -> Iterator[tuple[str, int]]:
    """moto's server in its own process on a free loopback port; yields its URL and pid."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(  # noqa: S603 - our own venv's moto, loopback only
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (0 where /proc cannot tell)."""
    stats = process_stats(pid)
    return stats.cpu_seconds if stats else 0.0


def _load_handler(root: Path, name: str) -> ModuleType:
    for cached in (
        newsflow_settings.get_fetch_settings,
        newsflow_settings.get_fetch_policy,
        newsflow_settings.get_politeness_settings,
    ):
        cached.cache_clear()
    spec = importlib.util.spec_from_file_location(name, root / "functions/fetch/app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _event(sqs: Any, queue_url: str, urls: list[str]) -> dict[str, Any]:
    for url in urls:
        sqs.send_message(QueueUrl=queue_url, MessageBody=url)
    messages: list[dict[str, Any]] = []
    while len(messages) < len(urls):
        for message in sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            messages.append(message)
    return build_sqs_event(
        messages, queue_arn="arn:aws:sqs:us-east-1:123456789012:bench-ingest", region="us-east-1"
    )


def run(
    root: Path,
    *,
    latency_ms: float = 300.0,
    rounds: int = 3,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    results: dict[str, Any] = {"latency_ms": latency_ms, "batch": len(HOSTS), "rounds": rounds}
    with ExitStack() as stack:
        hosts = [
            SlowHost(address, latency_ms / 1000, make_page(i).html)
            for i, address in enumerate(HOSTS)
        ]
        for host in hosts:
            stack.callback(host.close)
        for mode, concurrency in (("sequential", 1), ("concurrent", len(HOSTS))):
            with (
                _moto_server() as (endpoint, moto_pid),
                _environment({"AWS_ENDPOINT_URL": endpoint}),
            ):
                # the fetch_stage section's bucket, table (from the template) and enrich queue
                _, _, sqs, enrich = create_resources(root / "template.yaml")
                ingest = sqs.create_queue(QueueName="bench-ingest")["QueueUrl"]
                env = {
                    "ARTICLES_BUCKET": BUCKET,
                    "ARTICLES_TABLE": TABLE,
                    "ENRICH_QUEUE_URL": enrich,
                    "INGEST_QUEUE_URL": ingest,
                    "NEWSFLOW_ALLOW_LOOPBACK": "true",
                    "HOST_REQUESTS_PER_SECOND": "1",
                    "FETCH_CONCURRENCY": str(concurrency),
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    "POWERTOOLS_LOG_LEVEL": "ERROR",
                    "POWERTOOLS_METRICS_NAMESPACE": "newsflow",
                    "AWS_DEFAULT_REGION": "us-east-1",
                }
                counter = _CallCounter()
                boto3.setup_default_session()  # the handler's clients come from this session
                assert boto3.DEFAULT_SESSION is not None
                boto3.DEFAULT_SESSION.events.register("before-call.*.*", counter)
                with _environment(env):
                    handler = _load_handler(root, f"bench_fetch_{mode}")
                    # untimed: robots.txt of every host cached, clients and parser warmed up
                    warm = [host.url("/warm") for host in hosts]
                    handler.lambda_handler(_event(sqs, ingest, warm), _Context())
                    wall: list[float] = []
                    cpu: list[float] = []
                    moto_cpu: list[float] = []
                    for round_ in range(rounds):
                        time.sleep(1.1)  # each host's next slot (HostRequestsPerSecond=1) is free
                        urls = [host.url(f"/story-{round_}") for host in hosts]
                        event = _event(sqs, ingest, urls)
                        counter.counting = True
                        moto_before = _cpu_seconds(moto_pid)
                        started, started_cpu = time.perf_counter(), time.process_time()
                        response = handler.lambda_handler(event, _Context())
                        wall.append((time.perf_counter() - started) * 1000)
                        cpu.append((time.process_time() - started_cpu) * 1000)
                        moto_cpu.append((_cpu_seconds(moto_pid) - moto_before) * 1000)
                        counter.counting = False
                        assert response == {"batchItemFailures": []}, response
                results[mode] = {
                    "billed_ms_per_article": summary([w / len(hosts) for w in wall]),
                    "cpu_ms_per_article": summary([c / len(hosts) for c in cpu]),
                    "batch_wall_ms": summary(wall),
                    "moto_cpu_ms_per_article": summary([m / len(hosts) for m in moto_cpu]),
                    "aws_calls_per_article": {
                        name: round(count / (rounds * len(hosts)), 2)
                        for name, count in sorted(counter.calls.items())
                    },
                }
                progress(f"concurrency: {mode} done")
    sequential = results["sequential"]["billed_ms_per_article"]["mean"]
    concurrent = results["concurrent"]["billed_ms_per_article"]["mean"]
    results["times_fewer_billed_ms"] = round(sequential / concurrent, 2)
    return results
