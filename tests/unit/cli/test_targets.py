"""Target selection details that need no stack."""

from __future__ import annotations

import pytest

from newsflow_cli.targets import local_overrides


@pytest.mark.parametrize(
    ("caller", "expected"),
    [({}, "true"), ({"NEWSFLOW_ALLOW_LOOPBACK": "False "}, "false"), ({"X": "1"}, "true")],
)
def test_the_local_stack_allows_loopback_unless_told_false(
    caller: dict[str, str], expected: str
) -> None:
    # GIVEN the caller's environment / WHEN the function overrides are built
    # THEN loopback is allowed except when the caller explicitly set it to false
    assert local_overrides(caller) == {"NEWSFLOW_ALLOW_LOOPBACK": expected}
