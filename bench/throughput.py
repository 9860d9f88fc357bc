"""7. Local stack throughput: articles per second end to end, from 100 to 1,000 URLs.

The local stack (moto's server in its own process on 127.0.0.1 with ``template.yaml`` deployed
in it, the poller playing the SQS event source mappings, each function's batches run in worker
processes up to the mapping's ``MaximumConcurrency``) and a loopback site serving generated
English articles. Per size: the URLs are pushed to IngestQueue as ``newsflow push`` does, the
poller runs until both queues are empty, and every URL is accounted for (ENRICHED, FAILED or
dead-lettered) as ``newsflow demo`` does. Timed: push + drain. CPU seconds are read per process
(moto's server, the workers of each function, this driver) to show which one is the limit.

The fetch function keeps to ``HostRequestsPerSecond`` per host across all its containers (one
request per 1/rate s plus a 0.1 s guard): on one host that, not the stack, would set the pace.
So the section raises the parameter to its maximum (``HOST_RATE``) and spreads the URLs over
``HOSTS`` loopback sites on distinct addresses (127.0.0.1, 127.0.0.2, ...), as a crawl spreads
over publishers. Everything shares this machine's cores, so this is a figure for the local
stack, not a prediction for Lambda, where AWS does the queue and storage work.

Bounded: the section has a time budget. Before each size the time it needs is estimated from
the rate of the size before; a size that would not fit in what is left of the budget is skipped
(and said so), and a size that does not drain in time is reported with what had drained.
"""

from __future__ import annotations

import contextlib
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.samples import make_pages
from bench.site import LoopbackSite
from newsflow_cli import demo, intake
from newsflow_cli.local_stack import LocalStack
from newsflow_cli.poller import BatchOutcome, Poller
from newsflow_cli.process_stats import process_stats
from newsflow_cli.targets import local_target

WARM_UP_URLS = 10
HOST_RATE = "100"  # the template's maximum HostRequestsPerSecond
HOSTS = 8  # loopback sites, each a host of its own to the politeness gate


def _driver_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_by_process(stack: LocalStack, poller: Poller) -> dict[str, float]:
    """CPU seconds so far: moto's servers, each function's workers (summed), this driver."""
    cpu: dict[str, float] = {"driver": _driver_cpu()}
    for name, pid in stack.moto_pids.items():
        stats = process_stats(pid)
        cpu[name] = stats.cpu_seconds if stats else 0.0
    for container in poller.pool.containers():
        worker = container.pid
        stats = process_stats(worker) if worker is not None else None
        name = f"{container.spec.logical_id} workers"
        cpu[name] = cpu.get(name, 0.0) + (stats.cpu_seconds if stats else 0.0)
    return cpu


