"""Soak: N URLs through the local stack, and an account of every one of them.

The local stack is newsflow_cli's: moto's server in a process of its own on 127.0.0.1 with
template.yaml created in it, each function's batches run in worker processes (up to the event
source mapping's MaximumConcurrency, ``--max-workers`` caps it), the poller playing the SQS
event source mappings (batch size and batching window, visibility timeout 1 s for retries, the
template's maxReceiveCount, real DLQs). ``--from-build`` runs the functions from the sam build
output. Page servers on 127.0.0.1, 127.0.0.2, ... (``--hosts``, 8) serve a few hundred
generated article pages; each of the N input lines is a distinct URL of one of them
(``?item=k``), except a share of lines that must fail: pages that are gone (404), a PDF,
private addresses, lines that are not URLs, and pages that are always unavailable (503, so they
end in the DLQ). A share of lines re-spell an earlier URL. The fetch function paces each host
across all its containers (``HostRequestsPerSecond``, raised here to the template's maximum):
several hosts keep that pace, not the stack, from setting the rate, as publishers do in a crawl.

The producer keeps at most ``--backlog`` messages waiting (moto's SQS slows as a queue grows);
the script then waits until every queue is empty and checks the invariant:

    N lines = ENRICHED + FAILED + DEAD_LETTER   (nothing stuck, nothing lost)

and that each line ended the way its kind must (an article ENRICHED, a 404 FAILED http_error, an
unavailable page DEAD_LETTER...). Every line is accounted for by key (one GetItem per article
the run pushed), never by scanning moto's table, which holds hundreds of thousands of items
after a large run. It reports throughput (articles enriched per second of wall time, end to
end), the functions' time per record, and per process (moto's server, each worker, this driver)
CPU seconds and peak resident memory.

    python infra/scripts/soak.py --urls 10000 --pages 300      # what `make soak` runs
    python infra/scripts/soak.py --urls 300 --pages 30 --out -  # a quick one, JSON on stdout

Exit status 0 when the invariant and every expectation hold, 1 otherwise. Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsflow.storage import ArticleQueries
from newsflow_cli import dead_letters, intake
from newsflow_cli.local_stack import LocalStack
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import BatchOutcome, Poller
from newsflow_cli.process_stats import process_stats
from newsflow_cli.targets import local_target

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "template.yaml"
DEFAULT_RESULTS = ROOT / "bench-results"
DEFAULT_BUILD = ROOT / ".aws-sam" / "build"
DEAD_LETTER = "DEAD_LETTER"
HOST_RATE = "100"  # the template's maximum HostRequestsPerSecond
HOSTS = 8  # page servers on 127.0.0.1, 127.0.0.2, ...: each a host of its own to the gate
SAMPLE_EVERY_SECONDS = 15.0

# Share of the N lines per kind; the rest are article URLs.
MIX = {
    "missing": 0.04,  # 404 -> FAILED http_error
    "pdf": 0.02,  # application/pdf -> FAILED not_html
    "blocked": 0.02,  # a private address -> FAILED blocked_url (no connection made)
    "not_a_url": 0.02,  # refused at intake -> FAILED intake, never queued
    "respelled": 0.02,  # an article URL spelled differently -> the same ENRICHED article
    "unavailable": 0.01,  # 503 forever -> DEAD_LETTER after maxReceiveCount receives
}
EXPECTED = {
    "article": ("ENRICHED", None),
    "respelled": ("ENRICHED", None),
    "missing": ("FAILED", "http_error"),
    "pdf": ("FAILED", "not_html"),
    "blocked": ("FAILED", "blocked_url"),
    "not_a_url": ("FAILED", "invalid_url"),
    "unavailable": (DEAD_LETTER, None),
}

# --------------------------------------------------------------------------- pages

PEOPLE = [
    "Helen Carter", "Rafael Ortiz", "Amara Okafor", "Lukas Brandt", "Mei Lin", "Tom Whitaker",
    "Sofia Rossi", "Daniel Kim", "Ingrid Halvorsen", "Omar Haddad", "Claire Dubois",
    "Priya Nair", "Jonas Weber", "Grace Mensah", "Ethan Brooks", "Yuki Tanaka",
]  # fmt: skip
ORGANISATIONS = [
    "the Harbour Authority", "Atlantic Structures", "the Green Coast Alliance",
    "Northwind Energy", "the Environment Agency", "Meridian Bank", "the City Council",
    "Solent Ferries", "the University of Portsmouth", "Blue Estuary Trust",
]  # fmt: skip
PLACES = [
    "Portsmouth", "Southampton", "Bristol", "Plymouth", "Brighton", "Cardiff", "Hamburg",
    "Rotterdam", "Lisbon", "Dublin", "Glasgow", "Norwich",
]  # fmt: skip
SENTENCES = [
    "{person} said on Tuesday that {org} would invest in a new project in {place}.",
    "Residents of {place} welcomed the plan, although {org} warned about rising costs.",
    "According to {person}, the decision was a great success for the people of {place}.",
    "Critics from {org} called the proposal a terrible mistake that could harm the coast.",
    "{person} met representatives of {org} in {place} to discuss the budget for next year.",
    "The report by {org} found that traffic in {place} had doubled over the past decade.",
    "{person} added that public meetings would be held in {place} before work begins.",
    "Engineers working for {org} expect the first stage to be finished by the spring.",
]


def article_html(index: int, rng: random.Random) -> str:
    person, place = rng.choice(PEOPLE), rng.choice(PLACES)
    title = f"{person} backs new plan for {place} ({index})"
    paragraphs = []
    for _ in range(rng.randint(5, 9)):
        sentences = [
            rng.choice(SENTENCES).format(
                person=rng.choice(PEOPLE), org=rng.choice(ORGANISATIONS), place=rng.choice(PLACES)
            )
            for _ in range(3)
        ]
        paragraphs.append(f"<p>{' '.join(sentences)}</p>")
    day = 1 + index % 28
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} | Harbour Gazette</title>"
        f'<meta property="og:title" content="{title}">'
        f'<meta name="author" content="{person}">'
        f'<meta property="article:published_time" content="2026-10-{day:02d}T08:30:00Z">'
        "</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1><p class='byline'>By {person}</p>"
        f"{''.join(paragraphs)}</article>"
        "<footer>Copyright Harbour Gazette. Privacy policy. Contact us.</footer></body></html>"
    )


def write_site(root: Path, pages: int, seed: int) -> None:
    """``/a/<i>.html`` for i < pages, and one PDF."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    (root / "a").mkdir(parents=True, exist_ok=True)
    for index in range(pages):
        (root / "a" / f"{index}.html").write_text(article_html(index, rng), encoding="utf-8")
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "report.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\n")


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class Line:
    text: str
    kind: str


