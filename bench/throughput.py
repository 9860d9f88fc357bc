"""7. Local stack throughput: articles per second end to end, from 100 to 1,000 URLs.

The embedded local stack (moto server on 127.0.0.1 with ``template.yaml`` deployed in it, the
poller playing the SQS event source mappings, both handlers run in-process) and a loopback site
serving generated English articles. Per size: the URLs are pushed to IngestQueue as
``newsflow push`` does, the poller runs until both queues are empty, and every URL is accounted
for (ENRICHED, FAILED or dead-lettered) as ``newsflow demo`` does. Timed: push + drain.

Everything shares the benchmark's process and this machine's cores - the handlers, moto's
server and the page site - so this is a single-worker figure for the local stack, not a
prediction for Lambda, where each function scales out (``MaximumConcurrency`` 10 and 5) and AWS
does the queue and storage work.

Bounded: the section has a time budget. Before each size the time it needs is estimated from
the rate of the size before; a size that would not fit in what is left of the budget is skipped
(and said so), and a size that does not drain in time is reported with what had drained.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.samples import make_pages
from bench.site import LoopbackSite
from newsflow_cli import demo, intake
from newsflow_cli.local_stack import LocalStack
from newsflow_cli.poller import BatchOutcome
from newsflow_cli.targets import local_target

WARM_UP_URLS = 10


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
) -> dict[str, Any]:
    started = time.perf_counter()
    deadline = started + budget_seconds
    stack = LocalStack.start(template_path)
    setup_s = time.perf_counter() - started
    results: dict[str, Any] = {
        "sizes": list(sizes),
        "budget_seconds": budget_seconds,
        "skipped": [],
        "stack_start_s": round(setup_s, 1),
        "runs": [],
    }
    with stack, LoopbackSite() as site:
        target = local_target(stack, overrides={"NEWSFLOW_ALLOW_LOOPBACK": "true"})
        poller = target.poller()
        sqs = target.client("sqs")
        queue_url = target.output("IngestQueueUrl")
        offset = 0

        def urls(count: int) -> list[str]:
            nonlocal offset
            pages = make_pages(count, seed=23, start=offset)
            offset += count
            return [site.add(page.path, page.html) for page in pages]

        warm_started = time.perf_counter()
        intake.push(sqs, queue_url, urls(WARM_UP_URLS))
        poller.run_until_drained(timeout=budget_seconds)
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
            began = time.perf_counter()
            checked = intake.push(sqs, queue_url, lines)
            pushed = time.perf_counter()
            drain = poller.run_until_drained(timeout=max(left, 1.0))
            finished = time.perf_counter()
            poller.on_batch = None
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
    return results
