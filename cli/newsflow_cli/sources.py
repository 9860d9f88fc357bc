"""`newsflow sources add|list|remove|poll`, the local stack's schedule, and `demo --sources`.

Sources live in the stack's table (:class:`newsflow.sources.SourceTable`); a poll runs in
PollFunction. ``sources poll`` queues a source on SourcePollQueue now, outside the schedule:
the deployed function, or the poller of ``newsflow local up``, takes it from there.

moto never fires an EventBridge rule, so the local stack plays the schedule itself
(:class:`ScheduleTicker`): every function with a ``Schedule`` event in the template is invoked
with a scheduled event at the rate the template gives it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from newsflow.errors import PermanentError
from newsflow.sources import PollMessage, Source, SourceKind, SourceTable, source_id_for
from newsflow.urls import parse_url
from newsflow_cli import intake
from newsflow_cli.demo import DemoRecord, account
from newsflow_cli.poller import DrainReport, Poller
from newsflow_cli.targets import Target

_EVERY = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_RATE_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
DEFAULT_EVERY = "5m"


class SourceError(Exception):
    """A command's input is unusable: one line for the user."""


def parse_every(text: str) -> int:
    """``90``, ``90s``, ``5m``, ``1h``, ``1d`` -> seconds (at least one minute)."""
    match = _EVERY.match(text)
    if not match:
        raise SourceError(f"--every wants a number with s, m, h or d (e.g. 5m), got {text!r}")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds < 60:
        raise SourceError(f"--every must be at least 1m (got {text})")
    return seconds


def new_source(url: str, kind: SourceKind | None, every_seconds: int) -> Source:
    try:
        checked = parse_url(url.strip())
    except PermanentError as error:
        raise SourceError(f"{url}: {error.detail}") from error
    now = datetime.now(UTC)
    return Source(
        source_id=source_id_for(checked.canonical()),
        url=url.strip(),
        kind=kind,
        interval_seconds=every_seconds,
        created_at=now,
        next_poll_at=now,  # due at once: the first tick polls it
    )


def source_table(target: Target) -> SourceTable:
    return SourceTable(target.output("ArticlesTableName"), target.client("dynamodb"))


def queue_polls(target: Target, source_ids: list[str]) -> None:
    """Queue these sources for a poll now (outside the schedule)."""
    sqs = target.client("sqs")
    queue_url = target.output("SourcePollQueueUrl")
    for start in range(0, len(source_ids), 10):
        chunk = source_ids[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": PollMessage(source_id=s).model_dump_json()}
                for i, s in enumerate(chunk)
            ],
        )


def source_row(source: Source) -> dict[str, Any]:
    error = source.last_error
    return {
        "source_id": source.source_id,
        "url": source.url,
        "kind": source.kind.value if source.kind else None,
        "format": source.format,
        "every_seconds": source.interval_seconds,
        "next_poll_at": source.next_poll_at.isoformat(),
        "last_poll_at": source.last_poll_at.isoformat() if source.last_poll_at else None,
        "polls": source.polls,
        "not_modified": source.not_modified,
        "entries": source.entries,
        "pushed": source.pushed,
        "consecutive_failures": source.consecutive_failures,
        "last_error": f"{error.stage}/{error.reason}: {error.detail}" if error else None,
    }


# --------------------------------------------------------------------------- the commands


_Stack = Annotated[
    str | None,
    typer.Option(
        "--stack",
        envvar="NEWSFLOW_STACK",
        help="Deployed stack (default: the running local stack, as for every command).",
        show_default=False,
    ),
]
_Kind = Annotated[
    SourceKind | None,
    typer.Option(help="What it is (default: detected from the content on the first poll)."),
]


