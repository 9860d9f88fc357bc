"""CLI error paths: one line on stderr, exit status 1 (2 for usage errors), no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from typer.testing import CliRunner, Result

from newsflow_cli.cli import app


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # No .newsflow/ state and no template here: nothing is configured.
    monkeypatch.chdir(tmp_path)
    yield


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def _one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def test_data_commands_without_any_stack_say_how_to_get_one() -> None:
    # GIVEN no --stack, no NEWSFLOW_STACK and no running local stack
    # WHEN a data command runs
    result = run("get", "https://news.example/a")
    # THEN it fails with one line pointing at `newsflow local up` and --stack
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "newsflow local up" in line and "--stack" in line


def test_a_state_file_of_a_stopped_local_stack_is_reported(tmp_path: Path) -> None:
    # GIVEN a state file whose endpoint no longer answers
    state = tmp_path / ".newsflow" / "local.json"
    state.parent.mkdir()
    state.write_text(
        json.dumps(
            {
                "endpoint_url": "http://127.0.0.1:9",
                "region": "us-east-1",
                "stack": {"stack_name": "newsflow-local", "outputs": {}, "functions": []},
            }
        ),
        encoding="utf-8",
    )
    # WHEN a data command runs
    result = run("list")
    # THEN it says the local stack is not running
    assert result.exit_code == 1
    assert "not running" in _one_error_line(result)


def test_a_missing_deployed_stack_is_named() -> None:
    # GIVEN an AWS account (moto, in-process) without the stack
    with mock_aws():
        # WHEN a command names it
        result = run("dlq", "--stack", "no-such-stack")
    # THEN the error says it does not exist
    assert result.exit_code == 1
    assert "no-such-stack does not exist" in _one_error_line(result)


def test_the_stack_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN NEWSFLOW_STACK naming a stack that does not exist
    monkeypatch.setenv("NEWSFLOW_STACK", "from-env")
    with mock_aws():
        # WHEN a command runs without --stack
        result = run("entity", "Bristol")
    # THEN that stack is the one looked up
    assert "from-env does not exist" in _one_error_line(result)


def test_push_without_urls_is_refused() -> None:
    # GIVEN no URL, no file and no stdin marker / WHEN push runs
    result = run("push")
    # THEN it explains the three ways to give URLs
    assert result.exit_code == 1
    assert "nothing to push" in _one_error_line(result)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # An unknown --status or --backend is a usage error now (test_cli_usability).
        (("list", "--since", "last week"), "--since wants a date"),
        (("list", "--until", "today"), "--until wants a date"),
        (
            ("list", "--since", "2026-11-21", "--until", "2026-11-20"),
            "--until 2026-11-20 is before --since 2026-11-21",
        ),
        (("get", "just some words"), "invalid_url"),
    ],
)
def test_bad_arguments_get_one_line(args: tuple[str, ...], expected: str) -> None:
    # GIVEN an argument the command cannot use / WHEN it runs
    result = run(*args, stdin="some text")
    # THEN one error line names the problem
    assert result.exit_code == 1
    assert expected in _one_error_line(result)


@pytest.mark.parametrize(
    "args",
    [
        ("demo", "--urls", "missing.txt"),
        ("invoke", "fetch", "missing-event.json"),
        ("parse", "missing.html"),
        ("push", "--file", "missing.txt"),
    ],
)
def test_missing_files_are_named(args: tuple[str, ...]) -> None:
    # GIVEN a file argument that does not exist / WHEN the command runs
    result = run(*args)
    # THEN the error names the file
    assert result.exit_code == 1
    assert "missing" in _one_error_line(result)


def test_demo_without_a_template_says_where_it_looked() -> None:
    # GIVEN a folder without template.yaml / WHEN demo runs
    result = run("demo")
    # THEN it asks for --template
    assert result.exit_code == 1
    assert "--template" in _one_error_line(result)


def test_an_invoke_event_that_is_not_json_is_refused(tmp_path: Path) -> None:
    # GIVEN an event file with broken JSON
    (tmp_path / "event.json").write_text("{not json", encoding="utf-8")
    # WHEN invoke runs / THEN it says so
    result = run("invoke", "fetch", "event.json")
    assert result.exit_code == 1
    assert "is not JSON" in _one_error_line(result)


def test_an_unknown_option_is_a_usage_error() -> None:
    # GIVEN an option that does not exist / WHEN used / THEN click's usage error (status 2)
    assert run("list", "--colour", "blue").exit_code == 2
