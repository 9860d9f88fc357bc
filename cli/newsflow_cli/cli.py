"""The `newsflow` command line: run the pipeline locally, push URLs, read results back.

Data commands (push, get, list, entity, dlq, invoke) work against a deployed stack when one is
named (``--stack NAME`` or ``NEWSFLOW_STACK``), otherwise against the local stack that
``newsflow local up`` keeps running (it records itself in ``.newsflow/local.json``).
``demo`` starts its own local stack; ``parse`` and ``enrich`` need no stack at all.
Every expected failure ends with one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from newsflow.enrichment import BACKENDS
from newsflow.errors import PipelineError
from newsflow.models import ArticleStatus
from newsflow_cli import (
    dead_letters,
    duplicates,
    intake,
    invoke_events,
    sample_feeds,
    sources,
    views,
)
from newsflow_cli.demo import DEAD_LETTER, DemoResult, records_json, run_demo
from newsflow_cli.extras import missing_extra_message
from newsflow_cli.local_stack import LocalStack, LocalStackError
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import BatchOutcome
from newsflow_cli.sam_template import TemplateError, load_template
from newsflow_cli.targets import (
    STATE_DIR,
    Target,
    TargetError,
    local_target,
    remove_state,
    resolve_target,
    state_path,
    write_state,
)

if TYPE_CHECKING:
    from newsflow.storage import ArticleQueries

app = typer.Typer(
    name="newsflow",
    help="Fetch, parse and enrich article streams - locally or on a deployed stack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
local_app = typer.Typer(help="The embedded local stack (moto + the template + a queue poller).")
app.add_typer(local_app, name="local")
sources_app = typer.Typer(
    help="Feeds and sitemaps (RSS, Atom, JSON Feed, sitemaps) polled on a schedule."
)
app.add_typer(sources_app, name="sources")


def _package_version() -> str:
    try:
        return metadata.version("newsflow")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"newsflow {_package_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """Fetch, parse and enrich article streams - locally or on a deployed stack."""


StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack",
        envvar="NEWSFLOW_STACK",
        help="Deployed CloudFormation stack to use (default: the running local stack, else the"
        " stack_name of samconfig.toml in this folder).",
        show_default=False,
    ),
]
TemplateOption = Annotated[
    Path,
    typer.Option("--template", envvar="NEWSFLOW_TEMPLATE", help="The SAM template to deploy."),
]
ParameterOverridesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--parameter-overrides",
        help="Template parameters as for sam deploy: Key=Value (several in one quoted value,"
        " or repeat the option), e.g. HostRequestsPerSecond=5 EnrichBackend=auto.",
        show_default=False,
    ),
]
StateDirOption = Annotated[
    Path,
    typer.Option("--state-dir", help="Where the local stack records itself.", hidden=True),
]
FromBuildOption = Annotated[
    bool,
    typer.Option(
        "--from-build",
        help="Run the functions from `sam build` output (.aws-sam/build beside the template)"
        " with the runtime's python3.12, so a package missing from a build fails as on AWS.",
    ),
]
MaxWorkersOption = Annotated[
    int | None,
    typer.Option(
        "--max-workers",
        min=1,
        help="At most this many worker processes per function (default: the event source"
        " mapping's MaximumConcurrency).",
        show_default=False,
    ),
]


def _build_dir(template: Path, from_build: bool) -> Path | None:
    """``.aws-sam/build`` beside the template, when the functions run from the build."""
    return template.resolve().parent / ".aws-sam" / "build" if from_build else None


P = ParamSpec("P")
R = TypeVar("R")


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1."""


def fail(message: str) -> NoReturn:
    raise CliError(message)


def _describe_client_error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{exc.operation_name}: {error.get('Code', '')} {error.get('Message', '')}".strip()


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every expected exception into ``error: <one line>`` on stderr and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (CliError, TargetError, TemplateError, LocalStackError) as exc:
            message = str(exc)
        except PipelineError as exc:
            message = f"{exc.reason}: {exc.detail}"
        except ClientError as exc:
            message = f"AWS refused the request - {_describe_client_error(exc)}"
        except BotoCoreError as exc:
            message = f"cannot reach the stack: {exc}"
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            message = f"{exc.strerror or exc}{where}"
        except ModuleNotFoundError as exc:  # an extra (local, nlp) that is not installed
            message = missing_extra_message(exc) or ""
            if not message:
                raise
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)

    return wrapper


