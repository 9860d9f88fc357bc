"""cfn-lint, `sam validate --lint` and checkov over template.yaml: each catches other mistakes."""

from __future__ import annotations

import re

import pytest
from cfnlint.api import ManualArgs, lint_file

from .cfn import TEMPLATE_PATH, Template
from .conftest import ToolRun


@pytest.fixture(autouse=True, scope="module")
def _start_external_checks(external_checks: object) -> None:
    """Start SAM CLI and checkov first, so they run while cfn-lint runs in-process."""


def test_cfn_lint_finds_nothing() -> None:
    # GIVEN the template WHEN cfn-lint checks it for the deployment region
    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(regions=["us-east-1"]))
    # THEN there is no error, warning or informational finding
    assert [str(m) for m in matches] == []


def test_sam_validate_lint_accepts_the_template(sam_validate_run: ToolRun) -> None:
    # GIVEN SAM CLI's validator WHEN it lints the template THEN it calls it valid
    assert sam_validate_run.returncode == 0, sam_validate_run.output
    assert "is a valid SAM Template" in sam_validate_run.output


def test_checkov_has_no_failed_check(checkov_run: ToolRun) -> None:
    # GIVEN checkov's CloudFormation checks WHEN run over the template
    summary = re.search(
        r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", checkov_run.output
    )
    # THEN it ran checks, none failed, and each skip carries its reason in the template
    assert summary is not None, checkov_run.output
    passed, failed, _skipped = (int(n) for n in summary.groups())
    assert failed == 0, checkov_run.output
    assert passed > 0
    assert checkov_run.returncode == 0


def test_every_checkov_skip_in_the_template_gives_a_reason(sam_template: Template) -> None:
    # GIVEN every checkov skip declared in resource metadata
    skips = [
        (res_id, skip)
        for res_id, res in sam_template["Resources"].items()
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    # THEN each names a check and explains itself in a sentence
    assert skips
    for res_id, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), res_id
        assert len(skip.get("comment", "").split()) >= 5, f"{res_id} {skip['id']}: no reason"
