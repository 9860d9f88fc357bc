"""Which stack a data command uses without --stack: the local stack, else samconfig.toml's."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from newsflow_cli import targets
from newsflow_cli.cli import app
from newsflow_cli.targets import TargetError, resolve_target, samconfig_stack_name

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """Record which kind of target was asked for instead of reaching AWS or a local stack."""
    seen: list[tuple[str, str | None]] = []

    def fake_aws(stack_name: str, **_: Any) -> str:
        seen.append(("aws", stack_name))
        return "aws-target"

    def fake_local(state_dir: Path = targets.STATE_DIR) -> str:
        seen.append(("local", None))
        return "local-target"

    monkeypatch.setattr(targets, "aws_target", fake_aws)
    monkeypatch.setattr(targets, "read_local_target", fake_local)
    return seen


def _samconfig(folder: Path, text: str) -> Path:
    path = folder / "samconfig.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_samconfig_names_the_dev_stack() -> None:
    # GIVEN the project's samconfig.toml WHEN read THEN it gives `sam deploy`'s default stack
    assert samconfig_stack_name(ROOT / "samconfig.toml") == "newsflow-dev"


def test_the_deploy_section_wins_over_the_global_one(tmp_path: Path) -> None:
    # GIVEN both sections name a stack (SAM reads the command's own section first)
    path = _samconfig(
        tmp_path,
        'version = 0.1\n[default.global.parameters]\nstack_name = "g"\n'
        '[default.deploy.parameters]\nstack_name = "d"\n',
    )
    # THEN the deploy section's name is used
    assert samconfig_stack_name(path) == "d"


def test_a_samconfig_without_a_stack_name_names_none(tmp_path: Path) -> None:
    path = _samconfig(tmp_path, "version = 0.1\n[default.build.parameters]\nparallel = true\n")
    assert samconfig_stack_name(path) is None
    assert samconfig_stack_name(tmp_path / "missing.toml") is None


def test_an_unreadable_samconfig_is_reported(tmp_path: Path) -> None:
    path = _samconfig(tmp_path, "this is = not [toml")
    with pytest.raises(TargetError, match="cannot read"):
        samconfig_stack_name(path)


def test_without_a_local_stack_the_samconfig_stack_is_used(
    tmp_path: Path, calls: list[tuple[str, str | None]]
) -> None:
    # GIVEN no --stack, no local stack state file, and a samconfig.toml naming a stack
    path = _samconfig(tmp_path, '[default.global.parameters]\nstack_name = "newsflow-dev"\n')
    # WHEN the target is resolved
    resolve_target(None, state_dir=tmp_path / ".newsflow", samconfig=path)
    # THEN it is that deployed stack
    assert calls == [("aws", "newsflow-dev")]


def test_a_local_stack_comes_before_samconfig(
    tmp_path: Path, calls: list[tuple[str, str | None]]
) -> None:
    # GIVEN a local stack's state file and a samconfig.toml naming a deployed stack
    path = _samconfig(tmp_path, '[default.global.parameters]\nstack_name = "newsflow-dev"\n')
    state_dir = tmp_path / ".newsflow"
    state_dir.mkdir()
    (state_dir / "local.json").write_text("{}", encoding="utf-8")
    # WHEN the target is resolved THEN the local stack is used: trying locally never reaches AWS
    resolve_target(None, state_dir=state_dir, samconfig=path)
    assert calls == [("local", None)]


def test_an_explicit_stack_wins(tmp_path: Path, calls: list[tuple[str, str | None]]) -> None:
    # GIVEN a state file and a samconfig.toml, and --stack (or NEWSFLOW_STACK) given
    path = _samconfig(tmp_path, '[default.global.parameters]\nstack_name = "newsflow-dev"\n')
    state_dir = tmp_path / ".newsflow"
    state_dir.mkdir()
    (state_dir / "local.json").write_text("{}", encoding="utf-8")
    # WHEN resolved THEN the named stack is used
    resolve_target("newsflow-prod", state_dir=state_dir, samconfig=path)
    assert calls == [("aws", "newsflow-prod")]


def test_a_command_without_any_stack_points_at_both_ways_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the project folder's samconfig.toml, no local stack and no AWS region configured
    shutil.copy(ROOT / "samconfig.toml", tmp_path / "samconfig.toml")
    monkeypatch.chdir(tmp_path)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "NEWSFLOW_STACK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    # WHEN a data command runs
    result = CliRunner().invoke(app, ["get", "https://news.example/a"])
    # THEN one line names the samconfig stack, why it failed, and the local alternative
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert "newsflow-dev from samconfig.toml" in line
    assert "no AWS region configured" in line
    assert "newsflow local up" in line and "--stack" in line
