"""Fixtures for the infrastructure tests: the template as CloudFormation sees it, translated.

The template is read with cfn-lint's decoder (it understands the short ``!Ref``/``!GetAtt``
tags) and translated with aws-sam-translator the way `sam deploy` does, with a managed-policy
loader that knows no policies (the roles here use none). SAM CLI and checkov live in their own
venvs (``make tools``); tests that need them skip with the command to run when they are missing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from cfnlint.decode import decode

from .cfn import ROOT, TEMPLATE_PATH, Template, plain

SAM_BIN = ROOT / ".venv-sam" / "bin" / "sam"
CHECKOV_BIN = ROOT / ".venv-checkov" / "bin" / "checkov"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def sam_template() -> Template:
    """template.yaml as written (before the SAM transform)."""
    decoded, errors = decode(str(TEMPLATE_PATH))
    assert not errors, errors
    assert decoded is not None
    result: Template = plain(decoded)
    return result


def translate(sam_template: Template, parameters: dict[str, str] | None = None) -> Template:
    """The template after the transforms, as `sam deploy` with these parameter overrides.

    ``AWS::LanguageExtensions`` runs first on AWS: it decides the ``Fn::If`` the SAM transform
    cannot take (``decide_before_sam``), then aws-sam-translator does the rest.
    """
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    from newsflow_cli.sam_template import decide_before_sam, parameter_values

    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
    translator = Translator(None, Parser(), boto_session=session)
    overrides = dict(parameters or {})
    packaged = decide_before_sam(sam_template, parameter_values(sam_template, overrides, {}))
    for logical_id, resource in packaged["Resources"].items():
        # What `sam package` does: local code folders become uploaded S3 objects.
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://packaged-code/{logical_id}.zip"
    result: Template = translator.translate(
        packaged, parameter_values=overrides, get_managed_policy_map=dict
    )
    return result


@pytest.fixture(scope="session")
def translated(sam_template: Template) -> Template:
    """The template after the SAM transform: what CloudFormation actually creates."""
    return translate(sam_template)


@dataclass(frozen=True)
class ToolRun:
    returncode: int
    output: str


def _tool_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SAM_CLI_TELEMETRY"] = "0"
    env["AWS_DEFAULT_REGION"] = REGION
    return env


class _Background:
    """A tool started once per session, so several slow checks overlap instead of queueing."""

    def __init__(self, command: list[str]) -> None:
        self._process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_tool_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def result(self) -> ToolRun:
        output, _ = self._process.communicate(timeout=300)
        return ToolRun(self._process.returncode, output)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()


@pytest.fixture(scope="session")
def external_checks() -> Iterator[dict[str, _Background | None]]:
    """`sam validate --lint` and checkov, started together in the background."""
    checks: dict[str, _Background | None] = {
        "sam": _Background([str(SAM_BIN), "validate", "--lint", "--template", str(TEMPLATE_PATH)])
        if SAM_BIN.exists()
        else None,
        "checkov": _Background(
            [
                str(CHECKOV_BIN),
                "--file",
                str(TEMPLATE_PATH),
                "--framework",
                "cloudformation",
                "--skip-download",
                "--compact",
                "--quiet",
            ]
        )
        if CHECKOV_BIN.exists()
        else None,
    }
    yield checks
    for check in checks.values():
        if check is not None:
            check.stop()


def _finished(check: _Background | None, tool: str) -> ToolRun:
    if check is None:
        pytest.skip(f"{tool} is not installed in its venv: run `make tools` (make test does)")
    return check.result()


@pytest.fixture(scope="session")
def sam_validate_run(external_checks: dict[str, _Background | None]) -> ToolRun:
    """Result of `sam validate --lint` (SAM CLI's own cfn-lint and SAM validator)."""
    return _finished(external_checks["sam"], "SAM CLI")


@pytest.fixture(scope="session")
def checkov_run(external_checks: dict[str, _Background | None]) -> ToolRun:
    """Result of checkov over template.yaml (offline: --skip-download)."""
    return _finished(external_checks["checkov"], "checkov")