def register(
    app: typer.Typer,
    *,
    errors: Callable[[Callable[..., Any]], Callable[..., Any]],
    target_of: Callable[[str | None], Target],
) -> None:
    """Add the ``sources`` commands to ``app`` with the CLI's error handling and targets."""

    def resolve(stack: str | None) -> Target:
        return target_of(stack)

    def source_id_of(reference: str) -> str:
        return reference if reference.startswith("src-") else source_id_for(reference)

    @app.command("add")
    @errors
    def add(
        url: Annotated[str, typer.Argument(help="The feed or sitemap URL.")],
        kind: _Kind = None,
        every: Annotated[str, typer.Option(help="Poll interval: 90s, 5m, 1h, 1d.")] = DEFAULT_EVERY,
        stack: _Stack = None,
    ) -> None:
        """Register a feed or sitemap; the schedule polls it from the next tick on."""
        try:
            source = new_source(url, kind, parse_every(every))
        except SourceError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        if not source_table(resolve(stack)).add(source):
            typer.echo(f"{source.source_id} already registered ({url})")
            return
        typer.echo(f"{source.source_id} added: {url} every {source.interval_seconds} s")

    @app.command("list")
    @errors
    def list_sources(
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
        stack: _Stack = None,
    ) -> None:
        """List the sources with their health: last poll, failures, back-off, counts."""
        rows = [source_row(s) for s in source_table(resolve(stack)).all()]
        for row in rows:
            if as_json:
                typer.echo(json.dumps(row, ensure_ascii=False))
                continue
            state = row["last_error"] or f"ok, {row['pushed']} pushed"
            typer.echo(
                f"{row['source_id']}  {row['kind'] or '?':<13} every {row['every_seconds']:>6}s"
                f"  next {row['next_poll_at']}  {row['url']}  [{state}]"
            )
        if not rows and not as_json:
            typer.echo("no sources (add one with `newsflow sources add URL`)")

    @app.command("remove")
    @errors
    def remove(
        source_id: Annotated[str, typer.Argument(help="A source id (sources list) or its URL.")],
        stack: _Stack = None,
    ) -> None:
        """Stop polling a source (what it already pushed stays)."""
        wanted = source_id_of(source_id)
        if not source_table(resolve(stack)).remove(wanted):
            typer.echo(f"error: no source {source_id}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{wanted} removed")

    @app.command("poll")
    @errors
    def poll(
        source_id: Annotated[
            str | None, typer.Argument(help="One source id or URL (default: every source).")
        ] = None,
        stack: _Stack = None,
    ) -> None:
        """Queue a poll now, outside the schedule (PollFunction, or `local up`, runs it)."""
        target = resolve(stack)
        table = source_table(target)
        if source_id is None:
            ids = [s.source_id for s in table.all()]
        else:
            wanted = source_id_of(source_id)
            if table.get(wanted) is None:
                typer.echo(f"error: no source {source_id}", err=True)
                raise typer.Exit(1)
            ids = [wanted]
        queue_polls(target, ids)
        typer.echo(f"{len(ids)} source(s) queued for a poll")


# --------------------------------------------------------------------------- the schedule


