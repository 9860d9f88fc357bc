"""Target selection and the local stack's state file (no stack needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsflow_cli.local_stack import local_session
from newsflow_cli.page_server import PageServer
from newsflow_cli.stacks import (
    EventSource,
    FunctionSpec,
    StackDescription,
    description_from_dict,
    description_to_dict,
)
from newsflow_cli.targets import Target, local_overrides, resolve_target, write_state


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


def test_a_stack_description_survives_the_state_file(tmp_path: Path) -> None:
    # GIVEN a described stack with one SQS-triggered function
    source = EventSource(
        queue_arn="arn:aws:sqs:us-east-1:123456789012:ingest",
        queue_url="http://127.0.0.1:5000/123456789012/ingest",
        batch_size=10,
        function_response_types=("ReportBatchItemFailures",),
        mapping_uuid="u-1",
    )
    spec = FunctionSpec(
        logical_id="FetchFunction",
        function_name="s-FetchFunction-1",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:s-FetchFunction-1",
        handler="app.lambda_handler",
        runtime="python3.12",
        timeout=60,
        memory_size=1024,
        environment={"ARTICLES_BUCKET": "b"},
        code_dir=tmp_path / "functions" / "fetch",
        layer_dirs=(tmp_path / "shared",),
        event_sources=(source,),
    )
    description = StackDescription(
        stack_name="s",
        status="CREATE_COMPLETE",
        outputs={"IngestQueueUrl": source.queue_url},
        resources={"FetchFunction": ("AWS::Lambda::Function", "s-FetchFunction-1")},
        functions=(spec,),
    )
    # WHEN it is written as JSON and read back (as another CLI process does)
    restored = description_from_dict(json.loads(json.dumps(description_to_dict(description))))
    # THEN it is the same description
    assert restored == description
    assert restored.function("fetch") == spec


def test_the_state_file_leads_back_to_a_running_local_stack(tmp_path: Path) -> None:
    # GIVEN something answering on a loopback port, recorded as a local stack's endpoint
    description = StackDescription(
        stack_name="newsflow-local", status="CREATE_COMPLETE", outputs={"IngestQueueUrl": "q"}
    )
    with PageServer(root=tmp_path) as listener:
        written = Target(
            kind="local",
            description=description,
            region="eu-west-1",
            session=local_session("eu-west-1"),
            endpoint_url=listener.base_url,
            overrides={"NEWSFLOW_ALLOW_LOOPBACK": "true"},
        )
        write_state(written, tmp_path / ".newsflow", page_server_url="http://127.0.0.1:1")
        # WHEN another process resolves its target without --stack
        target = resolve_target(None, state_dir=tmp_path / ".newsflow")
    # THEN it talks to that endpoint, with the same stack and function overrides
    assert target.kind == "local"
    assert target.endpoint_url == listener.base_url
    assert target.description == description
    assert target.overrides == {"NEWSFLOW_ALLOW_LOOPBACK": "true"}
    assert target.runtime_env()["AWS_ENDPOINT_URL"] == listener.base_url
    assert target.extra["page_server_url"] == "http://127.0.0.1:1"


def test_a_service_served_apart_is_reached_there_by_the_cli_and_the_functions(
    tmp_path: Path,
) -> None:
    # GIVEN a local stack whose DynamoDB is served by a server of its own
    description = StackDescription(stack_name="local", status="CREATE_COMPLETE", outputs={})
    with PageServer(root=tmp_path) as main, PageServer(root=tmp_path) as tables:
        written = Target(
            kind="local",
            description=description,
            region="us-east-1",
            session=local_session("us-east-1"),
            endpoint_url=main.base_url,
            endpoints={"dynamodb": tables.base_url},
        )
        write_state(written, tmp_path / ".newsflow")
        # WHEN another CLI process resolves the target from the state file
        target = resolve_target(None, state_dir=tmp_path / ".newsflow")
    # THEN its DynamoDB client goes to that server and every other client to the main one
    assert target.client("dynamodb").meta.endpoint_url == tables.base_url
    assert target.client("sqs").meta.endpoint_url == main.base_url
    assert target.client("s3").meta.endpoint_url == main.base_url
    # AND the functions are told the same through the environment botocore reads
    env = target.runtime_env()
    assert env["AWS_ENDPOINT_URL"] == main.base_url
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == tables.base_url