def _stdout() -> Console:
    # Bound to the stream of *now*: handlers running in-process swap sys.stdout for their logs.
    return Console(file=sys.stdout, soft_wrap=True)


def _existing_file(source: str) -> Path:
    path = Path(source)
    if path.is_dir():
        fail(f"{source} is a directory: give a file")
    if not path.is_file():
        fail(f"no such file: {source}")
    return path


def _read_text(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return _existing_file(source).read_text(encoding="utf-8", errors="replace")


def _read_bytes(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    return _existing_file(source).read_bytes()


def _one_of(choices: Sequence[str]) -> Callable[[str], str]:
    """An option parser that accepts one of ``choices`` (any case); others are usage errors."""

    def parse(value: str) -> str:
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")

    return parse


def _template_path(template: Path) -> Path:
    if not template.is_file():
        fail(f"template {template} not found: run from the project folder or pass --template")
    return template


def _target(stack: str | None, template: Path | None = None) -> Target:
    loaded = None
    if template is not None and template.is_file():  # a samconfig.toml stack needs it too
        loaded = load_template(template)
    return resolve_target(
        stack, template=loaded, base_dir=template.resolve().parent if template else None
    )


# A lambda, so the target is looked up when a command runs (the tests replace _target).
sources.register(sources_app, errors=one_line_errors, target_of=lambda stack: _target(stack))


# --------------------------------------------------------------------------- demo


def _batch_reporter(progress: Progress, functions: list[str]) -> Callable[[BatchOutcome], None]:
    tasks = {name: progress.add_task(name, total=None, detail="waiting") for name in functions}
    totals = {name: [0, 0, 0] for name in functions}  # batches, done, retried

    def report(outcome: BatchOutcome) -> None:
        total = totals.setdefault(outcome.function, [0, 0, 0])
        total[0] += 1
        total[1] += outcome.deleted
        total[2] += outcome.failed
        detail = f"{total[1]} done, {total[2]} to retry, {total[0]} batches"
        if outcome.function in tasks:
            progress.update(tasks[outcome.function], detail=detail)

    return report


def _short(url: str, base: str | None) -> str:
    if base and url.startswith(base):
        url = url[len(base) :] or "/"
    return views.clip(url, views.URL_WIDTH)


def _render_demo(
    console: Console, result: DemoResult, target: Target, base: str | None, seconds: float
) -> None:
    table = Table(title="newsflow demo - one row per input line", show_lines=False)
    for column in ("URL", "Status", "Title", "Lang", "Top entities", "Sentiment"):
        table.add_column(column, overflow="fold")
    styles = {"ENRICHED": "green", "FAILED": "yellow", DEAD_LETTER: "red"}
    for record in result.records:
        status = record.status
        if record.failure:
            status += f"\n{record.failure['stage']}/{record.failure['reason']}"
        entities = ", ".join(str(e.get("text")) for e in record.entities[:4])
        sentiment = ""
        if record.sentiment:
            sentiment = f"{record.sentiment.get('label')} {record.sentiment.get('score', 0):+.2f}"
        elif record.language_supported is False:
            sentiment = views.NOT_ANALYSED
        table.add_row(
            _short(record.url, base),
            f"[{styles.get(record.status, 'white')}]{status}[/]",
            views.clip(record.title, views.TITLE_WIDTH),
            record.language or "",
            entities,
            sentiment,
        )
    console.print(table)

    s3 = target.client("s3")
    bucket = target.output("ArticlesBucketName")
    console.print(f"[bold]Documents[/] in s3://{bucket}")
    for prefix in ("raw/", "articles/", "enriched/"):
        count = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0)
        console.print(f"  {prefix:<10} {count} objects")
    sample = next((r for r in result.records if r.keys.get("enriched")), None)
    if sample:
        for name, key in sample.keys.items():
            console.print(f"  e.g. {name:<8} {key}")
    table_name = target.output("ArticlesTableName")
    console.print(
        f"[bold]Articles[/] in DynamoDB table {table_name} "
        "(newsflow get / list / entity read them back)"
    )
    for url, count in result.dead_letters.items():
        console.print(f"[bold]Dead letters[/] {count} in {url.rsplit('/', 1)[-1]}")
    counts = result.counts()
    lines = len(result.records)
    console.print(
        f"\n[bold]{lines} lines[/] ({result.pushed} pushed, {result.rejected} rejected at intake)"
        f" = [green]{counts['ENRICHED']} ENRICHED[/] + [yellow]{counts['FAILED']} FAILED[/]"
        f" + [red]{counts[DEAD_LETTER]} in DLQ[/]   ({seconds:.1f} s)"
    )


@app.command()
@one_line_errors
def demo(
    urls: Annotated[
        Path | None,
        typer.Option("--urls", help="File with one URL a line (default: the sample pages)."),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write one JSON record per input line to this file."),
    ] = None,
    report_out: Annotated[
        Path | None,
        typer.Option("--report", help="Write the run's HTML report (newsflow report) here."),
    ] = None,
    template: TemplateOption = Path("template.yaml"),
    timeout: Annotated[float, typer.Option(help="Give up waiting for the queues after s.")] = 300,
    parameter_overrides: ParameterOverridesOption = None,
    from_build: FromBuildOption = False,
    max_workers: MaxWorkersOption = None,
    sources_file: Annotated[
        Path | None,
        typer.Option(
            "--sources",
            help="File with one feed or sitemap URL a line: registered, polled twice, drained.",
        ),
    ] = None,
) -> None:
    """Run the whole pipeline locally on the sample pages (or on --urls FILE, or --sources)."""
    started = time.monotonic()
    console = _stdout()
    lines = intake.read_lines(_read_text(str(urls)).splitlines()) if urls else None
    if lines is not None and not lines:
        fail(f"{urls} has no URLs (it is empty or holds only blank lines): nothing to run")
    feeds = intake.read_lines(_read_text(str(sources_file)).splitlines()) if sources_file else None
    if feeds is not None and (not feeds or lines is not None):
        fail("--sources wants a file with at least one URL, and no --urls beside it")
    template = _template_path(template)
    parameters = _parameter_overrides(template, parameter_overrides)
    with console.status("starting the local stack (moto + template.yaml) and the page server"):
        stack = LocalStack.start(template, parameters=parameters)
    with stack, PageServer() as pages:
        target = local_target(stack, build_dir=_build_dir(template, from_build))
        target.max_workers = max_workers
        console.print(
            f"local stack [bold]{stack.stack_name}[/] at {stack.endpoint_url}, "
            f"sample pages at {pages.base_url}, "
            f"NEWSFLOW_ALLOW_LOOPBACK={target.overrides.get('NEWSFLOW_ALLOW_LOOPBACK')}"
        )
        if stack.skipped_resources:
            skipped = ", ".join(sorted(set(stack.skipped_resources.values())))
            console.print(f"[dim]not emulated by moto (skipped): {skipped}[/]")
        if feeds is not None:
            found = sources.run_source_demo(target, feeds, poller=target.poller(), timeout=timeout)
            sources.render_source_demo(console.print, found)
            if json_out is not None:
                json_out.write_text(json.dumps(found.records(), indent=2) + "\n", encoding="utf-8")
                console.print(f"records written to {json_out}")
            if not found.drained:
                fail(f"the queues did not drain within {timeout:.0f} s; results are partial")
            return
        inputs = lines if lines is not None else pages.sample_urls()
        functions = [spec.logical_id for spec in target.description.functions]
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<16}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as progress:
            result = run_demo(
                target, inputs, on_batch=_batch_reporter(progress, functions), timeout=timeout
            )
        _render_demo(
            console,
            result,
            target,
            None if lines is not None else pages.base_url,
            time.monotonic() - started,
        )
        if lines is None:  # the sample run: a sample feed brings an article in too
            feed_url = pages.url(sample_feeds.FEED_PATH)
            console.print(
                sources.sample_feed_run(target, feed_url, poller=target.poller(), timeout=timeout)
            )
        if json_out is not None:
            json_out.write_text(records_json(result.records) + "\n", encoding="utf-8")
            console.print(f"records written to {json_out}")
        if report_out is not None:
            from newsflow_cli.report import build_report, write_report

            today = datetime.now(UTC).date()
            write_report(build_report(target, today, today), report_out)
            console.print(f"report written to {report_out.resolve()} (open it in a browser)")
    if not result.drain.drained:
        fail(f"the queues did not drain within {timeout:.0f} s; results above are partial")


