"""What CloudFormation receives after the SAM transform (aws-sam-translator, as `sam deploy`)."""

from __future__ import annotations

from typing import Any

from .cfn import Template, referenced_ids, resources_of_type


def _mappings(translated: Template) -> dict[str, dict[str, Any]]:
    return {
        next(iter(referenced_ids(m["Properties"]["FunctionName"]))): m["Properties"]
        for m in resources_of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    }


def test_event_source_mappings_keep_partial_batch_responses(translated: Template) -> None:
    # GIVEN the event source mappings SAM generates from the SQS events
    mappings = _mappings(translated)
    # THEN each function has one, with per-record failure reporting and bounded concurrency
    assert set(mappings) == {"FetchFunction", "EnrichFunction", "PollFunction"}
    for props in mappings.values():
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["ScalingConfig"]["MaximumConcurrency"] >= 2
        assert 1 <= props["BatchSize"] <= 10


def test_each_mapping_reads_the_queue_its_function_is_allowed_to_consume(
    translated: Template,
) -> None:
    # GIVEN each mapping's queue and the function's role
    for fn_id, props in _mappings(translated).items():
        (queue_id,) = referenced_ids(props["EventSourceArn"])
        function = translated["Resources"][fn_id]["Properties"]
        (role_id,) = referenced_ids(function["Role"])
        statements = translated["Resources"][role_id]["Properties"]["Policies"][0][
            "PolicyDocument"
        ]["Statement"]
        # WHEN the role's SQS receive grants are collected
        receivable = {
            target
            for s in statements
            if "sqs:ReceiveMessage" in s["Action"]
            for target in referenced_ids(s["Resource"])
        }
        # THEN the role may receive from exactly that queue (the mapping polls with it)
        assert receivable == {queue_id}, fn_id


def test_sam_generates_no_role_of_its_own(translated: Template) -> None:
    # GIVEN the roles after translation THEN they are exactly the ones declared in the template
    assert set(resources_of_type(translated, "AWS::IAM::Role")) == {
        "FetchFunctionRole",
        "EnrichFunctionRole",
        "PollFunctionRole",
    }


def test_functions_keep_logging_config_tracing_and_the_shared_layer(translated: Template) -> None:
    # GIVEN the translated functions
    functions = resources_of_type(translated, "AWS::Lambda::Function")
    assert set(functions) == {
        "FetchFunction",
        "EnrichFunction",
        "PollFunction",
    }
    for fn_id, fn in functions.items():
        props = fn["Properties"]
        # THEN each logs to its group, traces, runs python3.12 and loads the layer
        assert referenced_ids(props["LoggingConfig"]["LogGroup"]) == {
            fn_id.replace("Function", "LogGroup")
        }
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Runtime"] == "python3.12"
        # (SAM renames a layer version to SharedLayer<content hash>)
        (layer_id,) = {i for layer in props["Layers"] for i in referenced_ids(layer)}
        assert layer_id.startswith("SharedLayer")
        assert translated["Resources"][layer_id]["Type"] == "AWS::Lambda::LayerVersion"


def test_the_source_schedule_is_an_eventbridge_rule_on_the_poll_function(
    translated: Template,
) -> None:
    # GIVEN the EventBridge rules SAM generates from Schedule events
    rules = resources_of_type(translated, "AWS::Events::Rule")
    # THEN one rule, on the SourcePollSchedule parameter, targets PollFunction
    (rule,) = rules.values()
    props = rule["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "SourcePollSchedule"}
    assert {i for target in props["Targets"] for i in referenced_ids(target["Arn"])} == {
        "PollFunction"
    }