def rate_seconds(expression: str) -> float | None:
    """Seconds between ticks of ``rate(N unit)``; ``None`` for a cron expression."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    unit = match.group(2).rstrip("s")
    return int(match.group(1)) * _RATE_SECONDS[unit]


def scheduled_event(rule: str, now: datetime) -> dict[str, Any]:
    """The event EventBridge sends a function on a schedule."""
    return {
        "version": "0",
        "id": f"local-{int(now.timestamp())}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{rule}"],
        "detail": {},
    }


def schedules_of(template: dict[str, Any], parameters: dict[str, str]) -> list[tuple[str, str]]:
    """(function logical id, schedule expression) of every ``Schedule`` event."""
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "Schedule":
                continue
            expression = event.get("Properties", {}).get("Schedule")
            if isinstance(expression, dict) and "Ref" in expression:
                name = expression["Ref"]
                default = template.get("Parameters", {}).get(name, {}).get("Default")
                expression = parameters.get(name, default)
            if isinstance(expression, str):
                found.append((logical_id, expression))
    return found


@dataclass
class ScheduleTicker:
    """Plays the template's schedules on the local stack (moto never fires a rule).

    ``tick()`` invokes each scheduled function whose period has passed (a cron expression is
    played once a minute); the first call fires every schedule at once.
    """

    poller: Poller
    schedules: list[tuple[str, str]]
    clock: Callable[[], float] = time.monotonic
    last: dict[str, float] = field(default_factory=dict)

    def tick(self) -> int:
        fired = 0
        now = self.clock()
        for function, expression in self.schedules:
            period = rate_seconds(expression) or 60.0
            if function in self.last and now - self.last[function] < period:
                continue
            self.last[function] = now
            self.poller.invoke(function, scheduled_event(f"{function}Tick", datetime.now(UTC)))
            fired += 1
        return fired


# --------------------------------------------------------------------------- demo --sources


@dataclass
class SourceDemo:
    """What `demo --sources` found: one record per FILE line, then one per article."""

    sources: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    drains: list[DrainReport]

    def records(self) -> list[dict[str, Any]]:
        return [*self.sources, *self.articles]

    @property
    def drained(self) -> bool:
        return all(d.drained for d in self.drains)


def _source_record(
    line: str, source: Source | None, first_pushed: int, error: str | None
) -> dict[str, Any]:
    failure = None
    if error is not None:
        failure = {"stage": "intake", "reason": error}
    elif source is None:
        failure = {"stage": "intake", "reason": "not_registered"}
    elif source.last_error is not None:
        failure = {"stage": source.last_error.stage, "reason": source.last_error.reason}
    return {
        "kind": "source",
        "url": line,
        "status": "FAILED" if failure else "OK",
        "failure": failure,
        "entries": source.entries if source else 0,
        "new_urls": first_pushed,
        "second_poll_new_urls": (source.pushed - first_pushed) if source else 0,
    }


def run_source_demo(
    target: Target, lines: list[str], *, poller: Poller, timeout: float
) -> SourceDemo:
    """Register every line as a source, poll all, drain, poll all again, drain, account."""
    table = source_table(target)
    registered: dict[str, str] = {}  # line -> source id
    refused: dict[str, str] = {}
    for line in lines:
        try:
            source = new_source(line, None, parse_every(DEFAULT_EVERY))
        except SourceError:
            refused[line] = "invalid_url"
            continue
        table.add(source)
        registered[line] = source.source_id
    ids = list(dict.fromkeys(registered.values()))
    drains = []
    queue_polls(target, ids)
    drains.append(poller.run_until_drained(timeout=timeout))
    first = {i: s.pushed for i in ids if (s := table.get(i)) is not None}
    queue_polls(target, ids)
    drains.append(poller.run_until_drained(timeout=timeout))
    sources = [
        _source_record(
            line,
            table.get(registered[line]) if line in registered else None,
            first.get(registered.get(line, ""), 0),
            refused.get(line),
        )
        for line in lines
    ]
    # Each distinct article URL, with the first FILE line whose source pushed it.
    now = datetime.now(UTC)
    origin: dict[str, tuple[str, str]] = {}  # article id -> (link, line)
    for line, source_id in registered.items():
        for seen in table.seen_entries(source_id, now):
            if seen.pushed and seen.article_id not in origin:
                origin[seen.article_id] = (seen.url, line)
    checked = [intake.check_line(link) for link, _ in origin.values()]
    records, _ = account(target, checked)
    articles = [
        {"kind": "article", "url": link, "source": line, **_article_fields(record)}
        for (link, line), record in zip(origin.values(), records, strict=True)
    ]
    return SourceDemo(sources=sources, articles=articles, drains=drains)


def _article_fields(record: DemoRecord) -> dict[str, Any]:
    fields = record.as_json()
    fields.pop("url")
    return fields


# --------------------------------------------------------------------------- what demo prints


def render_source_demo(echo: Callable[[str], None], demo: SourceDemo) -> None:
    for record in demo.sources:
        failure = record["failure"]
        state = (
            f"FAILED {failure['stage']}/{failure['reason']}"
            if failure
            else f"OK, {record['entries']} entries, {record['new_urls']} new, "
            f"{record['second_poll_new_urls']} new on the second poll"
        )
        echo(f"source {record['url']}: {state}")
    statuses: dict[str, int] = {}
    for article in demo.articles:
        statuses[article["status"]] = statuses.get(article["status"], 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    echo(f"{len(demo.articles)} distinct article URL(s) pushed by the sources: {summary or 'none'}")


def sample_feed_run(target: Target, feed_url: str, *, poller: Poller, timeout: float) -> str:
    """The default demo's last step: a sample feed brings an article in. One line to print."""
    demo = run_source_demo(target, [feed_url], poller=poller, timeout=timeout)
    record = demo.sources[0]
    if record["failure"]:
        return f"sample feed {feed_url}: FAILED {record['failure']}"
    brought = [a for a in demo.articles if a["status"] != "FAILED"]
    titles = "; ".join(str(a["title"]) for a in brought)
    return (
        f"sample feed {feed_url}: {record['entries']} entries, {record['new_urls']} pushed "
        f"(articles already stored are skipped by id), "
        f"{record['second_poll_new_urls']} new on the second poll (304 Not Modified); "
        f"{len(brought)} article(s) from the feed: {titles}"
    )
