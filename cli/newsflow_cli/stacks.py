"""What a created stack holds, read back from CloudFormation and Lambda (local or on AWS).

The same reader serves moto's CloudFormation and a deployed stack: outputs, the functions with
their deployed configuration (handler, timeout, memory, environment) and their SQS event
sources. Only the local code folder of a function comes from the template, because that is
where the handler lives on this disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsflow_cli import sam_template


@dataclass(frozen=True)
class EventSource:
    """One SQS event source mapping, as Lambda would run it."""

    queue_arn: str
    queue_url: str
    batch_size: int
    function_response_types: tuple[str, ...]
    enabled: bool = True
    mapping_uuid: str = ""
    batching_window_seconds: float = 0.0  # MaximumBatchingWindowInSeconds
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class FunctionSpec:
    """A function of the stack, enough to run its handler in this process."""

    logical_id: str
    function_name: str
    function_arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    code_dir: Path | None
    layer_dirs: tuple[Path, ...] = ()
    event_sources: tuple[EventSource, ...] = ()

    @property
    def short_name(self) -> str:
        """``FetchFunction`` -> ``fetch``: the name ``newsflow invoke`` accepts."""
        name = self.logical_id
        if name.endswith("Function") and len(name) > len("Function"):
            name = name[: -len("Function")]
        return name.lower()


@dataclass(frozen=True)
class StackDescription:
    stack_name: str
    status: str
    outputs: dict[str, str]
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (type, physical)
    functions: tuple[FunctionSpec, ...] = ()

    def function(self, name: str) -> FunctionSpec:
        """Find a function by logical id or short name (``fetch``), case-insensitively."""
        wanted = name.lower()
        for spec in self.functions:
            if wanted in (spec.logical_id.lower(), spec.short_name, spec.function_name.lower()):
                return spec
        known = ", ".join(spec.short_name for spec in self.functions) or "none"
        raise KeyError(f"no function '{name}' in stack {self.stack_name} (known: {known})")


def description_to_dict(description: StackDescription) -> dict[str, Any]:
    """JSON-ready form (for the local stack's state file)."""
    return {
        "stack_name": description.stack_name,
        "status": description.status,
        "outputs": description.outputs,
        "resources": {k: list(v) for k, v in description.resources.items()},
        "functions": [
            {
                **{k: v for k, v in vars(spec).items() if k not in ("code_dir", "layer_dirs")},
                "code_dir": str(spec.code_dir) if spec.code_dir else None,
                "layer_dirs": [str(p) for p in spec.layer_dirs],
                "event_sources": [
                    {
                        **vars(source),
                        "function_response_types": list(source.function_response_types),
                    }
                    for source in spec.event_sources
                ],
            }
            for spec in description.functions
        ],
    }


def description_from_dict(data: dict[str, Any]) -> StackDescription:
    functions = []
    for raw in data.get("functions", []):
        spec = dict(raw)
        spec["code_dir"] = Path(spec["code_dir"]) if spec.get("code_dir") else None
        spec["layer_dirs"] = tuple(Path(p) for p in spec.get("layer_dirs", []))
        spec["event_sources"] = tuple(
            EventSource(
                **{**source, "function_response_types": tuple(source["function_response_types"])}
            )
            for source in spec.get("event_sources", [])
        )
        functions.append(FunctionSpec(**spec))
    return StackDescription(
        stack_name=data["stack_name"],
        status=data.get("status", ""),
        outputs=dict(data.get("outputs", {})),
        resources={k: (v[0], v[1]) for k, v in data.get("resources", {}).items()},
        functions=tuple(functions),
    )


def _queue_url_for_arn(sqs: Any, arn: str) -> str:
    _, _, _, _, account, name = arn.split(":", 5)
    response = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
    return str(response["QueueUrl"])


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def describe_stack(
    *,
    cloudformation: Any,
    lambda_client: Any,
    sqs: Any,
    stack_name: str,
    template: sam_template.TemplateDict | None = None,
    base_dir: Path | None = None,
) -> StackDescription:
    """Read outputs, resources and functions of ``stack_name``.

    Raises botocore's ``ClientError`` when the stack does not exist (callers turn it into a
    one-line message).
    """
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    summaries = _paginate(
        cloudformation, "list_stack_resources", "StackResourceSummaries", StackName=stack_name
    )
    found = {
        s["LogicalResourceId"]: (s["ResourceType"], s.get("PhysicalResourceId", ""))
        for s in summaries
        if s.get("LogicalResourceId")  # moto lists a nameless entry for skipped resources
    }
    functions = []
    for logical_id, (kind, physical) in found.items():
        if kind != "AWS::Lambda::Function" or not physical:
            continue
        functions.append(
            _describe_function(lambda_client, sqs, logical_id, physical, template, base_dir)
        )
    return StackDescription(
        stack_name=stack_name,
        status=str(stack.get("StackStatus", "")),
        outputs=outputs,
        resources=found,
        functions=tuple(sorted(functions, key=lambda f: f.logical_id)),
    )


def _describe_function(
    lambda_client: Any,
    sqs: Any,
    logical_id: str,
    name: str,
    template: sam_template.TemplateDict | None,
    base_dir: Path | None,
) -> FunctionSpec:
    config = lambda_client.get_function_configuration(FunctionName=name)
    mappings = _paginate(
        lambda_client, "list_event_source_mappings", "EventSourceMappings", FunctionName=name
    )
    sources = []
    for mapping in mappings:
        arn = str(mapping.get("EventSourceArn", ""))
        if not arn.startswith("arn:") or ":sqs:" not in arn:
            continue
        sources.append(
            EventSource(
                queue_arn=arn,
                queue_url=_queue_url_for_arn(sqs, arn),
                batch_size=int(mapping.get("BatchSize") or 10),
                function_response_types=tuple(mapping.get("FunctionResponseTypes") or ()),
                enabled=str(mapping.get("State", "Enabled")) in ("Enabled", "Enabling", "Creating"),
                mapping_uuid=str(mapping.get("UUID", "")),
                batching_window_seconds=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
                maximum_concurrency=(
                    int((mapping.get("ScalingConfig") or {}).get("MaximumConcurrency") or 0) or None
                ),
            )
        )
    code_dir = layer_dirs = None
    if template is not None and base_dir is not None:
        code_dir = sam_template.function_code_dir(template, base_dir, logical_id)
        layer_dirs = sam_template.function_layer_dirs(template, base_dir, logical_id)
    return FunctionSpec(
        logical_id=logical_id,
        function_name=str(config["FunctionName"]),
        function_arn=str(config["FunctionArn"]),
        handler=str(config.get("Handler", "")),
        runtime=str(config.get("Runtime", "")),
        timeout=int(config.get("Timeout") or 3),
        memory_size=int(config.get("MemorySize") or 128),
        # Lambda's variables are text; moto keeps a Number parameter's Ref as a number.
        environment={
            str(key): str(value)
            for key, value in ((config.get("Environment") or {}).get("Variables") or {}).items()
        },
        code_dir=code_dir,
        layer_dirs=tuple(layer_dirs or ()),
        event_sources=tuple(sources),
    )
