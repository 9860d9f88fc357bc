"""``--parameter-overrides``: template parameters for a local run, meaning what they mean to
``sam deploy``.

Accepted forms, as ``sam deploy`` accepts them: ``Key=Value`` and
``ParameterKey=Key,ParameterValue=Value``, several in one option value (separated by spaces,
quoted values kept whole) or in repeated options. Every key must be a parameter of the
template, and a value must satisfy the parameter's ``AllowedValues``, ``AllowedPattern`` and
``MinValue``/``MaxValue``: CloudFormation refuses the stack otherwise, and moto does not check.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

_LONG_FORM = re.compile(r"^ParameterKey=(?P<key>[^,]+),ParameterValue=(?P<value>.*)$", re.DOTALL)


class ParameterError(ValueError):
    """An override that ``sam deploy`` (or CloudFormation) would refuse."""


def parse_overrides(values: Iterable[str]) -> dict[str, str]:
    """``["A=1 B='x y'", "ParameterKey=C,ParameterValue=2"]`` ->
    ``{"A": "1", "B": "x y", "C": "2"}``."""
    overrides: dict[str, str] = {}
    for value in values:
        try:
            tokens = shlex.split(value)
        except ValueError as exc:
            raise ParameterError(f"cannot read {value!r}: {exc}") from exc
        for token in tokens:
            key, item = _pair(token)
            overrides[key] = item
    return overrides


def _pair(token: str) -> tuple[str, str]:
    long_form = _LONG_FORM.match(token)
    if long_form:
        return long_form["key"], long_form["value"]
    key, sep, value = token.partition("=")
    if not sep or not key:
        raise ParameterError(
            f"{token!r} is not Key=Value (or ParameterKey=Key,ParameterValue=Value)"
        )
    return key, value


def check_overrides(template: Mapping[str, Any], overrides: Mapping[str, str]) -> None:
    """Raise :class:`ParameterError` for a key the template lacks or a value it refuses."""
    parameters: Mapping[str, Any] = template.get("Parameters") or {}
    for key, value in overrides.items():
        definition = parameters.get(key)
        if not isinstance(definition, Mapping):
            known = ", ".join(sorted(parameters)) or "none"
            raise ParameterError(f"{key} is not a parameter of the template (it has: {known})")
        problem = _refusal(definition, value)
        if problem:
            raise ParameterError(f"{key}={value!r}: {problem}")


def _refusal(definition: Mapping[str, Any], value: str) -> str | None:
    allowed = definition.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        return "must be one of " + ", ".join(str(v) for v in allowed)
    pattern = definition.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), value):
        return f"must match {pattern}"
    if definition.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "must be a number"
        low, high = definition.get("MinValue"), definition.get("MaxValue")
        if low is not None and number < float(low):
            return f"must be at least {low}"
        if high is not None and number > float(high):
            return f"must be at most {high}"
    return None


def resolve_overrides(template: Mapping[str, Any], values: Iterable[str] | None) -> dict[str, str]:
    """Parse and check ``--parameter-overrides`` values against ``template``."""
    overrides = parse_overrides(values or [])
    check_overrides(template, overrides)
    return overrides
