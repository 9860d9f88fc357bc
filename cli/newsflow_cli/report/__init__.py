"""`newsflow report`: one self-contained HTML page about a date range of the stream.

:mod:`~newsflow_cli.report.reading` reads the range by key and by index (never a table scan),
:mod:`~newsflow_cli.report.summary` turns the rows into figures, each with the command that
checks it, and :mod:`~newsflow_cli.report.page` renders them with inline styles and SVG charts.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path

from newsflow_cli import dead_letters
from newsflow_cli.report.page import render
from newsflow_cli.report.reading import ReadStats, StreamReader, StreamSnapshot
from newsflow_cli.report.summary import Commands, StreamReport, summarise
from newsflow_cli.targets import Target

__all__ = [
    "Commands",
    "ReadStats",
    "StreamReader",
    "StreamReport",
    "StreamSnapshot",
    "build_report",
    "render",
    "write_report",
]


def _dead_letter_counts(target: Target, stats: ReadStats) -> dict[str, int]:
    sqs = target.client("sqs")
    counts: dict[str, int] = {}
    for queue in dead_letters.dead_letter_queues(sqs, target.description):
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        counts[queue.dlq_url.rsplit("/", 1)[-1]] = int(attributes["ApproximateNumberOfMessages"])
        stats.sqs_calls += 1
    return counts


def build_report(target: Target, since: date, until: date) -> StreamReport:
    """Read the range from the target's bucket, table and DLQs, and compute every figure."""
    bucket = target.output("ArticlesBucketName")
    reader = StreamReader(
        bucket=bucket,
        table=target.output("ArticlesTableName"),
        s3=target.client("s3"),
        dynamodb=target.client("dynamodb"),
    )
    snapshot = reader.read(since, until, _dead_letter_counts(target, reader.stats))
    local = target.kind == "local"
    commands = Commands(
        bucket=bucket,
        since=since,
        until=until,
        stack=None if local else target.description.stack_name,
        endpoint_url=target.endpoint_url if local else None,
    )
    return summarise(
        snapshot,
        commands,
        stack=target.description.stack_name,
        entity_reader=partial(reader.entity_mentions, since=since, until=until),
    )


def write_report(report: StreamReport, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report), encoding="utf-8")
    return out