def input_lines(
    count: int, pages: int, servers: PageServer | list[PageServer], seed: int
) -> list[Line]:
    """``count`` lines: every kind of MIX in its share (at least one of each from 50 lines on),
    article URLs for the rest (spread over ``servers``, each a host of its own), shuffled."""
    hosts = servers if isinstance(servers, list) else [servers]
    server = hosts[0]
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible test data, not security
    least = 1 if count >= 50 else 0
    sizes = {kind: max(least, int(count * share)) for kind, share in MIX.items()}
    articles = count - sum(sizes.values())
    lines = [
        Line(hosts[k % len(hosts)].url(f"/a/{k % pages}.html?item={k}"), "article")
        for k in range(articles)
    ]
    for k in range(sizes["respelled"]):
        original = lines[rng.randrange(articles)].text
        respelled = original.replace("http://", "HTTP://") + f"&utm_source=soak{k}#top"
        lines.append(Line(respelled, "respelled"))
    lines += [Line(server.url(f"/gone/{k}.html"), "missing") for k in range(sizes["missing"])]
    lines += [Line(server.url(f"/docs/report.pdf?copy={k}"), "pdf") for k in range(sizes["pdf"])]
    lines += [
        Line(f"http://10.{k // 250 % 250}.{k % 250}.7/story", "blocked")
        for k in range(sizes["blocked"])
    ]
    lines += [Line(f"not a url {k}", "not_a_url") for k in range(sizes["not_a_url"])]
    for k in range(sizes["unavailable"]):
        path = f"/down/{k}.html"
        server.unavailable.add(path)
        lines.append(Line(server.url(path), "unavailable"))
    rng.shuffle(lines)
    return lines


# --------------------------------------------------------------------------- running


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


@dataclass
class FunctionStats:
    invocations: int = 0
    records: int = 0
    failed_records: int = 0
    errors: int = 0
    cold_starts: int = 0
    busy_seconds: float = 0.0

    def add(self, outcome: BatchOutcome) -> None:
        self.invocations += 1
        self.records += outcome.received
        self.failed_records += outcome.failed
        self.errors += 0 if outcome.invocation.ok else 1
        self.cold_starts += 1 if outcome.invocation.cold_start else 0
        self.busy_seconds += outcome.invocation.duration_ms / 1000


@dataclass
class ProcessFigures:
    """One process of the stack: what it is, its CPU seconds and its peak resident memory."""

    role: str  # "moto", "driver", or the function a worker runs
    pid: int
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0


