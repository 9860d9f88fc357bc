"""Reading ``template.yaml``: CloudFormation short tags, local code locations, translation.

The template is the single source of truth for the local stack, so nothing here knows a resource
name: it only understands the *kinds* of resources that carry local code (functions and layers)
and hands everything else to aws-sam-translator and then to moto's CloudFormation untouched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TemplateDict = dict[str, Any]

# Properties that may point at a local folder, per resource type. Each becomes an S3 location
# before the template is handed to CloudFormation (as `sam package` / `sam deploy` would do).
_SAM_FUNCTION = "AWS::Serverless::Function"
_SAM_LAYER = "AWS::Serverless::LayerVersion"
_CODE_PROPERTIES = {
    _SAM_FUNCTION: "CodeUri",
    _SAM_LAYER: "ContentUri",
    "AWS::Lambda::Function": "Code",
    "AWS::Lambda::LayerVersion": "Content",
}


class TemplateError(Exception):
    """The template cannot be read or translated; the message says where."""


class _CfnLoader(yaml.SafeLoader):
    """Safe YAML loader that understands ``!Ref``, ``!GetAtt``, ``!Sub`` and friends."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> TemplateDict:
    """Parse a CloudFormation/SAM YAML (or JSON) template into plain dictionaries."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return data


def resources(template: TemplateDict) -> dict[str, dict[str, Any]]:
    found = template.get("Resources") or {}
    return {k: v for k, v in found.items() if isinstance(v, dict)}


def _globals_function(template: TemplateDict) -> dict[str, Any]:
    value = (template.get("Globals") or {}).get("Function") or {}
    return value if isinstance(value, dict) else {}


def _is_local(location: object) -> bool:
    return isinstance(location, str) and not location.startswith("s3://")


@dataclass(frozen=True)
class CodeLocation:
    """A local folder that the template ships as Lambda code (function or layer)."""

    logical_id: str
    resource_type: str
    directory: Path


def local_code_locations(template: TemplateDict, base_dir: Path) -> list[CodeLocation]:
    """Every function/layer whose code is a local folder, with the folder resolved."""
    found: list[CodeLocation] = []
    global_code = _globals_function(template).get("CodeUri")
    for logical_id, resource in resources(template).items():
        kind = resource.get("Type", "")
        prop = _CODE_PROPERTIES.get(kind)
        if prop is None:
            continue
        props = resource.get("Properties") or {}
        location = props.get(prop)
        if location is None and kind == _SAM_FUNCTION and "InlineCode" not in props:
            location = global_code
        if _is_local(location):
            found.append(CodeLocation(logical_id, kind, (base_dir / str(location)).resolve()))
    return found


def function_code_dir(template: TemplateDict, base_dir: Path, logical_id: str) -> Path | None:
    for location in local_code_locations(template, base_dir):
        if location.logical_id == logical_id and location.resource_type in (
            _SAM_FUNCTION,
            "AWS::Lambda::Function",
        ):
            return location.directory
    return None


def function_layer_dirs(template: TemplateDict, base_dir: Path, logical_id: str) -> list[Path]:
    """Local folders of the layers a function uses (its own ``Layers`` plus the Globals ones).

    A layer built with ``BuildMethod: python3.x`` copies its folder into ``python/``, so the
    folder itself goes on ``sys.path``; a prebuilt layer folder with ``python/`` inside uses that.
    """
    layer_dirs = {
        loc.logical_id: loc.directory
        for loc in local_code_locations(template, base_dir)
        if loc.resource_type in (_SAM_LAYER, "AWS::Lambda::LayerVersion")
    }
    result: list[Path] = []
    for layer_id in function_layer_ids(template, logical_id):
        if layer_id in layer_dirs:
            folder = layer_dirs[layer_id]
            python_dir = folder / "python"
            result.append(python_dir if python_dir.is_dir() else folder)
    return result


def function_layer_ids(template: TemplateDict, logical_id: str) -> list[str]:
    """Logical ids of the template's layers a function uses (``Ref``s in its ``Layers`` and the
    Globals ones), in order: ``sam build`` puts each in ``.aws-sam/build/<id>/python``."""
    resource = resources(template).get(logical_id) or {}
    refs = list(_globals_function(template).get("Layers") or [])
    refs += list((resource.get("Properties") or {}).get("Layers") or [])
    ids: list[str] = []
    for ref in refs:
        target = ref.get("Ref") if isinstance(ref, dict) else None
        if isinstance(target, str) and target in resources(template):
            ids.append(target)
    return ids


def with_uploaded_code(
    template: TemplateDict, base_dir: Path, upload: Callable[[CodeLocation], tuple[str, str]]
) -> TemplateDict:
    """Copy of ``template`` where each local code folder is replaced by its uploaded S3 object.

    ``upload`` receives the location and returns ``(bucket, key)``.
    """
    result = copy.deepcopy(template)
    res = resources(result)
    uploaded: dict[Path, tuple[str, str]] = {}

    def s3_for(location: CodeLocation) -> tuple[str, str]:
        if location.directory not in uploaded:
            uploaded[location.directory] = upload(location)
        return uploaded[location.directory]

    for location in local_code_locations(template, base_dir):
        bucket, key = s3_for(location)
        props = res[location.logical_id].setdefault("Properties", {})
        prop = _CODE_PROPERTIES[location.resource_type]
        if location.resource_type.startswith("AWS::Serverless::"):
            props[prop] = f"s3://{bucket}/{key}"
        else:
            props[prop] = {"S3Bucket": bucket, "S3Key": key}
    global_fn = _globals_function(result)
    if _is_local(global_fn.get("CodeUri")):
        # Every function using the global CodeUri now has its own; the global one is obsolete.
        del global_fn["CodeUri"]
    return result


def translate(template: TemplateDict, region: str) -> TemplateDict:
    """Run aws-sam-translator offline (no IAM lookups: managed policies resolve to nothing)."""
    if "Transform" not in template:
        return copy.deepcopy(template)
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # The translator only needs a region (for ARNs); no call leaves this process.
    session = boto3.Session(region_name=region)
    translator = Translator(None, Parser(), boto_session=session)
    prepared = decide_before_sam(template, parameter_values(template, {}, {}))
    try:
        result: TemplateDict = translator.translate(
            prepared, parameter_values={}, get_managed_policy_map=dict
        )
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes) or str(exc)
        raise TemplateError(f"SAM translation failed: {causes}") from exc
    return result


def resource_types(template: TemplateDict) -> Iterator[tuple[str, str]]:
    for logical_id, resource in resources(template).items():
        yield logical_id, str(resource.get("Type", ""))


# --------------------------------------------------------------------------- conditions

_NO_VALUE = {"Ref": "AWS::NoValue"}


class _UnresolvableError(Exception):
    pass


class Conditions:
    """The template's ``Conditions``, decided from parameter values (pseudo ones included)."""

    def __init__(self, template: TemplateDict, parameters: dict[str, Any]) -> None:
        self._definitions = template.get("Conditions") or {}
        self._parameters = parameters
        self._values: dict[str, bool] = {}

    def value(self, name: str) -> bool:
        """Raises ``_UnresolvableError`` when the condition depends on something unknown."""
        if name not in self._values:
            if name not in self._definitions:
                raise _UnresolvableError(name)
            self._values[name] = bool(self._evaluate(self._definitions[name]))
        return self._values[name]

    def _evaluate(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" and isinstance(arg, str):
                if arg in self._parameters:
                    return self._parameters[arg]
                raise _UnresolvableError(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.value(arg)
            if key == "Fn::Equals":
                left, right = (self._evaluate(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::And":
                return all(self._evaluate(a) for a in arg)
            if key == "Fn::Or":
                return any(self._evaluate(a) for a in arg)
            raise _UnresolvableError(key)
        if isinstance(node, (str, int, float, bool)):
            return node
        raise _UnresolvableError(repr(node))

    def excluded_resources(self, template: TemplateDict) -> set[str]:
        """Logical ids whose ``Condition`` is false: CloudFormation does not create them."""
        excluded = set()
        for logical_id, resource in resources(template).items():
            name = resource.get("Condition")
            if isinstance(name, str):
                try:
                    if not self.value(name):
                        excluded.add(logical_id)
                except _UnresolvableError:
                    continue
        return excluded


def resolve_conditions(template: TemplateDict, parameters: dict[str, Any]) -> TemplateDict:
    """Copy of ``template`` with every ``Fn::If`` decided and ``AWS::NoValue`` removed.

    CloudFormation does this itself; moto's CloudFormation leaves ``None`` in lists (an IAM role
    whose ``Policies`` hold ``!If [Cond, {...}, !Ref AWS::NoValue]`` fails to create), so the
    local deployer decides the conditions first, from the parameter values the stack will get.
    An ``Fn::If`` whose condition cannot be decided here is left for moto.
    """
    conditions = Conditions(template, parameters)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1 and "Fn::If" in node:
                arg = node["Fn::If"]
                if isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str):
                    try:
                        chosen = arg[1] if conditions.value(arg[0]) else arg[2]
                    except _UnresolvableError:
                        pass
                    else:
                        return walk(chosen)
            result = {}
            for key, value in node.items():
                walked = walk(value)
                if walked != _NO_VALUE:
                    result[key] = walked
            return result
        if isinstance(node, list):
            return [walked for walked in map(walk, node) if walked != _NO_VALUE]
        return node

    result = copy.deepcopy(template)
    for section in ("Resources", "Outputs"):
        if isinstance(result.get(section), dict):
            result[section] = walk(result[section])
    return result


# SAM function properties the SAM transform resolves itself (an alias name becomes a logical id),
# so it refuses an Fn::If there. On AWS the AWS::LanguageExtensions transform, listed before
# SAM's, decides those conditions first; these do the same before translating here.
_DECIDED_BEFORE_SAM = ("AutoPublishAlias", "VersionDeletionPolicy")


def decide_before_sam(template: TemplateDict, parameters: dict[str, Any]) -> TemplateDict:
    """Copy of ``template`` whose functions' ``AutoPublishAlias`` and ``VersionDeletionPolicy``
    ``Fn::If``s are decided from ``parameters`` (an ``AWS::NoValue`` result removes the key)."""
    result = copy.deepcopy(template)
    conditions = Conditions(result, parameters)
    for resource in resources(result).values():
        if resource.get("Type") != _SAM_FUNCTION:
            continue
        props = resource.get("Properties") or {}
        for key in _DECIDED_BEFORE_SAM:
            value = props.get(key)
            if not (isinstance(value, dict) and list(value) == ["Fn::If"]):
                continue
            name, when_true, when_false = value["Fn::If"]
            chosen = when_true if conditions.value(name) else when_false
            if chosen == _NO_VALUE:
                del props[key]
            else:
                props[key] = chosen
    return result


def parameter_values(
    template: TemplateDict, overrides: dict[str, str], pseudo: dict[str, str]
) -> dict[str, Any]:
    """Template parameter defaults, then ``overrides``, then pseudo parameters."""
    values: dict[str, Any] = {}
    for name, definition in (template.get("Parameters") or {}).items():
        if isinstance(definition, dict) and "Default" in definition:
            values[name] = definition["Default"]
    values.update(overrides)
    values.update(pseudo)
    return values
