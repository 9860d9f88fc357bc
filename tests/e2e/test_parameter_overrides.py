"""--parameter-overrides reach the local stack as they would reach a deployed one."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from newsflow_cli.cli import app
from newsflow_cli.local_stack import LocalStack

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"


def test_an_override_becomes_the_functions_environment() -> None:
    # GIVEN a local stack started with HostRequestsPerSecond=7 and UserAgent overridden
    parameters = {"HostRequestsPerSecond": "7", "UserAgent": "newsflow-e2e/1.0"}
    with LocalStack.start(
        TEMPLATE_PATH, stack_name="newsflow-overrides", parameters=parameters
    ) as stack:
        # WHEN the fetch function's configuration is read back
        [fetch] = [f for f in stack.description.functions if f.logical_id == "FetchFunction"]
        # THEN it carries the overridden values, as sam deploy would have set them
        assert fetch.environment["HOST_REQUESTS_PER_SECOND"] == "7"
        assert fetch.environment["USER_AGENT"] == "newsflow-e2e/1.0"


def test_a_parameter_the_template_lacks_stops_the_demo_before_it_starts() -> None:
    # WHEN demo is given an override for a parameter that does not exist
    result = CliRunner().invoke(
        app, ["demo", "--template", str(TEMPLATE_PATH), "--parameter-overrides", "Nope=1"]
    )
    # THEN it says so in one line and exits non-zero
    assert result.exit_code != 0
    assert "Nope is not a parameter of the template" in result.output
