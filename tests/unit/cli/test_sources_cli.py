"""`newsflow sources add|list|remove|poll` against the template's table and a poll queue (moto)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from newsflow.sources import SourceTable, source_id_for
from newsflow_cli import cli
from newsflow_cli.sources import SourceError, parse_every, rate_seconds, schedules_of

FEED = "https://news.example/feed.xml"


@pytest.fixture
def run(pipeline: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    poll_queue = pipeline.sqs.create_queue(QueueName="test-SourcePollQueue")["QueueUrl"]
    outputs = {"ArticlesTableName": pipeline.table, "SourcePollQueueUrl": poll_queue}
    target = SimpleNamespace(
        output=outputs.__getitem__,
        client={"dynamodb": pipeline.dynamodb, "sqs": pipeline.sqs}.get,
    )
    monkeypatch.setattr(cli, "_target", lambda *args, **kwargs: target)
    monkeypatch.chdir(tmp_path)
    pipeline.poll_queue = poll_queue

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli.app, ["sources", *args])

    return invoke


def test_add_list_poll_remove(run: Any, pipeline: Any) -> None:
    # WHEN a feed is added twice (the second time under another spelling)
    added = run("add", FEED, "--every", "10m", "--kind", "rss")
    again = run("add", "HTTPS://NEWS.example/feed.xml#top")
    assert added.exit_code == 0, added.output
    source_id = source_id_for(FEED)
    assert f"{source_id} added" in added.output
    assert "already registered" in again.output
    # THEN it is listed once, with its interval and kind, due now
    rows = [json.loads(line) for line in run("list", "--json").output.splitlines()]
    assert [(r["source_id"], r["kind"], r["every_seconds"]) for r in rows] == [
        (source_id, "rss", 600)
    ]
    # AND `poll` queues it now; `remove` stops it
    assert "1 source(s) queued" in run("poll", FEED).output
    [message] = pipeline.receive_all(pipeline.poll_queue)
    assert json.loads(message["Body"]) == {"source_id": source_id}
    assert run("remove", source_id).exit_code == 0
    assert SourceTable(pipeline.table, pipeline.dynamodb).all() == []
    assert run("remove", source_id).exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "ftp://news.example/feed"), "error:"),
        (("add", FEED, "--every", "10 parsecs"), "--every wants"),
        (("add", FEED, "--every", "30s"), "at least 1m"),
        (("poll", "src-0000000000000000"), "no source"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(run: Any, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.output


def test_intervals_and_schedules() -> None:
    assert [parse_every(v) for v in ("90", "90s", "5m", "2h", "1d")] == [90, 90, 300, 7200, 86400]
    with pytest.raises(SourceError):
        parse_every("soon")
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("cron(0 * * * ? *)") is None
    template = {
        "Parameters": {"SourcePollSchedule": {"Default": "rate(1 minute)"}},
        "Resources": {
            "PollFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "Tick": {
                            "Type": "Schedule",
                            "Properties": {"Schedule": {"Ref": "SourcePollSchedule"}},
                        },
                        "Poll": {"Type": "SQS", "Properties": {}},
                    }
                },
            }
        },
    }
    assert schedules_of(template, {}) == [("PollFunction", "rate(1 minute)")]
    assert schedules_of(template, {"SourcePollSchedule": "rate(2 hours)"}) == [
        ("PollFunction", "rate(2 hours)")
    ]
