"""Rules the template must keep: failure handling, least privilege, encryption, operations."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from newsflow.settings import FULL_VCPU_MEMORY_MB, EnrichSettings

from .cfn import Template, referenced_ids, resources_of_type

SQS_QUEUE = "AWS::SQS::Queue"
FUNCTION = "AWS::Serverless::Function"

# Services whose actions AWS authorises on no resource ARN at all: "*" is their only scope.
NO_RESOURCE_LEVEL_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "comprehend:DetectEntities",
    "comprehend:DetectSentiment",
    "comprehend:DetectDominantLanguage",
    "comprehend:BatchDetectEntities",
    "comprehend:BatchDetectSentiment",
    "comprehend:BatchDetectDominantLanguage",
}


def _sqs_events(template: Template) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for fn_id, fn in resources_of_type(template, FUNCTION).items():
        for event_id, event in (fn["Properties"].get("Events") or {}).items():
            if event["Type"] == "SQS":
                found.append((fn_id, event_id, event["Properties"]))
    return found


def _function_timeout(template: Template, fn_id: str) -> int:
    props = template["Resources"][fn_id]["Properties"]
    timeout = props.get("Timeout", template.get("Globals", {}).get("Function", {}).get("Timeout"))
    return int(timeout if timeout is not None else 3)


def _default(template: Template, value: Any) -> Any:
    if isinstance(value, dict) and "Ref" in value:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


def _statements(template: Template) -> list[tuple[str, dict[str, Any], bool]]:
    """Every IAM statement with its resource and whether it sits inside an Fn::If."""
    found: list[tuple[str, dict[str, Any], bool]] = []

    def walk_policies(owner: str, policies: list[Any], conditional: bool) -> None:
        for policy in policies:
            if isinstance(policy, dict) and "Fn::If" in policy:
                _, when_true, when_false = policy["Fn::If"]
                walk_policies(owner, [when_true, when_false], True)
                continue
            if not isinstance(policy, dict) or "PolicyDocument" not in policy:
                continue
            statements = policy["PolicyDocument"]["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                found.append((owner, statement, conditional))

    for res_id, res in template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            walk_policies(res_id, props.get("Policies", []), False)
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            walk_policies(res_id, [props], False)
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ queues and events


def _missing_batch_failures(template: Template) -> list[str]:
    return [
        f"{fn}.{ev}"
        for fn, ev, props in _sqs_events(template)
        if "ReportBatchItemFailures" not in props.get("FunctionResponseTypes", [])
    ]


def test_every_sqs_event_reports_batch_item_failures(sam_template: Template) -> None:
    # GIVEN the SQS event sources of every function
    # WHEN their response types are read
    missing = _missing_batch_failures(sam_template)
    # THEN each one reports per-record failures, so one bad record never fails its batch-mates
    assert _sqs_events(sam_template), "the template has no SQS event source"
    assert missing == []


def test_an_event_without_batch_item_failures_is_caught(sam_template: Template) -> None:
    # GIVEN a copy whose fetch event lost ReportBatchItemFailures
    broken = copy.deepcopy(sam_template)
    del broken["Resources"]["FetchFunction"]["Properties"]["Events"]["Ingest"]["Properties"][
        "FunctionResponseTypes"
    ]
    # WHEN checked THEN the rule names it
    assert _missing_batch_failures(broken) == ["FetchFunction.Ingest"]


def test_every_consumed_queue_redrives_to_a_dlq_in_the_stack(sam_template: Template) -> None:
    # GIVEN the queues that functions consume
    queues = resources_of_type(sam_template, SQS_QUEUE)
    consumed = {referenced_ids(props["Queue"]).pop() for _, _, props in _sqs_events(sam_template)}
    for queue_id in consumed:
        # WHEN the redrive policy of each is read
        redrive = queues[queue_id]["Properties"].get("RedrivePolicy")
        # THEN it names a dead-letter queue of this stack and a receive limit
        assert redrive is not None, f"{queue_id} has no RedrivePolicy"
        (dlq_id,) = referenced_ids(redrive["deadLetterTargetArn"])
        assert dlq_id in queues and dlq_id != queue_id
        assert int(_default(sam_template, redrive["maxReceiveCount"])) >= 1


def test_every_queue_is_a_work_queue_with_redrive_or_a_dead_letter_queue(
    sam_template: Template,
) -> None:
    # GIVEN all queues and the set of dead-letter targets
    queues = resources_of_type(sam_template, SQS_QUEUE)
    dlqs = {
        dlq
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
        for dlq in referenced_ids(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
    }
    # WHEN queues are classified
    orphans = [
        q for q, res in queues.items() if q not in dlqs and "RedrivePolicy" not in res["Properties"]
    ]
    # THEN no queue can hold a poison message forever
    assert orphans == []


@pytest.mark.parametrize("queue_id", ["IngestDLQ", "EnrichDLQ"])
def test_dead_letter_queues_keep_messages_for_fourteen_days(
    sam_template: Template, queue_id: str
) -> None:
    # GIVEN a dead-letter queue WHEN its retention is read THEN it is the SQS maximum
    props = sam_template["Resources"][queue_id]["Properties"]
    assert int(props["MessageRetentionPeriod"]) == 14 * 24 * 3600


def _short_visibility(template: Template) -> list[str]:
    problems = []
    for fn_id, _, props in _sqs_events(template):
        (queue_id,) = referenced_ids(props["Queue"])
        visibility = int(template["Resources"][queue_id]["Properties"]["VisibilityTimeout"])
        timeout = _function_timeout(template, fn_id)
        if visibility < 6 * timeout:
            problems.append(f"{queue_id}: {visibility}s < 6 x {fn_id} {timeout}s")
    return problems


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout(
    sam_template: Template,
) -> None:
    # GIVEN each queue and the function that consumes it
    # WHEN its visibility timeout is compared with the function timeout
    # THEN a slow batch cannot reappear while it is still being processed (AWS guidance)
    assert _short_visibility(sam_template) == []


def test_a_function_timeout_raised_past_its_queue_is_caught(sam_template: Template) -> None:
    # GIVEN a copy where EnrichFunction may run 5 minutes but EnrichQueue hides for 12
    broken = copy.deepcopy(sam_template)
    broken["Resources"]["EnrichFunction"]["Properties"]["Timeout"] = 300
    # WHEN checked THEN the rule names the queue
    assert _short_visibility(broken) == ["EnrichQueue: 720s < 6 x EnrichFunction 300s"]


def test_no_sqs_triggered_function_has_a_function_level_dlq(sam_template: Template) -> None:
    # GIVEN the functions fed by SQS
    fed = {fn for fn, _, _ in _sqs_events(sam_template)}
    # WHEN their properties are read THEN none sets DeadLetterQueue (the queue's redrive owns it)
    assert all("DeadLetterQueue" not in sam_template["Resources"][fn]["Properties"] for fn in fed)


# ------------------------------------------------------------------ least privilege


def test_functions_use_the_stacks_own_roles_without_managed_policies(
    sam_template: Template,
) -> None:
    # GIVEN every function
    for fn_id, fn in resources_of_type(sam_template, FUNCTION).items():
        props = fn["Properties"]
        # WHEN its permissions are read
        (role_id,) = referenced_ids(props["Role"])
        role = sam_template["Resources"][role_id]
        # THEN it runs as a role of this stack that carries no (unscoped) managed policy
        assert role["Type"] == "AWS::IAM::Role"
        assert "Policies" not in props, f"{fn_id}: SAM policies would add a generated role"
        assert not role["Properties"].get("ManagedPolicyArns"), role_id


def _unscoped(template: Template) -> list[str]:
    problems = []
    for owner, statement, _ in _statements(template):
        actions = set(_as_list(statement["Action"]))
        resources = _as_list(statement["Resource"])
        if "*" in resources:
            # only actions without resource-level permissions may use "*"
            if not actions <= NO_RESOURCE_LEVEL_ACTIONS:
                problems.append(f"{owner}: {sorted(actions)} on '*'")
            continue
        for resource in resources:
            ids = referenced_ids(resource)
            if not ids or not ids <= set(template["Resources"]):
                problems.append(f"{owner}: {resource} is not a resource of this stack")
    return problems


def test_every_statement_is_scoped_to_stack_resources(translated: Template) -> None:
    # GIVEN every IAM statement CloudFormation will create
    assert _statements(translated)
    # WHEN each resource is checked
    # THEN it is a resource of this stack, or "*" only for services that offer no other scope
    assert _unscoped(translated) == []


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("*", "['s3:GetObject'] on '*'"),
        ("arn:aws:s3:::someone-elses-bucket/*", "is not a resource of this stack"),
    ],
)
def test_a_statement_outside_the_stack_is_caught(
    translated: Template, resource: str, expected: str
) -> None:
    # GIVEN a copy where the fetch role also reads some other S3 resource
    broken = copy.deepcopy(translated)
    statements = broken["Resources"]["FetchFunctionRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    statements.append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource})
    # WHEN checked THEN the rule reports it
    problems = _unscoped(broken)
    assert len(problems) == 1
    assert expected in problems[0]


def test_no_statement_allows_a_wildcard_action(translated: Template) -> None:
    # GIVEN every IAM statement
    wildcards = [
        (owner, action)
        for owner, statement, _ in _statements(translated)
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        if "*" in action
    ]
    # THEN none allows "*" or "service:*"
    assert wildcards == []


def test_comprehend_is_granted_only_when_the_enrich_backend_may_call_it(
    sam_template: Template,
) -> None:
    # GIVEN the statements that mention Comprehend
    comprehend = [
        (owner, conditional)
        for owner, statement, conditional in _statements(sam_template)
        if any(a.startswith("comprehend:") for a in _as_list(statement["Action"]))
    ]
    # WHEN their condition is read
    condition = sam_template["Conditions"]["UseComprehend"]
    # THEN they exist only for EnrichFunction and only under EnrichBackend comprehend or auto
    # (auto sends the languages the local model lacks to Comprehend)
    assert comprehend == [("EnrichFunctionRole", True)]
    assert condition == {
        "Fn::Or": [
            {"Fn::Equals": [{"Ref": "EnrichBackend"}, "comprehend"]},
            {"Fn::Equals": [{"Ref": "EnrichBackend"}, "auto"]},
        ]
    }
    policies = sam_template["Resources"]["EnrichFunctionRole"]["Properties"]["Policies"]
    assert any(p.get("Fn::If", [None])[0] == "UseComprehend" for p in policies)


def test_only_the_fetch_role_may_feed_the_enrich_queue(translated: Template) -> None:
    # GIVEN the statements that send to a queue, by the queue they send to
    senders: dict[str, set[str]] = {}
    for owner, statement, _ in _statements(translated):
        if "sqs:SendMessage" in _as_list(statement["Action"]):
            for queue in referenced_ids(statement["Resource"]):
                senders.setdefault(queue, set()).add(owner)
    # THEN the fetch stage is the only producer of the enrich queue inside the stack, and the
    # ingest queue is fed only by whoever is given the producers' policy (and by the fetch stage
    # re-sending a record it defers)
    assert senders == {
        "EnrichQueue": {"FetchFunctionRole"},
        "IngestQueue": {"IngestProducerPolicy", "PollFunctionRole", "FetchFunctionRole"},
        "SourcePollQueue": {"PollFunctionRole"},
    }


# ------------------------------------------------------------------ data at rest


def test_bucket_blocks_public_access_and_is_encrypted(sam_template: Template) -> None:
    # GIVEN the articles bucket
    props = sam_template["Resources"]["ArticlesBucket"]["Properties"]
    # THEN every public access path is closed, objects are encrypted and versioned
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["VersioningConfiguration"]["Status"] == "Enabled"


def test_bucket_policy_denies_requests_without_tls(sam_template: Template) -> None:
    # GIVEN the bucket policies of the stack
    policies = resources_of_type(sam_template, "AWS::S3::BucketPolicy").values()
    denies = [
        statement
        for policy in policies
        if referenced_ids(policy["Properties"]["Bucket"]) == {"ArticlesBucket"}
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    # THEN one denies every action without TLS, on the bucket and on its objects
    assert len(denies) == 1
    deny = denies[0]
    assert deny["Action"] in ("s3:*", ["s3:*"])
    resources = [str(r) for r in _as_list(deny["Resource"])]
    assert any("Fn::GetAtt" in r for r in resources)
    assert any("/*" in r for r in resources)


def test_raw_downloads_move_to_colder_storage(sam_template: Template) -> None:
    # GIVEN the bucket lifecycle rules
    rules = sam_template["Resources"]["ArticlesBucket"]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    raw = [r for r in rules if r.get("Prefix") == "raw/" and r["Status"] == "Enabled"]
    # THEN raw/ transitions to cheaper classes, the cheapest last
    assert len(raw) == 1
    classes = [
        t["StorageClass"]
        for t in sorted(raw[0]["Transitions"], key=lambda t: t["TransitionInDays"])
    ]
    assert classes[0] == "STANDARD_IA"
    assert classes[-1] in ("GLACIER", "GLACIER_IR", "DEEP_ARCHIVE")


@pytest.mark.parametrize(
    "queue_id",
    ["IngestQueue", "IngestDLQ", "EnrichQueue", "EnrichDLQ", "SourcePollQueue", "SourcePollDLQ"],
)
def test_queues_are_encrypted(sam_template: Template, queue_id: str) -> None:
    # GIVEN a queue WHEN its properties are read THEN server-side encryption is on
    props = sam_template["Resources"][queue_id]["Properties"]
    assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props


def test_every_queue_of_the_stack_is_covered_by_the_encryption_check(
    sam_template: Template,
) -> None:
    # GIVEN the queues of the template THEN they are exactly the ones checked above
    assert set(resources_of_type(sam_template, SQS_QUEUE)) == {
        "IngestQueue",
        "IngestDLQ",
        "EnrichQueue",
        "EnrichDLQ",
        "SourcePollQueue",
        "SourcePollDLQ",
    }


def test_table_is_encrypted_with_point_in_time_recovery(sam_template: Template) -> None:
    # GIVEN the articles table
    props = sam_template["Resources"]["ArticlesTable"]["Properties"]
    # THEN it is encrypted and can be restored to any second of the last 35 days
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


# ------------------------------------------------------------------ logs and alarms


def test_every_function_logs_to_its_own_group_with_retention(sam_template: Template) -> None:
    # GIVEN every function
    groups = resources_of_type(sam_template, "AWS::Logs::LogGroup")
    used = []
    for fn_id, fn in resources_of_type(sam_template, FUNCTION).items():
        # WHEN its logging configuration is read
        (group_id,) = referenced_ids(fn["Properties"]["LoggingConfig"]["LogGroup"])
        # THEN it names a log group of the stack that expires its events
        assert group_id in groups, fn_id
        assert groups[group_id]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        used.append(group_id)
    assert len(used) == len(set(used)), "functions share a log group"


def test_each_role_writes_only_to_its_functions_log_group(translated: Template) -> None:
    # GIVEN the log statements of each role
    writes = {
        owner: referenced_ids(statement["Resource"])
        for owner, statement, _ in _statements(translated)
        if "logs:PutLogEvents" in _as_list(statement["Action"])
    }
    # THEN each role writes to one group, its own function's
    assert writes == {
        "FetchFunctionRole": {"FetchLogGroup"},
        "EnrichFunctionRole": {"EnrichLogGroup"},
        "PollFunctionRole": {"PollLogGroup"},
    }


def _alarms(template: Template) -> list[dict[str, Any]]:
    return [a["Properties"] for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()]


def _alarm_targets(template: Template, metric: str) -> set[str]:
    return {
        target
        for alarm in _alarms(template)
        if alarm["MetricName"] == metric
        for dim in alarm["Dimensions"]
        for target in referenced_ids(dim["Value"])
    }


def test_both_dead_letter_queues_alarm_on_any_message(sam_template: Template) -> None:
    # GIVEN the alarms on queue depth
    depth = [
        a for a in _alarms(sam_template) if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    ]
    # THEN every DLQ alarms as soon as one message is there
    assert _alarm_targets(sam_template, "ApproximateNumberOfMessagesVisible") == {
        "IngestDLQ",
        "EnrichDLQ",
        "SourcePollDLQ",
    }
    for alarm in depth:
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert float(alarm["Threshold"]) == 0


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("Errors", {"FetchFunction", "EnrichFunction", "PollFunction"}),
        ("Throttles", {"FetchFunction", "EnrichFunction"}),
        ("ApproximateAgeOfOldestMessage", {"IngestQueue", "EnrichQueue", "SourcePollQueue"}),
    ],
)
def test_operational_alarms_cover_both_stages(
    sam_template: Template, metric: str, expected: set[str]
) -> None:
    # GIVEN the alarms of the stack WHEN grouped by metric THEN both stages are watched
    assert _alarm_targets(sam_template, metric) == expected


def test_every_alarm_notifies_the_alarm_topic(sam_template: Template) -> None:
    # GIVEN every alarm THEN its state changes go to the stack's SNS topic
    for alarm in _alarms(sam_template):
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_alarm_email_subscription_exists_only_when_an_address_is_given(
    sam_template: Template,
) -> None:
    # GIVEN the e-mail subscription and its condition
    subscription = sam_template["Resources"]["AlarmEmailSubscription"]
    condition = sam_template["Conditions"][subscription["Condition"]]
    # THEN it is created only for a non-empty AlarmEmail (the default is empty)
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert sam_template["Parameters"]["AlarmEmail"]["Default"] == ""


# ------------------------------------------------------------------ contracts others rely on


def test_outputs_and_environment_names_stay_stable(sam_template: Template) -> None:
    # GIVEN the names the CLI, the local stack and the handlers read
    outputs = set(sam_template["Outputs"])
    env = sam_template["Globals"]["Function"]["Environment"]["Variables"]
    fetch_env = sam_template["Resources"]["FetchFunction"]["Properties"]["Environment"]["Variables"]
    enrich_env = sam_template["Resources"]["EnrichFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    # THEN they are all still there
    assert {
        "IngestQueueUrl",
        "IngestDLQUrl",
        "EnrichQueueUrl",
        "EnrichDLQUrl",
        "ArticlesBucketName",
        "ArticlesTableName",
        "FetchFunctionName",
        "EnrichFunctionName",
    } <= outputs
    assert {"ARTICLES_BUCKET", "ARTICLES_TABLE", "POWERTOOLS_METRICS_NAMESPACE"} <= set(env)
    assert {"ENRICH_QUEUE_URL", "USER_AGENT", "POWERTOOLS_SERVICE_NAME"} <= set(fetch_env)
    assert {"ENRICH_BACKEND", "POWERTOOLS_SERVICE_NAME"} <= set(enrich_env)
    assert "NEWSFLOW_ALLOW_LOOPBACK" not in {*env, *fetch_env, *enrich_env}


def test_the_enrich_function_gets_one_full_vcpu_and_a_bounded_entity_index(
    sam_template: Template,
) -> None:
    # GIVEN the enrich function (single-threaded: the model runs on one core)
    props = sam_template["Resources"]["EnrichFunction"]["Properties"]
    # THEN it has exactly the memory that buys one full vCPU (more only costs more)
    assert props["MemorySize"] == FULL_VCPU_MEMORY_MB
    # AND it writes entity index items for a few most salient entities, the settings' default
    max_items = int(props["Environment"]["Variables"]["MAX_ENTITY_ITEMS"])
    assert max_items == EnrichSettings.model_fields["MAX_ENTITY_ITEMS"].default
    assert 1 <= max_items <= 10


def test_producers_get_the_queue_arn_and_a_policy_to_send_to_it(sam_template: Template) -> None:
    # GIVEN the Outputs a producer (another stack, account or team) reads
    outputs = sam_template["Outputs"]
    # THEN the ingest queue's ARN and a managed policy for producers are exported
    assert outputs["IngestQueueArn"]["Value"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    (policy_id,) = referenced_ids(outputs["IngestProducerPolicyArn"]["Value"])
    for key in ("IngestQueueUrl", "IngestQueueArn", "IngestProducerPolicyArn"):
        assert outputs[key]["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{key}"}
    policy = sam_template["Resources"][policy_id]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    # AND the policy allows sending to the ingest queue and nothing else
    statements = _as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    assert [(s["Effect"], _as_list(s["Action"])) for s in statements] == [
        ("Allow", ["sqs:SendMessage"])
    ]
    assert referenced_ids(statements[0]["Resource"]) == {"IngestQueue"}


def test_the_producer_policy_needs_no_kms_grant_while_queues_use_sqs_managed_keys(
    sam_template: Template,
) -> None:
    # GIVEN the ingest queue's encryption
    queue = sam_template["Resources"]["IngestQueue"]["Properties"]
    # THEN it is SQS-managed: a customer key would need kms:GenerateDataKey/Decrypt for producers
    assert queue.get("SqsManagedSseEnabled") is True
    assert "KmsMasterKeyId" not in queue


# ------------------------------------------------------------------ dashboard


def _dashboard(template: Template) -> dict[str, Any]:
    """The dashboard body with every ${...} substituted, as CloudFormation would."""
    body, variables = template["Resources"]["PipelineDashboard"]["Properties"]["DashboardBody"][
        "Fn::Sub"
    ]
    text = re.sub(r"\$\{(?!!)([A-Za-z0-9:.]+)\}", lambda m: f"value-of-{m.group(1)}", body)
    assert set(variables) <= {
        m.removeprefix("value-of-") for m in re.findall(r"value-of-\w+", text)
    }
    parsed: dict[str, Any] = json.loads(text.replace("${!", "${"))
    return parsed


def test_dashboard_body_is_json_with_the_pipeline_metrics(sam_template: Template) -> None:
    # GIVEN the dashboard body after substitution
    widgets = _dashboard(sam_template)["widgets"]
    text = json.dumps(widgets)
    titles = [w["properties"]["title"] for w in widgets]
    # THEN it shows throughput, failures by reason, latency percentiles and DLQ depth
    assert '["newsflow", "ArticlesFetched", "service", "fetch"]' in text
    assert '["newsflow", "ArticlesEnriched", "service", "enrich"]' in text
    assert '{newsflow,reason,service} MetricName=\\"ArticlesFailed\\"' in text
    assert '"stat": "p50"' in text and '"stat": "p95"' in text
    assert "value-of-IngestDLQName" in text and "value-of-EnrichDLQName" in text
    assert len(titles) == len(set(titles))