def _parameter_overrides(template: Path, values: list[str] | None) -> dict[str, str]:
    """``--parameter-overrides`` read and checked against the template (a one-line error)."""
    from newsflow_cli.parameters import ParameterError, resolve_overrides
    from newsflow_cli.sam_template import load_template

    try:
        return resolve_overrides(load_template(template), values)
    except ParameterError as exc:
        fail(f"--parameter-overrides: {exc}")


# --------------------------------------------------------------------------- local stack


@local_app.command("up")
@one_line_errors
def local_up(
    template: TemplateOption = Path("template.yaml"),
    state_dir: StateDirOption = STATE_DIR,
    logs: Annotated[bool, typer.Option(help="Echo the functions' logs.")] = False,
    parameter_overrides: ParameterOverridesOption = None,
    from_build: FromBuildOption = False,
    max_workers: MaxWorkersOption = None,
) -> None:
    """Start the local stack and keep running its functions until Ctrl-C."""
    console = _stdout()
    template = _template_path(template)
    parameters = _parameter_overrides(template, parameter_overrides)
    existing = state_path(state_dir)
    if existing.is_file():
        with contextlib.suppress(TargetError):
            running = resolve_target(None, state_dir=state_dir)
            fail(f"a local stack is already running at {running.endpoint_url} ({existing})")
    with console.status("starting the local stack"):
        stack = LocalStack.start(template, parameters=parameters)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with stack, PageServer() as pages:
        target = local_target(stack, build_dir=_build_dir(template, from_build))
        target.max_workers = max_workers
        path = write_state(
            target,
            state_dir,
            page_server_url=pages.base_url,
            sample_urls=pages.sample_urls(),
        )
        console.print(f"local stack [bold]{stack.stack_name}[/] at {stack.endpoint_url}")
        for key, value in sorted(stack.outputs.items()):
            console.print(f"  {key:<22} {value}")
        console.print(f"sample pages at {pages.base_url} (e.g. {pages.sample_urls()[0]})")
        console.print(
            f"state in {path}; in another terminal: newsflow push URL, newsflow list, ... "
            "Ctrl-C stops."
        )

        def report(outcome: BatchOutcome) -> None:
            console.print(
                f"{time.strftime('%H:%M:%S')} {outcome.function}: {outcome.received} received, "
                f"{outcome.deleted} done, {outcome.failed} left for retry"
                + (f" ({outcome.invocation.error_type})" if outcome.invocation.error_type else "")
            )

        poller = target.poller(echo=sys.stderr if logs else None, on_batch=report)
        # moto never fires an EventBridge rule: play the template's schedules here.
        schedules = sources.schedules_of(load_template(template), parameters)
        poller.before_round = sources.ScheduleTicker(poller, schedules).tick
        try:
            poller.run_forever(stop.is_set)
        except KeyboardInterrupt:
            console.print("stopping")
        finally:
            poller.close()
            remove_state(state_dir)