def peak_memory_by_process(stack: LocalStack, poller: Poller) -> dict[str, float]:
    """Peak RSS (MB) of moto's servers and of the largest worker of each function."""
    peaks: dict[str, float] = {}
    for name, pid in stack.moto_pids.items():
        if stats := process_stats(pid):
            peaks[name] = stats.peak_rss_mb
    for container in poller.pool.containers():
        worker = container.pid
        if worker is not None and (stats := process_stats(worker)):
            name = f"{container.spec.logical_id} worker (largest)"
            peaks[name] = max(peaks.get(name, 0.0), stats.peak_rss_mb)
    peaks["driver"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return peaks


class _Tally:
    """Per function: batches, records, handler time and log bytes, from the poller's reports."""

    def __init__(self) -> None:
        self.batches: Counter[str] = Counter()
        self.records: Counter[str] = Counter()
        self.duration_ms: dict[str, float] = {}
        self.log_bytes: Counter[str] = Counter()

    def __call__(self, outcome: BatchOutcome) -> None:
        name = outcome.function
        self.batches[name] += 1
        self.records[name] += outcome.received
        self.duration_ms[name] = self.duration_ms.get(name, 0.0) + outcome.invocation.duration_ms
        self.log_bytes[name] += len(outcome.invocation.logs.encode("utf-8"))

    def per_record(self) -> dict[str, Any]:
        return {
            name: {
                "batches": self.batches[name],
                "records": self.records[name],
                "handler_ms_per_record": round(self.duration_ms[name] / self.records[name], 1),
                "log_bytes_per_record": round(self.log_bytes[name] / self.records[name]),
            }
            for name in sorted(self.records)
            if self.records[name]
        }


def run(
    template_path: Path,
    sizes: tuple[int, ...] = (100, 300, 1000),
    budget_seconds: float = 300.0,
    progress: Any = None,
    *,
    build_dir: Path | None = None,
    max_workers: int | None = None,
) -> dict[str, Any]:
    """``build_dir``: run the functions from ``sam build`` output; ``max_workers``: at most
    this many worker processes per function (default: each mapping's MaximumConcurrency)."""
    started = time.perf_counter()
    deadline = started + budget_seconds
    parameters = {"HostRequestsPerSecond": HOST_RATE}
    stack = LocalStack.start(template_path, parameters=parameters)
    setup_s = time.perf_counter() - started
    results: dict[str, Any] = {
        "sizes": list(sizes),
        "budget_seconds": budget_seconds,
        "parameters": parameters,
        "from_build": build_dir is not None,
        "max_workers": max_workers,
        "skipped": [],
        "stack_start_s": round(setup_s, 1),
        "runs": [],
    }
    with stack, contextlib.ExitStack() as sites_open:
        sites = [
            sites_open.enter_context(LoopbackSite(f"127.0.0.{n}")) for n in range(1, HOSTS + 1)
        ]
        results["hosts"] = HOSTS
        target = local_target(
            stack, overrides={"NEWSFLOW_ALLOW_LOOPBACK": "true"}, build_dir=build_dir
        )
        target.max_workers = max_workers
        poller = target.poller()
        poller.start()
        sqs = target.client("sqs")
        queue_url = target.output("IngestQueueUrl")
        offset = 0

        def urls(count: int) -> list[str]:
            nonlocal offset
            pages = make_pages(count, seed=23, start=offset)
            offset += count
            return [
                sites[index % HOSTS].add(page.path, page.html)
                for index, page in enumerate(pages, start=offset - count)
            ]

        warm_started = time.perf_counter()
        intake.push(sqs, queue_url, urls(WARM_UP_URLS))
        poller.wait_until_drained(timeout=budget_seconds)
        results["warm_up_s"] = round(time.perf_counter() - warm_started, 1)
        seconds_per_url = (time.perf_counter() - warm_started) / WARM_UP_URLS
        for size in sizes:
            left = deadline - time.perf_counter()
            if size * seconds_per_url > left:
                results["skipped"].append(
                    {
                        "urls": size,
                        "estimated_s": round(size * seconds_per_url),
                        "left_s": round(left),
                    }
                )
                continue
            lines = urls(size)
            tally = _Tally()
            poller.on_batch = tally
            cpu_before = cpu_by_process(stack, poller)
            began = time.perf_counter()
            checked = intake.push(sqs, queue_url, lines)
            pushed = time.perf_counter()
            drain = poller.wait_until_drained(timeout=max(left, 1.0))
            finished = time.perf_counter()
            poller.on_batch = None
            cpu_after = cpu_by_process(stack, poller)
            records, _ = demo.account(target, checked)
            statuses = Counter(record.status for record in records)
            seconds = finished - began
            run_result = {
                "urls": size,
                "drained": drain.drained,
                "seconds": round(seconds, 2),
                "push_seconds": round(pushed - began, 2),
                "articles_per_s": round(statuses.get("ENRICHED", 0) / seconds, 2),
                "statuses": dict(statuses),
                "functions": tally.per_record(),
                # containers started so far (the pool keeps them from size to size)
                "workers": dict(
                    Counter(container.spec.logical_id for container in poller.pool.containers())
                ),
                "cpu_seconds": {
                    name: round(cpu_after[name] - cpu_before.get(name, 0.0), 1)
                    for name in sorted(cpu_after)
                },
                "peak_rss_mb": peak_memory_by_process(stack, poller),
            }
            results["runs"].append(run_result)
            if progress is not None:
                progress(
                    f"throughput: {size} URLs in {seconds:.1f} s "
                    f"({run_result['articles_per_s']} articles/s)"
                )
            seconds_per_url = seconds / size
            if not drain.drained:
                results["stopped"] = f"{size} URLs did not drain within the budget"
                break
        poller.close()
    return results
