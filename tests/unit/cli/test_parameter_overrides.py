"""--parameter-overrides: read as sam deploy reads it, checked against the template."""

from __future__ import annotations

import pytest

from newsflow_cli.parameters import ParameterError, parse_overrides, resolve_overrides

TEMPLATE = {
    "Parameters": {
        "EnrichBackend": {"Type": "String", "Default": "local", "AllowedValues": ["local", "auto"]},
        "HostRequestsPerSecond": {
            "Type": "Number",
            "Default": 1,
            "MinValue": 0.01,
            "MaxValue": 100,
        },
        "Stage": {"Type": "String", "AllowedPattern": "[a-z0-9]{1,16}"},
        "UserAgent": {"Type": "String"},
    },
    "Resources": {},
}


def test_both_sam_forms_in_one_value_or_in_repeated_options() -> None:
    # GIVEN overrides written the ways sam deploy accepts them
    values = [
        "HostRequestsPerSecond=5 EnrichBackend=auto",
        "ParameterKey=Stage,ParameterValue=dev2",
        "UserAgent='newsflow/1.0 (+https://example.org/bot)'",
    ]
    # WHEN they are read
    overrides = resolve_overrides(TEMPLATE, values)
    # THEN each key has its value, quoted spaces kept
    assert overrides == {
        "HostRequestsPerSecond": "5",
        "EnrichBackend": "auto",
        "Stage": "dev2",
        "UserAgent": "newsflow/1.0 (+https://example.org/bot)",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Nope=1", "not a parameter of the template"),
        ("EnrichBackend=spacy", "must be one of local, auto"),
        ("HostRequestsPerSecond=0", "must be at least 0.01"),
        ("HostRequestsPerSecond=fast", "must be a number"),
        ("Stage=Prod!", "must match"),
    ],
)
def test_a_value_cloudformation_would_refuse_is_refused_here(value: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        resolve_overrides(TEMPLATE, [value])


@pytest.mark.parametrize("value", ["JustAKey", "=1", "A='unclosed"])
def test_a_malformed_override_is_refused(value: str) -> None:
    with pytest.raises(ParameterError):
        parse_overrides([value])


def test_no_overrides_is_no_parameters() -> None:
    assert resolve_overrides(TEMPLATE, None) == {}