# --------------------------------------------------------------------------- data commands


@app.command()
@one_line_errors
def push(
    urls: Annotated[
        list[str] | None, typer.Argument(help="URLs to push; '-' reads them from stdin.")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="One URL a line.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object a line per input line.")
    ] = False,
    stack: StackOption = None,
) -> None:
    """Send URLs to the IngestQueue; ends with "N queued, M rejected".

    Exit status: 0 every line was queued, 1 at least one was rejected (or the push could not
    run), 2 usage error.
    """
    lines: list[str] = []
    if file is not None:
        lines += intake.read_lines(_read_text(str(file)).splitlines())
    for url in urls or []:
        lines += intake.read_lines(sys.stdin.read().splitlines()) if url == "-" else [url]
    if not lines:
        fail("nothing to push: give URLs, --file FILE, or - to read stdin")
    target = _target(stack)
    checked = intake.push(target.client("sqs"), target.output("IngestQueueUrl"), lines)
    for item in checked:
        if as_json:
            typer.echo(json.dumps(_intake_json(item), ensure_ascii=False))
        elif item.accepted:
            typer.echo(f"queued   {item.article_id}  {item.canonical_url}")
        else:
            typer.echo(f"rejected {item.line!r}: {item.reason}: {item.detail}", err=True)
    rejected = sum(not item.accepted for item in checked)
    typer.echo(f"{len(checked) - rejected} queued, {rejected} rejected", err=as_json)
    if rejected:
        raise typer.Exit(1)


