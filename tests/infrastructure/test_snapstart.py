"""The SnapStart parameter: off by default; on, a published version behind an alias per function.

SnapStart only applies to published versions, so with it the SQS event sources must invoke the
alias, not ``$LATEST`` (which would cold start as before). The template is translated as
``sam deploy`` would with the parameter overridden (see ``translate`` in conftest).
"""

from __future__ import annotations

from typing import Any

import pytest

from .cfn import Template, referenced_ids, resources_of_type
from .conftest import translate

SNAPSTART_FUNCTIONS = {"FetchFunction", "EnrichFunction"}


@pytest.fixture(scope="module")
def with_snapstart(sam_template: Template) -> Template:
    return translate(sam_template, {"SnapStart": "PublishedVersions"})


def _mapping_targets(template: Template) -> dict[str, set[str]]:
    """Each event source mapping's logical id -> what its FunctionName points at."""
    return {
        logical_id: referenced_ids(mapping["Properties"]["FunctionName"])
        for logical_id, mapping in resources_of_type(
            template, "AWS::Lambda::EventSourceMapping"
        ).items()
    }


def _apply_on(template: Template, function_id: str, parameters: dict[str, Any]) -> Any:
    value = template["Resources"][function_id]["Properties"]["SnapStart"]["ApplyOn"]
    return parameters[value["Ref"]] if isinstance(value, dict) else value


def test_the_parameter_defaults_to_none(sam_template: Template) -> None:
    parameter = sam_template["Parameters"]["SnapStart"]
    assert parameter["Default"] == "None"
    assert parameter["AllowedValues"] == ["None", "PublishedVersions"]


def test_by_default_no_version_no_alias_and_the_queues_invoke_the_functions(
    translated: Template,
) -> None:
    assert not resources_of_type(translated, "AWS::Lambda::Version")
    assert not resources_of_type(translated, "AWS::Lambda::Alias")
    assert _mapping_targets(translated) == {
        "FetchFunctionIngest": {"FetchFunction"},
        "EnrichFunctionEnrich": {"EnrichFunction"},
        "PollFunctionPoll": {"PollFunction"},
    }
    for function_id in SNAPSTART_FUNCTIONS:
        assert _apply_on(translated, function_id, {"SnapStart": "None"}) == "None"


def test_with_snapstart_each_function_publishes_a_version_behind_the_alias_live(
    with_snapstart: Template,
) -> None:
    aliases = resources_of_type(with_snapstart, "AWS::Lambda::Alias")
    versions = resources_of_type(with_snapstart, "AWS::Lambda::Version")

    assert {referenced_ids(a["Properties"]["FunctionName"]).pop() for a in aliases.values()} == (
        SNAPSTART_FUNCTIONS
    )
    assert {a["Properties"]["Name"] for a in aliases.values()} == {"live"}
    for alias in aliases.values():
        (version_id,) = referenced_ids(alias["Properties"]["FunctionVersion"])
        assert version_id in versions
    # one snapshot kept per function: a replaced version is deleted, not retained
    assert {v.get("DeletionPolicy") for v in versions.values()} == {"Delete"}
    for function_id in SNAPSTART_FUNCTIONS:
        applied = _apply_on(with_snapstart, function_id, {"SnapStart": "PublishedVersions"})
        assert applied == "PublishedVersions"


def test_with_snapstart_the_queues_invoke_the_alias(with_snapstart: Template) -> None:
    assert _mapping_targets(with_snapstart) == {
        "FetchFunctionIngest": {"FetchFunctionAliaslive"},
        "EnrichFunctionEnrich": {"EnrichFunctionAliaslive"},
        "PollFunctionPoll": {"PollFunction"},  # no SnapStart: a schedule-driven trickle
    }


def test_a_configuration_change_publishes_a_new_version(sam_template: Template) -> None:
    """All properties count (not only the code): else the alias would keep the old settings."""
    changed = {**sam_template, "Resources": dict(sam_template["Resources"])}
    fetch = dict(changed["Resources"]["FetchFunction"])
    fetch["Properties"] = {**fetch["Properties"], "Timeout": 61}
    changed["Resources"]["FetchFunction"] = fetch

    def version_ids(template: Template) -> set[str]:
        translated = translate(template, {"SnapStart": "PublishedVersions"})
        return set(resources_of_type(translated, "AWS::Lambda::Version"))

    before, after = version_ids(sam_template), version_ids(changed)
    assert {v for v in before if v.startswith("FetchFunction")} != {
        v for v in after if v.startswith("FetchFunction")
    }
    assert {v for v in before if v.startswith("Enrich")} == {
        v for v in after if v.startswith("Enrich")
    }