class ProcessWatch:
    """Samples moto's server and every worker (they come and go) and keeps each one's figures;
    a sample also records the resident memory of the whole stack at that moment."""

    def __init__(self, stack: LocalStack, poller: Poller) -> None:
        self.stack = stack
        self.poller = poller
        self.figures: dict[int, ProcessFigures] = {}
        self.samples: list[tuple[int, float, float]] = []  # (lines pushed, s, stack RSS MB)

    def _pids(self) -> list[tuple[str, int]]:
        pids = list(self.stack.moto_pids.items())
        for container in self.poller.pool.containers():
            pid = container.pid
            if pid is not None:
                pids.append((container.spec.logical_id, pid))
        return pids

    def sample(self, pushed: int, seconds: float) -> None:
        total = 0.0
        for role, pid in self._pids():
            stats = process_stats(pid)
            if stats is None:
                continue
            figures = self.figures.setdefault(pid, ProcessFigures(role=role, pid=pid))
            figures.cpu_seconds = stats.cpu_seconds
            figures.peak_rss_mb = max(figures.peak_rss_mb, stats.peak_rss_mb)
            total += stats.rss_mb
        driver = process_stats(os.getpid())
        if driver is not None:
            total += driver.rss_mb
        self.samples.append((pushed, round(seconds, 1), round(total, 1)))

    def finish(self) -> list[ProcessFigures]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        driver = ProcessFigures(
            role="driver",
            pid=os.getpid(),
            cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2),
            peak_rss_mb=round(peak_rss_mb(), 1),
        )
        return [*sorted(self.figures.values(), key=lambda f: (f.role, f.pid)), driver]


