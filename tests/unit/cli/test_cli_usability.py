"""What a new user trips over: version, choices, push totals, --json, empty inputs, directories."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from newsflow.errors import Reason, Stage
from newsflow.models import Failure
from newsflow.storage import ArticleTable, EntityMention, RetryNote
from newsflow.urls import article_id_for, canonicalize_url
from newsflow_cli import cli, views
from newsflow_cli.cli import app
from newsflow_cli.local_stack import LocalStack
from newsflow_cli.stacks import EventSource, FunctionSpec, StackDescription
from newsflow_cli.targets import Target

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _function(logical_id: str, queue_url: str) -> FunctionSpec:
    name = queue_url.rsplit("/", 1)[-1]
    return FunctionSpec(
        logical_id=logical_id,
        function_name=f"stack-{logical_id}",
        function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:stack-{logical_id}",
        handler="app.lambda_handler",
        runtime="python3.12",
        timeout=30,
        memory_size=512,
        environment={},
        code_dir=None,
        event_sources=(
            EventSource(
                queue_arn=f"arn:aws:sqs:{REGION}:123456789012:{name}",
                queue_url=queue_url,
                batch_size=10,
                function_response_types=("ReportBatchItemFailures",),
            ),
        ),
    )


@pytest.fixture
def stack_target(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> Target:
    """The moto resources as a stack the commands talk to (what --stack NAME would find)."""
    description = StackDescription(
        stack_name="newsflow-test",
        status="CREATE_COMPLETE",
        outputs={
            "IngestQueueUrl": pipeline.ingest_queue_url,
            "ArticlesBucketName": pipeline.bucket,
            "ArticlesTableName": pipeline.table,
        },
        functions=(
            _function("FetchFunction", pipeline.ingest_queue_url),
            _function("EnrichFunction", pipeline.enrich_queue_url),
        ),
    )
    target = Target(kind="aws", description=description, region=REGION, session=boto3.Session())
    monkeypatch.setattr(cli, "_target", lambda *args, **kwargs: target)
    return target


# --------------------------------------------------------------------------- version, choices


def test_version_prints_the_installed_version() -> None:
    # GIVEN the installed package / WHEN --version is asked for
    result = run("--version")
    # THEN it prints the package's version and exits 0
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"newsflow {metadata.version('newsflow')}"


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (("list", "--help"), ("FETCHED", "ENRICHED", "FAILED")),
        (("enrich", "--help"), ("local", "comprehend")),
    ],
)
def test_help_lists_the_choices_of_enum_like_options(
    args: tuple[str, ...], choices: tuple[str, ...]
) -> None:
    # GIVEN an option with a fixed set of values / WHEN --help is shown
    result = run(*args)
    # THEN every value is listed
    assert result.exit_code == 0, result.output
    for choice in choices:
        assert choice.lower() in result.stdout.lower()


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (("list", "--status", "SHINY"), ("fetched", "enriched", "failed")),
        (("enrich", "-", "--backend", "oracle"), ("local", "comprehend")),
    ],
)
def test_a_value_outside_the_choices_is_a_usage_error(
    args: tuple[str, ...], choices: tuple[str, ...]
) -> None:
    # GIVEN a value that is not one of the option's choices / WHEN the command runs
    result = run(*args, stdin="some text")
    # THEN click refuses it as a usage error (status 2) and names the valid values
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for choice in choices:
        assert choice in result.stderr.lower()


def test_a_status_is_accepted_in_any_case() -> None:
    # GIVEN --status spelled in lower case, and no stack / WHEN list runs
    result = run("list", "--status", "failed")
    # THEN the value passed parsing: the command got as far as looking for a stack
    assert result.exit_code == 1
    assert "no stack configured" in result.stderr


# --------------------------------------------------------------------------- push


def test_push_ends_with_the_totals_and_exits_0_when_all_are_queued(
    stack_target: Target, pipeline: Any
) -> None:
    # GIVEN two URLs / WHEN pushed
    result = run("push", "https://news.example/a", "https://news.example/b")
    # THEN both are queued and the last line counts them
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "2 queued, 0 rejected"
    assert len(pipeline.receive_all(pipeline.ingest_queue_url)) == 2


def test_push_exits_1_when_a_line_is_rejected(stack_target: Target, pipeline: Any) -> None:
    # GIVEN one URL and one line that is not a URL / WHEN pushed
    result = run("push", "https://news.example/a", "not a url")
    # THEN the URL is queued, the line rejected, the totals say so and the status is 1
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1] == "1 queued, 1 rejected"
    assert "rejected 'not a url'" in result.stderr
    assert len(pipeline.receive_all(pipeline.ingest_queue_url)) == 1


def test_push_json_prints_one_object_per_line(stack_target: Target) -> None:
    # GIVEN a URL and a bad line / WHEN pushed with --json
    result = run("push", "--json", "https://news.example/a?utm_source=x", "ftp://news.example/b")
    # THEN stdout is one JSON object per input line, in order; the totals go to stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["status"] for row in rows] == ["queued", "rejected"]
    assert rows[0]["canonical_url"] == "https://news.example/a"
    assert rows[0]["message_id"]
    assert rows[1]["reason"]
    assert "1 queued, 1 rejected" in result.stderr
    assert result.exit_code == 1


# --------------------------------------------------------------------------- dlq --json


def test_dlq_json_lists_each_dead_letter_with_its_last_error(
    stack_target: Target, pipeline: Any
) -> None:
    # GIVEN a dead letter of the ingest queue whose article has a retry note
    url = "https://news.example/outage"
    article_id = article_id_for(canonicalize_url(url))
    pipeline.sqs.send_message(QueueUrl=pipeline.ingest_dlq_url, MessageBody=url)
    ArticleTable(pipeline.table, pipeline.dynamodb).save_retry_note(
        RetryNote(
            article_id=article_id,
            failure=Failure(stage=Stage.FETCH, reason=Reason.HTTP_ERROR, detail="HTTP 503"),
            at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
            receive_count=3,
        )
    )
    # WHEN dlq runs with --json
    result = run("dlq", "--json")
    # THEN each DLQ is one JSON line, the message carries its article and last error
    assert result.exit_code == 0, result.output
    queues = {q["function"]: q for q in map(json.loads, result.stdout.splitlines())}
    assert set(queues) == {"FetchFunction", "EnrichFunction"}
    (letter,) = queues["FetchFunction"]["messages"]
    assert letter["body"] == url
    assert letter["article_id"] == article_id
    assert letter["last_error"]["failure"]["reason"] == "http_error"
    assert queues["FetchFunction"]["redriven"] is None
    assert queues["EnrichFunction"]["messages"] == []


# --------------------------------------------------------------------------- empty inputs


@pytest.mark.parametrize("content", ["", "\n  \n\t\n"])
def test_demo_on_a_file_without_urls_says_so_without_starting_a_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    # GIVEN a --urls file that is empty or holds only blank lines
    (tmp_path / "urls.txt").write_text(content, encoding="utf-8")

    def no_stack(*args: Any, **kwargs: Any) -> LocalStack:
        raise AssertionError("the local stack must not start")

    monkeypatch.setattr(LocalStack, "start", no_stack)
    # WHEN demo runs on it
    result = run("demo", "--urls", "urls.txt", "--template", str(ROOT / "template.yaml"))
    # THEN it says the file has no URLs and exits 1 before starting anything
    assert result.exit_code == 1
    assert result.stderr.startswith("error: urls.txt has no URLs")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("parse", "pages"),
        ("enrich", "pages"),
        ("push", "--file", "pages"),
        ("invoke", "fetch", "pages"),
    ],
)
def test_a_directory_given_as_a_file_is_named(tmp_path: Path, args: tuple[str, ...]) -> None:
    # GIVEN a directory where a file is expected
    (tmp_path / "pages").mkdir()
    # WHEN the command runs
    result = run(*args)
    # THEN one error line says it is a directory
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: pages is a directory: give a file"


# --------------------------------------------------------------------------- tables


def _rendered(table: Any) -> str:
    console = Console(width=400, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_long_titles_and_urls_are_cut_in_the_article_table() -> None:
    # GIVEN an article with a very long title and URL
    title = "Harbour " * 80
    url = "https://news.example/" + "a" * 500
    row = {"article_id": "abc", "status": "FAILED", "failure": {"reason": "http_error"},
           "title": title, "url": url}  # fmt: skip
    # WHEN the list table is rendered on a wide terminal
    text = _rendered(views.articles_table([row]))
    # THEN both are cut to their width with an ellipsis, the rest of the row is whole
    assert "Harbour Harbour" in text and title.strip() not in text
    assert url not in text and url[: views.URL_WIDTH - 1] + views.ELLIPSIS in text
    assert "FAILED (http_error)" in text
    assert max(len(line) for line in text.splitlines()) < 200


def test_an_article_enriched_without_analysis_says_so_in_the_list() -> None:
    # GIVEN an article in a language no backend analyses (ENRICHED, language_supported false)
    row = {"article_id": "abc", "status": "ENRICHED", "language_supported": False,
           "title": "Hamburger Hafen", "url": "https://example.de/hafen"}  # fmt: skip
    # WHEN the list table is rendered, THEN its status says the language was not analysed
    assert f"ENRICHED ({views.NOT_ANALYSED})" in " ".join(
        _rendered(views.articles_table([row])).split()
    )


def test_a_row_with_missing_fields_still_renders() -> None:
    # GIVEN an item written partially (no title, url, status) / WHEN rendered
    text = _rendered(views.articles_table([{"article_id": "abc"}]))
    # THEN the row is there with empty cells
    assert "abc" in text


def test_long_titles_are_cut_in_the_entity_table() -> None:
    # GIVEN a mention of an article with a long title / WHEN rendered
    mention = EntityMention(entity="x", type="PERSON", article_id="abc", title="Long " * 100)
    text = _rendered(views.mentions_table("x", [mention]))
    # THEN the title is cut
    assert views.ELLIPSIS in text and ("Long " * 100).strip() not in text


def test_clip_keeps_short_values_and_folds_whitespace() -> None:
    assert views.clip("a  b\nc", 10) == "a b c"
    assert views.clip(None, 10) == ""
    assert views.clip("abcdefghijk", 5) == "abcd" + views.ELLIPSIS