def _intake_json(item: intake.IntakeLine) -> dict[str, Any]:
    return {
        "line": item.line,
        "status": "queued" if item.accepted else "rejected",
        "article_id": item.article_id,
        "canonical_url": item.canonical_url,
        "message_id": item.message_id,
        "reason": item.reason,
        "detail": item.detail,
    }


def _table(target: Target) -> ArticleQueries:
    from newsflow.storage import ArticleQueries

    return ArticleQueries(target.output("ArticlesTableName"), target.client("dynamodb"))


@app.command()
@one_line_errors
def get(
    reference: Annotated[str, typer.Argument(help="An article URL or article id.")],
    document: Annotated[
        bool, typer.Option("--document", help="Print the stored document instead.")
    ] = False,
    versions: Annotated[
        bool, typer.Option("--versions", help="List its stored versions, oldest first.")
    ] = False,
    stack: StackOption = None,
) -> None:
    """Show one article's record (status, failure, entities, S3 keys)."""
    article_id = intake.article_id_of(reference)  # a bad reference fails before any stack lookup
    target = _target(stack)
    record = _stored_article(target, article_id, reference)
    if versions:
        history = duplicates.versions_of(record)
        typer.echo(json.dumps(history, indent=2, ensure_ascii=False, default=str))
        return
    if not document:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False, default=str))
        return
    key = record.get("enriched_key") or record.get("article_key")
    if not key or not isinstance(key, str):  # a malformed item may hold anything there
        status_text = record.get("status") or "unknown"
        fail(f"article {article_id} has no stored document (status {status_text})")
    from newsflow.storage import DocumentStore

    store = DocumentStore(target.output("ArticlesBucketName"), target.client("s3"))
    typer.echo(json.dumps(store.get_json(key), indent=2, ensure_ascii=False))


def _stored_article(target: Target, article_id: str, reference: str) -> dict[str, Any]:
    """The item of an article as JSON; fails when there is none."""
    record = _table(target).article(article_id)
    if record is None:
        fail(f"no article {article_id} ({reference}) in {target.description.stack_name}")
    return record


def _parse_since(since: str | None, option: str = "--since") -> date | None:
    if since is None:
        return None
    try:
        return date.fromisoformat(since)
    except ValueError:
        fail(f"{option} wants a date like 2026-11-20, got {since!r}")