@dataclass
class SoakReport:
    urls: int
    pages: int
    seed: int
    drained: bool
    startup_seconds: float  # local stack + page server, before the first push
    seconds: float  # first push to empty queues
    outcomes: dict[str, int]
    invariant_holds: bool
    unexpected: dict[str, int]  # kind -> lines that did not end as that kind must
    examples: list[dict[str, str]]  # a few unexpected or stuck lines, for a person to read
    distinct_articles_enriched: int
    articles_per_second: float
    lines_per_second: float
    functions: dict[str, FunctionStats]
    processes: list[ProcessFigures]  # moto's server, each worker, the driver
    rss_samples_mb: list[tuple[int, float, float]]  # (lines pushed, s since start, stack RSS)
    stored: dict[str, int]  # what moto holds at the end
    account_seconds: float = 0.0  # reading every line's outcome back, after the drain
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.drained and self.invariant_holds and not self.unexpected

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def _all_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message of a queue, hidden for ten minutes (the stack is discarded after)."""
    found: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=600
        ).get("Messages", [])
        if not batch:
            return list(found.values())
        found.update({message["MessageId"]: message for message in batch})


def _account(
    target: Any, lines: list[Line], checked: list[intake.IntakeLine]
) -> tuple[list[tuple[Line, str, str | None]], int]:
    """(line, status, failure reason) per line, and how many distinct articles are ENRICHED.

    By key: one GetItem per article the run pushed (a scan of moto's table at this size takes
    longer than the run itself), and the dead-letter queues read whole (they are small).
    """
    sqs = target.client("sqs")
    table = ArticleQueries(target.output("ArticlesTableName"), target.client("dynamodb"))
    dead_message_ids: set[str] = set()
    dead_article_ids: set[str] = set()
    for queue in dead_letters.dead_letter_queues(sqs, target.description):
        for message in _all_messages(sqs, queue.dlq_url):
            dead_message_ids.add(message["MessageId"])
            # An enrich message names its article; an ingest message re-sent by the fetch stage
            # (a deferral) carries its URL and is not the message intake pushed.
            article_id = dead_letters.article_id_of(message["Body"])
            if article_id is not None:
                dead_article_ids.add(article_id)
    statuses: dict[str, tuple[str, str | None] | None] = {}
    results: list[tuple[Line, str, str | None]] = []
    for line, item in zip(lines, checked, strict=True):
        if not item.accepted or item.article_id is None:
            results.append((line, "FAILED", item.reason))
            continue
        if item.article_id not in statuses:
            record = table.record(item.article_id)
            statuses[item.article_id] = (
                (record.status.value, record.failure.reason.value if record.failure else None)
                if record is not None
                else None
            )
        found = statuses[item.article_id]
        if item.message_id in dead_message_ids or item.article_id in dead_article_ids:
            results.append((line, DEAD_LETTER, None))
        elif found is not None and found[0] in ("ENRICHED", "FAILED"):
            results.append((line, found[0], found[1]))
        else:
            results.append((line, f"STUCK:{found[0] if found else 'no item'}", None))
    enriched = sum(1 for found in statuses.values() if found and found[0] == "ENRICHED")
    return results, enriched


def _stored(target: Any) -> dict[str, int]:
    """What moto holds at the end: S3 objects listed, the table's item count as DynamoDB
    describes it (no scan)."""
    s3 = target.client("s3")
    objects = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=target.output("ArticlesBucketName")
    ):
        for item in page.get("Contents", []):
            objects += 1
            size += int(item["Size"])
    table = target.client("dynamodb").describe_table(TableName=target.output("ArticlesTableName"))
    items = int(table["Table"].get("ItemCount", 0))
    return {"s3_objects": objects, "s3_bytes": size, "dynamodb_items": items}


def run_soak(
    urls: int,
    pages: int,
    *,
    seed: int = 7,
    backlog: int = 300,
    max_seconds: float = 3600.0,
    template: Path = DEFAULT_TEMPLATE,
    progress: Any = None,
    build_dir: Path | None = None,
    max_workers: int | None = None,
    hosts: int = HOSTS,
) -> SoakReport:
    """Start a local stack and page servers, push ``urls`` lines, drain, account.

    ``build_dir``: run the functions from the ``sam build`` output there; ``max_workers``: at
    most this many worker processes per function; ``hosts``: page servers the article URLs are
    spread over.
    """
    pages = max(1, min(pages, urls))
    begun = time.monotonic()
    with contextlib.ExitStack() as resources:
        site = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="soak-site-")))
        write_site(site, pages, seed)
        servers = [
            resources.enter_context(PageServer(root=site, host=f"127.0.0.{n}"))
            for n in range(1, max(1, hosts) + 1)
        ]
        for server in servers:
            server.unavailable.clear()
        stack = resources.enter_context(
            LocalStack.start(template, parameters={"HostRequestsPerSecond": HOST_RATE})
        )
        target = local_target(stack, {"NEWSFLOW_ALLOW_LOOPBACK": "true"}, build_dir=build_dir)
        target.max_workers = max_workers
        stats: dict[str, FunctionStats] = {}

        def on_batch(outcome: BatchOutcome) -> None:
            stats.setdefault(outcome.function, FunctionStats()).add(outcome)

        poller = target.poller(on_batch=on_batch)
        resources.callback(poller.close)
        watch = ProcessWatch(stack, poller)
        sqs = target.client("sqs")
        queue_url = target.output("IngestQueueUrl")
        lines = input_lines(urls, pages, servers, seed)
        checked: list[intake.IntakeLine] = []
        next_report = max(1, urls // 20)
        started = time.monotonic()
        startup = started - begun
        watch.sample(0, 0.0)
        next_sample = started + SAMPLE_EVERY_SECONDS
        poller.start()
        while len(checked) < len(lines) and time.monotonic() - started < max_seconds:
            if time.monotonic() >= next_sample:
                watch.sample(len(checked), time.monotonic() - started)
                next_sample += SAMPLE_EVERY_SECONDS
            pending = poller.pending()
            if pending >= backlog:
                time.sleep(0.2)
                continue
            chunk = lines[len(checked) : len(checked) + 100]
            checked += intake.push(sqs, queue_url, [line.text for line in chunk])
            if len(checked) >= next_report or len(checked) == len(lines):
                next_report += max(1, urls // 20)
                if progress:
                    progress(
                        f"pushed {len(checked)}/{len(lines)}, backlog {pending},"
                        f" {time.monotonic() - started:.0f} s"
                    )
        drained = False
        while time.monotonic() - started < max_seconds:
            left = min(SAMPLE_EVERY_SECONDS, max_seconds - (time.monotonic() - started))
            if poller.wait_until_drained(timeout=max(left, 0.1)).drained:
                drained = True
                break
            watch.sample(len(checked), time.monotonic() - started)
            if progress:
                progress(f"draining: {poller.pending()} messages left")
        seconds = time.monotonic() - started
        watch.sample(len(checked), seconds)
        poller.stop()
        if progress:
            progress(f"drained={drained} after {seconds:.0f} s; accounting by key")
        accounting = time.monotonic()
        results, enriched = _account(target, lines[: len(checked)], checked)
        stored = _stored(target)
        account_seconds = time.monotonic() - accounting
        processes = watch.finish()
    outcomes = Counter(status for _, status, _ in results)
    unexpected: Counter[str] = Counter()
    examples: list[dict[str, str]] = []
    for line, status, reason in results:
        want_status, want_reason = EXPECTED[line.kind]
        if status != want_status or (want_reason is not None and reason != want_reason):
            unexpected[line.kind] += 1
            if len(examples) < 10:
                examples.append(
                    {"line": line.text, "kind": line.kind, "status": status, "reason": str(reason)}
                )
    known = {"ENRICHED", "FAILED", DEAD_LETTER}
    return SoakReport(
        urls=urls,
        pages=pages,
        seed=seed,
        drained=drained,
        startup_seconds=round(startup, 2),
        seconds=round(seconds, 2),
        outcomes=dict(outcomes),
        invariant_holds=len(results) == urls and sum(outcomes[s] for s in known) == urls,
        unexpected=dict(unexpected),
        examples=examples,
        distinct_articles_enriched=enriched,
        articles_per_second=round(enriched / seconds, 2) if seconds else 0.0,
        lines_per_second=round(urls / seconds, 2) if seconds else 0.0,
        functions=stats,
        processes=processes,
        rss_samples_mb=watch.samples,
        stored=stored,
        account_seconds=round(account_seconds, 1),
        environment={
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "backlog": backlog,
            "from_build": build_dir is not None,
            "max_workers": max_workers,
            "host_requests_per_second": HOST_RATE,
            "hosts": hosts,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )


# --------------------------------------------------------------------------- command line


def summary(report: SoakReport) -> Iterator[str]:
    yield (
        f"{report.urls} lines from {report.pages} pages in {report.seconds:.1f} s"
        f" ({'drained' if report.drained else 'NOT drained'};"
        f" stack start {report.startup_seconds:.1f} s before that,"
        f" accounting {report.account_seconds:.1f} s after)"
    )
    yield "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
    yield (
        f"invariant N = ENRICHED + FAILED + DEAD_LETTER: "
        f"{'holds' if report.invariant_holds else 'BROKEN'}"
    )
    if report.unexpected:
        yield f"lines that ended other than their kind must: {report.unexpected}"
        for example in report.examples:
            yield f"  {example}"
    yield (
        f"throughput: {report.articles_per_second} articles/s enriched"
        f" ({report.distinct_articles_enriched} distinct), {report.lines_per_second} lines/s"
    )
    for name, stats in report.functions.items():
        per_record = 1000 * stats.busy_seconds / stats.records if stats.records else 0.0
        yield (
            f"{name}: {stats.invocations} invocations ({stats.cold_starts} cold),"
            f" {stats.records} records ({stats.failed_records} failed),"
            f" {per_record:.1f} ms per record"
        )
    yield "processes (role, pid, CPU s, peak RSS MB):"
    for figures in report.processes:
        yield (
            f"  {figures.role:<16} {figures.pid:>8} {figures.cpu_seconds:>9.1f}"
            f" {figures.peak_rss_mb:>9.1f}"
        )
    yield f"  stack RSS samples (lines pushed, s, MB): {report.rss_samples_mb}"
    yield (
        f"stored in moto: {report.stored['s3_objects']} S3 objects,"
        f" {report.stored['s3_bytes'] / 2**20:.1f} MB; {report.stored['dynamodb_items']} items"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--urls", type=int, default=10_000, help="input lines (default 10000)")
    parser.add_argument("--pages", type=int, default=300, help="distinct pages (default 300)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backlog", type=int, default=300, help="max messages waiting")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="give up after")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument(
        "--from-build",
        action="store_true",
        help="run the functions from .aws-sam/build (python3.12, no site-packages)",
    )
    parser.add_argument(
        "--max-workers", type=int, default=None, help="worker processes per function at most"
    )
    parser.add_argument(
        "--hosts", type=int, default=HOSTS, help=f"page servers, one host each (default {HOSTS})"
    )
    parser.add_argument(
        "--out", default=None, help="JSON report path ('-' for stdout; default bench-results/)"
    )
    args = parser.parse_args(argv)
    if args.urls < 1 or args.pages < 1:
        parser.error("--urls and --pages must be at least 1")

    def progress(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    report = run_soak(
        args.urls,
        args.pages,
        seed=args.seed,
        backlog=args.backlog,
        max_seconds=args.max_seconds,
        template=args.template,
        progress=progress,
        build_dir=args.template.resolve().parent / ".aws-sam" / "build"
        if args.from_build
        else None,
        max_workers=args.max_workers,
        hosts=args.hosts,
    )
    payload = json.dumps(report.as_json(), indent=2)
    if args.out == "-":
        print(payload)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(args.out) if args.out else DEFAULT_RESULTS / f"soak-{args.urls}-{stamp}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(payload + "\n", encoding="utf-8")
        progress(f"report written to {out}")
    for text in summary(report):
        print(text, file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
