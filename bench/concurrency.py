"""10. Records of a batch in parallel: billed milliseconds per article, sequential vs concurrent.

Ten loopback hosts (127.0.0.1 to 127.0.0.10, each its own server) add a fixed latency to every
response, standing in for remote sites. A batch of ten articles, one per host, goes through
FetchFunction's real handler (loaded from its file as Lambda loads it, robots.txt and the host
gate on) once with ``FETCH_CONCURRENCY=1`` (one record after another, as before) and once with
``FETCH_CONCURRENCY=10``. Lambda bills the invocation's wall-clock duration, so the billed
milliseconds per article are the handler's wall time divided by the batch size. Each mode first
runs one untimed batch so that robots.txt is cached, as in a warm container, then ``rounds``
timed batches of fresh URLs.

Nothing but the handler runs in the bench's process. AWS is two moto servers, each in a process
of its own, as the local stack runs them (:mod:`newsflow_cli.moto_process`): DynamoDB on one
(the function reaches it through ``AWS_ENDPOINT_URL_DYNAMODB``), S3 and SQS on the other. AWS's
services are independent; one interpreter serving all three would make S3 and SQS calls queue
behind DynamoDB's. The S3, DynamoDB and SQS calls are network waits for the handler, as they are
on Lambda, and moto's own CPU work is not billed to the function. The slow hosts run in a child
process too (:mod:`bench.slow_hosts`), so their threads do not share the handler's GIL. The AWS
calls the handler makes in the timed batches are counted per operation (botocore hooks on the
session its clients are created from), and each moto server's CPU time per batch is read from
/proc: on one machine, the function and its stand-ins for AWS share the cores.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from bench.fetch_stage import BUCKET, TABLE
from bench.fetch_stage import _create_resources as create_resources
from bench.slow_hosts import SlowHosts
from bench.stats import summary
from newsflow import settings as newsflow_settings
from newsflow_cli.moto_process import MotoProcess
from newsflow_cli.poller import build_sqs_event
from newsflow_cli.process_stats import process_stats

HOSTS = tuple(f"127.0.0.{i}" for i in range(1, 11))


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
        hosts = SlowHosts(root, HOSTS, latency_ms)
        stack.callback(hosts.stop)
        for mode, concurrency in (("sequential", 1), ("concurrent", len(HOSTS))):
            with ExitStack() as servers:
                main, tables = MotoProcess.start_many(2)
                servers.callback(main.stop)
                servers.callback(tables.stop)
                moto_pids = {"moto": main.pid, "moto dynamodb": tables.pid}
                servers.enter_context(
                    _environment(
                        {
                            "AWS_ENDPOINT_URL": main.endpoint_url,
                            "AWS_ENDPOINT_URL_DYNAMODB": tables.endpoint_url,
                        }
                    )
                )
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
                    warm = [hosts.url(i, "/warm") for i in range(len(HOSTS))]
                    handler.lambda_handler(_event(sqs, ingest, warm), _Context())
                    wall: list[float] = []
                    cpu: list[float] = []
                    moto_cpu: dict[str, list[float]] = {name: [] for name in moto_pids}
                    for round_ in range(rounds):
                        time.sleep(1.1)  # each host's next slot (HostRequestsPerSecond=1) is free
                        urls = [hosts.url(i, f"/story-{round_}") for i in range(len(HOSTS))]
                        event = _event(sqs, ingest, urls)
                        counter.counting = True
                        moto_before = {n: _cpu_seconds(pid) for n, pid in moto_pids.items()}
                        started, started_cpu = time.perf_counter(), time.process_time()
                        response = handler.lambda_handler(event, _Context())
                        wall.append((time.perf_counter() - started) * 1000)
                        cpu.append((time.process_time() - started_cpu) * 1000)
                        for name, pid in moto_pids.items():
                            moto_cpu[name].append((_cpu_seconds(pid) - moto_before[name]) * 1000)
                        counter.counting = False
                        assert response == {"batchItemFailures": []}, response
                per_article = len(HOSTS)
                results[mode] = {
                    "billed_ms_per_article": summary([w / per_article for w in wall]),
                    "cpu_ms_per_article": summary([c / per_article for c in cpu]),
                    "batch_wall_ms": summary(wall),
                    "moto_cpu_ms_per_article": summary(
                        [sum(batch) / per_article for batch in zip(*moto_cpu.values(), strict=True)]
                    ),
                    "moto_cpu_ms_per_article_by_server": {
                        name: summary([m / per_article for m in values])
                        for name, values in moto_cpu.items()
                    },
                    "aws_calls_per_article": {
                        name: round(count / (rounds * per_article), 2)
                        for name, count in sorted(counter.calls.items())
                    },
                }
                progress(f"concurrency: {mode} done")
    sequential = results["sequential"]["billed_ms_per_article"]["mean"]
    concurrent = results["concurrent"]["billed_ms_per_article"]["mean"]
    results["times_fewer_billed_ms"] = round(sequential / concurrent, 2)
    return results