@app.command("list")
@one_line_errors
def list_articles(
    domain: Annotated[str | None, typer.Option(help="Only this domain (no www.).")] = None,
    status: Annotated[
        ArticleStatus | None,
        typer.Option(help="Only articles with this status.", case_sensitive=False),
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only from this date (YYYY-MM-DD).")] = None,
    until: Annotated[
        str | None, typer.Option(help="Only up to this date, inclusive (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    cluster: Annotated[
        str | None, typer.Option(help="Only the members of this cluster (a cluster id).")
    ] = None,
    stack: StackOption = None,
) -> None:
    """List the newest articles (FAILED ones newest failure first, from the failures index)."""
    if cluster:
        _print_rows(_cluster_rows(_target(stack), cluster), as_json)
        return
    wanted = status.upper() if status else None
    if wanted and wanted not in ArticleStatus.__members__:
        fail(f"--status must be one of {', '.join(ArticleStatus.__members__)}, got {status!r}")
    since_date = _parse_since(since)
    until_date = _parse_since(until, "--until")
    if since_date and until_date and until_date < since_date:
        fail(f"--until {until_date} is before --since {since_date}")
    table = _table(_target(stack))
    if domain:
        rows = table.by_domain(
            domain.lower().removeprefix("www."),
            status=wanted,
            since=since_date,
            until=until_date,
            limit=limit,
        )
    else:
        rows = table.newest(limit, status=wanted, since=since_date, until=until_date)
    _print_rows(rows, as_json)


def _cluster_rows(target: Target, cluster_id: str) -> list[dict[str, Any]]:
    from newsflow.storage.fingerprints import FingerprintIndex

    index = FingerprintIndex(target.output("ArticlesTableName"), target.client("dynamodb"))
    return duplicates.cluster_rows(_table(target), index, cluster_id)


def _print_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    _stdout().print(views.articles_table(rows))


@app.command("duplicates")
@one_line_errors
def duplicates_of(
    reference: Annotated[str, typer.Argument(help="An article URL or article id.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    stack: StackOption = None,
) -> None:
    """Show the cluster of an article: the original first, then every exact or near copy."""
    article_id = intake.article_id_of(reference)
    target = _target(stack)
    record = _stored_article(target, article_id, reference)
    cluster_id = duplicates.cluster_id_of(record)
    rows = _cluster_rows(target, cluster_id) or [record]
    if as_json:
        _print_rows(rows, as_json=True)
        return
    _stdout().print(duplicates.cluster_table(cluster_id, rows))


@app.command()
@one_line_errors
def entity(
    name: Annotated[str, typer.Argument(help="Entity name, e.g. 'Bristol City Council'.")],
    entity_type: Annotated[
        str | None, typer.Option("--type", help="PERSON, ORGANIZATION, LOCATION, ...")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    stack: StackOption = None,
) -> None:
    """Articles that mention an entity, newest first."""
    mentions = _table(_target(stack)).mentioning(name, entity_type, limit=limit)
    if as_json:
        for mention in mentions:
            typer.echo(mention.model_dump_json())
        return
    if not mentions:
        typer.echo(f"no article mentions {name!r}")
        return
    _stdout().print(views.mentions_table(name, mentions))


def _report_range(since: str | None, until: str | None) -> tuple[date, date]:
    try:
        last = date.fromisoformat(until) if until else datetime.now(UTC).date()
    except ValueError:
        fail(f"--until wants a date like 2026-11-20, got {until!r}")
    first = _parse_since(since) or last - timedelta(days=6)
    if first > last:
        fail(f"--since {first} is after --until {last}")
    return first, last


@app.command()
@one_line_errors
def report(
    since: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD; default: 6 days before --until).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD; default: today).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    stack: StackOption = None,
) -> None:
    """One self-contained HTML page about a date range: what came in, failed, who is in the news.

    Reads the range by key and by index (never a table scan); says on the page what it read.
    """
    from newsflow_cli.report import build_report, write_report

    first, last = _report_range(since, until)
    built = build_report(_target(stack), first, last)
    write_report(built, out)
    typer.echo(f"report of {built.articles} articles ({first} .. {last}) written to {out}")


def _retry_notes(target: Target) -> ArticleQueries:
    from newsflow.storage import ArticleQueries

    return ArticleQueries(target.output("ArticlesTableName"), target.client("dynamodb"))


@app.command()
@one_line_errors
def dlq(
    redrive: Annotated[
        bool, typer.Option("--redrive", help="Send every dead letter back to its source queue.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object a line per dead-letter queue.")
    ] = False,
    stack: StackOption = None,
) -> None:
    """Show the dead-letter queues, each message with its last error (and optionally redrive)."""
    target = _target(stack)
    sqs = target.client("sqs")
    console = _stdout()
    for queue in dead_letters.dead_letter_queues(sqs, target.description):
        dlq_name = queue.dlq_url.rsplit("/", 1)[-1]
        source_name = queue.source_url.rsplit("/", 1)[-1]
        report = dead_letters.peek(sqs, queue)
        queries = _retry_notes(target) if report.messages else None
        letters: list[dict[str, Any]] = []
        for message in report.messages:
            article_id = dead_letters.article_id_of(message.body)
            note = queries.retry_note(article_id) if queries and article_id else None
            letters.append(
                {
                    "message_id": message.message_id,
                    "receive_count": message.receive_count,
                    "article_id": article_id,
                    "body": message.body,
                    "last_error": note.model_dump(mode="json") if note else None,
                }
            )
        moved = dead_letters.redrive(sqs, queue) if redrive and report.approximate_count else 0
        if as_json:
            summary = {
                "dlq": dlq_name,
                "source": source_name,
                "function": queue.function,
                "max_receive_count": queue.max_receive_count,
                "approximate_count": report.approximate_count,
                "messages": letters,
                "redriven": moved if redrive else None,
            }
            typer.echo(json.dumps(summary, ensure_ascii=False, default=str))
            continue
        console.print(
            f"[bold]{dlq_name}[/] (dead letters of {source_name}, {queue.function}, "
            f"after {queue.max_receive_count} receives): {report.approximate_count} messages"
        )
        for message, letter in zip(report.messages, letters, strict=True):
            console.print(
                f"  {message.message_id}  received {message.receive_count}x  "
                f"{views.clip(message.body, views.BODY_WIDTH)}",
                markup=False,
            )
            note = letter["last_error"]
            if note is not None:
                failure = note["failure"]
                at = str(note["at"])[:19].replace("T", " ")
                console.print(
                    f"    last error: {failure['stage']}/{failure['reason']}: "
                    f"{views.clip(failure['detail'], views.DETAIL_WIDTH)}"
                    f" (attempt {note['receive_count'] or '?'}, {at} UTC)",
                    markup=False,
                )
            else:
                console.print("    last error: not recorded (see the function's logs)")
        if moved:
            console.print(f"  redrove {moved} messages back to {source_name}")


@app.command()
@one_line_errors
def invoke(
    function: Annotated[str, typer.Argument(help="fetch, enrich (or a logical id).")],
    event_file: Annotated[Path, typer.Argument(help="Event JSON, e.g. events/fetch_single.json")],
    stack: StackOption = None,
    template: TemplateOption = Path("template.yaml"),
    state_dir: StateDirOption = STATE_DIR,
) -> None:
    """Run one function's handler on an event, in this process (like `sam local invoke -e`).

    Prints the handler's response; exits 1 and says why when a record did not succeed (left
    for retry, rejected, or its article recorded FAILED). On a local stack the sample events'
    example.com URLs are served by the sample pages, and an enrich event gets the local bucket
    and, when missing, a stored document.
    """
    try:
        event = json.loads(_read_text(str(event_file)))
    except ValueError as exc:
        fail(f"{event_file} is not JSON: {exc}")
    with contextlib.ExitStack() as resources:
        if stack or state_path(state_dir).is_file():
            target = _target(stack, template)
        else:
            typer.echo("no local stack running: starting a temporary one", err=True)
            local = resources.enter_context(LocalStack.start(_template_path(template)))
            target = local_target(local)
        if target.kind == "local":
            pages_url = target.extra.get("page_server_url")
            if not isinstance(pages_url, str):
                pages_url = resources.enter_context(PageServer()).base_url
            prepared = invoke_events.prepare(event, target, page_server_url=pages_url)
            for note in prepared.notes:
                typer.echo(note, err=True)
            event = prepared.event
        try:
            result = target.poller(echo=sys.stderr).invoke(function, event)
        except KeyError as exc:
            fail(str(exc.args[0]))
        except ValueError as exc:
            fail(f"{exc} (is --template the one the stack was deployed from?)")
        if not result.ok:
            kind = "timed out" if result.timed_out else f"raised {result.error_type}"
            fail(f"{result.function} {kind}: {result.error_message or ''}".strip())
        typer.echo(json.dumps(result.result, indent=2, default=str))
        outcomes = invoke_events.outcomes(target, result.function, event, result.result)
    for outcome in outcomes:
        typer.echo(outcome.describe(), err=True)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    if failed:
        fail(f"{len(failed)} of {len(outcomes)} records did not succeed")


# --------------------------------------------------------------------------- offline tools


@app.command()
@one_line_errors
def parse(
    source: Annotated[str, typer.Argument(help="HTML file, or - for stdin.")],
    url: Annotated[str | None, typer.Option(help="The page's URL (fills url/domain).")] = None,
) -> None:
    """Parse an HTML page into the article document (no network)."""
    html = _read_bytes(source)
    from newsflow.extraction import parse_html

    document = parse_html(html, url=url)
    typer.echo(document.model_dump_json(indent=2))


@app.command()
@one_line_errors
def enrich(
    source: Annotated[str, typer.Argument(help="Plain-text file, or - for stdin.")],
    backend: Annotated[
        str,
        typer.Option(
            help="Where entities and sentiment come from.",
            parser=_one_of(BACKENDS),
            metavar=f"[{'|'.join(BACKENDS)}]",
        ),
    ] = "local",
    language: Annotated[str | None, typer.Option(help="ISO 639-1 code, if known.")] = None,
) -> None:
    """Entities and sentiment for a plain text (local model or Amazon Comprehend)."""
    from newsflow.enrichment import get_enricher

    text = _read_text(source)
    if not text.strip():
        fail("no text to enrich")
    result = get_enricher(backend).enrich(text, language=language)
    typer.echo(result.model_dump_json(indent=2))


def main() -> None:
    app()
