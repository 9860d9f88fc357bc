"""Soak: N URLs through the local stack, and an account of every one of them.

The local stack is newsflow_cli's: moto's server on 127.0.0.1 with template.yaml created in it,
the functions' handlers in in-process Lambda containers, and the poller playing the SQS event
source mappings (visibility timeout 1 s, the template's maxReceiveCount, real DLQs). A page
server on 127.0.0.1 serves a few hundred generated article pages; each of the N input lines is a
distinct URL of one of them (``?item=k``), except a share of lines that must fail: pages that
are gone (404), a PDF, private addresses, lines that are not URLs, and pages that are always
unavailable (503, so they end in the DLQ). A share of lines re-spell an earlier URL.

The producer keeps at most ``--backlog`` messages waiting (moto's SQS slows as a queue grows);
the script then waits until every queue is empty and checks the invariant:

    N lines = ENRICHED + FAILED + DEAD_LETTER   (nothing stuck, nothing lost)

and that each line ended the way its kind must (an article ENRICHED, a 404 FAILED http_error, an
unavailable page DEAD_LETTER...). It reports throughput (articles enriched per second of wall
time, end to end), the functions' time per record, and resident memory (peak, and sampled as
the run goes: the moto server lives in this process, so its stored objects are part of it).

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
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsflow.models import ArticleRecord
from newsflow.storage import ArticleQueries
from newsflow_cli import dead_letters, intake
from newsflow_cli.local_stack import LocalStack
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import BatchOutcome
from newsflow_cli.targets import local_target

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "template.yaml"
DEFAULT_RESULTS = ROOT / "bench-results"
DEAD_LETTER = "DEAD_LETTER"

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


def input_lines(count: int, pages: int, server: PageServer, seed: int) -> list[Line]:
    """``count`` lines: every kind of MIX in its share (at least one of each from 50 lines on),
    article URLs for the rest, shuffled."""
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible test data, not security
    least = 1 if count >= 50 else 0
    sizes = {kind: max(least, int(count * share)) for kind, share in MIX.items()}
    articles = count - sum(sizes.values())
    lines = [Line(server.url(f"/a/{k % pages}.html?item={k}"), "article") for k in range(articles)]
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


def rss_mb() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return 0.0


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


@dataclass
class FunctionStats:
    invocations: int = 0
    records: int = 0
    failed_records: int = 0
    errors: int = 0
    busy_seconds: float = 0.0

    def add(self, outcome: BatchOutcome) -> None:
        self.invocations += 1
        self.records += outcome.received
        self.failed_records += outcome.failed
        self.errors += 0 if outcome.invocation.ok else 1
        self.busy_seconds += outcome.invocation.duration_ms / 1000


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
    peak_rss_mb: float
    rss_samples_mb: list[tuple[int, float, float]]  # (lines pushed, seconds since start, RSS)
    stored: dict[str, int]  # what moto holds at the end (it lives in this process's RSS)
    # --trace-memory: MB still allocated at the end minus after the first enrich batch
    growth_mb_by_package: dict[str, float] = field(default_factory=dict)
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
    """(line, status, failure reason) per line, and how many distinct articles are ENRICHED."""
    sqs = target.client("sqs")
    table = ArticleQueries(target.output("ArticlesTableName"), target.client("dynamodb"))
    articles: dict[str, ArticleRecord] = {record.article_id: record for record in table.records()}
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
    results: list[tuple[Line, str, str | None]] = []
    for line, item in zip(lines, checked, strict=True):
        if not item.accepted:
            results.append((line, "FAILED", item.reason))
            continue
        record = articles.get(item.article_id or "")
        if item.message_id in dead_message_ids or item.article_id in dead_article_ids:
            results.append((line, DEAD_LETTER, None))
        elif record is not None and record.status.value in ("ENRICHED", "FAILED"):
            reason = record.failure.reason.value if record.failure else None
            results.append((line, record.status.value, reason))
        else:
            results.append((line, f"STUCK:{record.status.value if record else 'no item'}", None))
    enriched = sum(1 for record in articles.values() if record.status.value == "ENRICHED")
    return results, enriched


def _package_of(filename: str) -> str | None:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    for name in ("newsflow_cli", "newsflow", "functions"):
        if f"/{name}/" in filename:
            return name
    return None


def _by_package(snapshot: tracemalloc.Snapshot, top: int = 8) -> dict[str, float]:
    """MB by the nearest package on the allocating stack (not the stdlib function that did the
    allocating for it)."""
    sizes: Counter[str] = Counter()
    for stat in snapshot.statistics("traceback"):
        packages = (_package_of(frame.filename) for frame in reversed(stat.traceback))
        sizes[next((p for p in packages if p), "python")] += stat.size
    return {name: round(size / 2**20, 1) for name, size in sizes.most_common(top)}


class MemoryTracer:
    """What the run keeps allocating once both functions are warm: a snapshot after the first
    enrich batch (the model is loaded by then), another at the end, the growth by package."""

    def __init__(self) -> None:
        self.warm: dict[str, float] | None = None
        self.growth: dict[str, float] = {}

    def start(self) -> None:
        tracemalloc.start(8)

    def on_batch(self, outcome: BatchOutcome) -> None:
        if self.warm is None and outcome.function == "EnrichFunction":
            self.warm = _by_package(tracemalloc.take_snapshot(), top=50)

    def finish(self) -> None:
        end = _by_package(tracemalloc.take_snapshot(), top=50)
        tracemalloc.stop()
        warm = self.warm or {}
        growth = {name: round(mb - warm.get(name, 0.0), 1) for name, mb in end.items()}
        ranked = sorted(growth.items(), key=lambda item: -item[1])[:8]
        self.growth = dict(ranked)


def _stored(target: Any) -> dict[str, int]:
    s3 = target.client("s3")
    objects = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=target.output("ArticlesBucketName")
    ):
        for item in page.get("Contents", []):
            objects += 1
            size += int(item["Size"])
    dynamodb = target.client("dynamodb")
    items = 0
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=target.output("ArticlesTableName"), Select="COUNT"
    ):
        items += int(page["Count"])
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
    trace_memory: bool = False,
) -> SoakReport:
    """Start a local stack and a page server, push ``urls`` lines, drain, account.

    ``trace_memory`` attributes the Python memory the run keeps allocating once both functions
    are warm to the package that allocated it (moto's stored state versus the pipeline's own);
    it slows the run several times over.
    """
    pages = max(1, min(pages, urls))
    begun = time.monotonic()
    with contextlib.ExitStack() as resources:
        site = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="soak-site-")))
        write_site(site, pages, seed)
        server = resources.enter_context(PageServer(root=site))
        server.unavailable.clear()
        stack = resources.enter_context(LocalStack.start(template))
        target = local_target(stack, {"NEWSFLOW_ALLOW_LOOPBACK": "true"})
        stats: dict[str, FunctionStats] = {}
        tracer = MemoryTracer() if trace_memory else None

        def on_batch(outcome: BatchOutcome) -> None:
            stats.setdefault(outcome.function, FunctionStats()).add(outcome)
            if tracer is not None:
                tracer.on_batch(outcome)

        poller = target.poller(on_batch=on_batch)
        sqs = target.client("sqs")
        queue_url = target.output("IngestQueueUrl")
        lines = input_lines(urls, pages, server, seed)
        checked: list[intake.IntakeLine] = []
        samples: list[tuple[int, float, float]] = []
        next_sample = max(1, urls // 20)
        if tracer is not None:  # from here: what the run adds, not the stack's creation
            tracer.start()
        started = time.monotonic()
        startup = started - begun
        samples.append((0, 0.0, rss_mb()))
        drained = False
        while time.monotonic() - started < max_seconds:
            pending = poller.pending()
            if len(checked) < len(lines) and pending < backlog:
                chunk = lines[len(checked) : len(checked) + 100]
                checked += intake.push(sqs, queue_url, [line.text for line in chunk])
                if len(checked) >= next_sample or len(checked) == len(lines):
                    samples.append((len(checked), time.monotonic() - started, rss_mb()))
                    next_sample += max(1, urls // 20)
                    if progress:
                        progress(f"pushed {len(checked)}/{len(lines)}, backlog {pending}")
                continue
            handled = poller.poll_once()
            if not handled and len(checked) == len(lines) and poller.pending() == 0:
                drained = True
                break
            if not handled:
                time.sleep(0.05)  # only failed records left, waiting for their visibility
        seconds = time.monotonic() - started
        samples.append((len(checked), seconds, rss_mb()))
        results, enriched = _account(target, lines[: len(checked)], checked)
        stored = _stored(target)
        if tracer is not None:
            tracer.finish()
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
        peak_rss_mb=round(peak_rss_mb(), 1),
        rss_samples_mb=[(n, round(t, 1), round(mb, 1)) for n, t, mb in samples],
        stored=stored,
        growth_mb_by_package=tracer.growth if tracer is not None else {},
        environment={
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "backlog": backlog,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )


# --------------------------------------------------------------------------- command line


def summary(report: SoakReport) -> Iterator[str]:
    yield (
        f"{report.urls} lines from {report.pages} pages in {report.seconds:.1f} s"
        f" ({'drained' if report.drained else 'NOT drained'};"
        f" stack start {report.startup_seconds:.1f} s before that)"
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
            f"{name}: {stats.invocations} invocations, {stats.records} records"
            f" ({stats.failed_records} failed), {per_record:.1f} ms per record"
        )
    yield f"memory: peak RSS {report.peak_rss_mb} MB"
    yield f"  samples (lines pushed, s, RSS MB): {report.rss_samples_mb}"
    if report.growth_mb_by_package:
        yield f"  growth once warm, MB by package: {report.growth_mb_by_package}"
    yield (
        f"stored in moto (part of that RSS): {report.stored['s3_objects']} S3 objects,"
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
        "--trace-memory", action="store_true", help="attribute memory by package (slower)"
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
        trace_memory=args.trace_memory,
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
