"""Each function's role grants exactly the calls the function makes: nothing missing, nothing spare.

The needs are observed, not listed: both handlers run through their paths on moto (fetch:
success, permanent failure, transient failure with its retry note, rejected message,
re-delivery, robots.txt read and cached, the host gate, a 429 that backs the host off and defers
the record; enrich: success, missing document, rejected message, re-delivery, transient
failure), with Comprehend answered by a botocore Stubber when it is the backend. A recording
hook turns every call into its IAM action and resource (see ``iam.py``); Lambda's own use of
the role (event source polling, logs, tracing) comes from the function's configuration. The
roles are read from the translated template and resolved for every value of ``EnrichBackend``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from newsflow_cli.poller import build_sqs_event

from .cfn import Template, referenced_ids
from .iam import (
    CallRecorder,
    Deployed,
    Need,
    Resolver,
    compare,
    function_role,
    needs_of_call,
    platform_needs,
    role_grants,
)
from .source_paths import run_source_paths

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account: queue URLs carry it
FUNCTIONS = ("FetchFunction", "EnrichFunction", "PollFunction")
BACKENDS = ("local", "comprehend", "auto")
CALLS_COMPREHEND = ("comprehend", "auto")
"""Backends whose path reaches Comprehend (``auto`` is given a Spanish article: routed there)."""
SPANISH_PARAGRAPHS = [
    "El ayuntamiento de Portsmouth aprobó el martes la construcción de un nuevo puente sobre el "
    "puerto, una obra que costará cuarenta millones de libras y que durará tres años.",
    "La alcaldesa dijo que el puente acortará los trayectos de miles de vecinos, mientras los "
    "pescadores temen que las obras cierren el acceso al muelle durante meses.",
]
MISSING_ARTICLE_ID = "0" * 32

# Observed needs per EnrichBackend value; the paths run once per value and session.
_observed: dict[str, dict[str, set[Need]]] = {}


# --------------------------------------------------------------------------- the stack


def deployed_stack(bucket: str, table: str, queue_urls: dict[str, str]) -> dict[str, Deployed]:
    """What Ref/GetAtt of the resources the roles name return, for the moto resources."""

    def queue(url: str) -> Deployed:
        name = url.rstrip("/").rsplit("/", 1)[1]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        return Deployed(url, {"Arn": arn, "QueueName": name})

    def log_group(name: str) -> Deployed:
        return Deployed(name, {"Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"})

    return {
        "ArticlesBucket": Deployed(bucket, {"Arn": f"arn:aws:s3:::{bucket}"}),
        "ArticlesTable": Deployed(
            table, {"Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"}
        ),
        **{logical_id: queue(url) for logical_id, url in queue_urls.items()},
        "FetchLogGroup": log_group("newsflow-test-fetch"),
        "EnrichLogGroup": log_group("newsflow-test-enrich"),
        "PollLogGroup": log_group("newsflow-test-poll"),
    }


STACK = deployed_stack(
    "newsflow-articles-test",
    "newsflow-articles-test",
    {
        name: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/test-{name}"
        for name in (
            "IngestQueue",
            "IngestDLQ",
            "EnrichQueue",
            "EnrichDLQ",
            "SourcePollQueue",
            "SourcePollDLQ",
        )
    },
)


def resolver_for(template: Template, backend: str) -> Resolver:
    return Resolver(template, STACK, {"EnrichBackend": backend}, region=REGION, account=ACCOUNT)


# --------------------------------------------------------------------------- running the paths


def sqs_event(messages: list[dict[str, Any]], queue_url: str) -> dict[str, Any]:
    """The event Lambda's SQS poller builds from received messages."""
    queue_arn = STACK[queue_url.rsplit("-", 1)[1]].attributes["Arn"]
    return build_sqs_event(messages, queue_arn=queue_arn, region=REGION)


def deliver(pipeline: Any, queue_url: str, bodies: list[str]) -> dict[str, Any]:
    for body in bodies:
        pipeline.sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    messages = pipeline.receive_all(queue_url)
    assert len(messages) == len(bodies)
    return sqs_event(messages, queue_url)


def retried(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


class S3SlowDown:
    """Fails the next ``PutObject`` under a prefix with SlowDown, once (before it is sent)."""

    def __init__(self) -> None:
        self.prefix: str | None = None

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        if self.prefix and f"/{self.prefix}" in params.get("url_path", ""):
            self.prefix = None
            error = {"Code": "SlowDown", "Message": "Please reduce your request rate."}
            raise ClientError({"Error": error}, "PutObject")  # type: ignore[typeddict-item]


def script_comprehend(stub: Stubber, text: str, *, throttled: bool = False) -> None:
    """One BatchDetectEntities + BatchDetectSentiment round (or a throttled first call)."""
    if throttled:
        stub.add_client_error(
            "batch_detect_entities", service_error_code="ThrottlingException", http_status_code=400
        )
        return
    start = text.index("Portsmouth")
    entity = {"Score": 0.99, "Type": "LOCATION", "Text": "Portsmouth"}
    entity.update({"BeginOffset": start, "EndOffset": start + len("Portsmouth")})
    stub.add_response(
        "batch_detect_entities",
        {"ResultList": [{"Index": 0, "Entities": [entity]}], "ErrorList": []},
    )
    scores = {"Positive": 0.8, "Negative": 0.1, "Neutral": 0.1, "Mixed": 0.0}
    stub.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [{"Index": 0, "Sentiment": "POSITIVE", "SentimentScore": scores}],
            "ErrorList": [],
        },
    )


def run_every_path(backend: str, request: pytest.FixtureRequest) -> dict[str, set[Need]]:
    """Run both handlers through their paths on moto, recording what each one calls."""
    pipeline = request.getfixturevalue("pipeline")
    load_function: Callable[[str, dict[str, str]], ModuleType] = request.getfixturevalue(
        "load_function"
    )
    page_server = request.getfixturevalue("page_server")
    context = request.getfixturevalue("lambda_context")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    make_article_page = request.getfixturevalue("make_article_page")

    # Handlers create their clients from the default session, on their first record.
    session = boto3.Session(region_name=REGION)
    recorder = CallRecorder(region=REGION, account=ACCOUNT)
    recorder.attach(session.events)
    slow_down = S3SlowDown()
    session.events.register("before-call.s3.PutObject", slow_down)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    comprehend = Stubber(session.client("comprehend"))
    real_client: Callable[..., Any] = boto3.client

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        """boto3.client, except that Comprehend is the stubbed client."""
        return (
            comprehend.client if service == "comprehend" else real_client(service, *args, **kwargs)
        )

    monkeypatch.setattr(boto3, "client", client)
    monkeypatch.setenv("NEWSFLOW_ALLOW_LOOPBACK", "true")
    # Deferral on (re-sends to IngestQueue); the host pace high enough not to defer by itself.
    fetch = load_function(
        "FetchFunction",
        {
            **pipeline.fetch_env(),
            "INGEST_QUEUE_URL": pipeline.ingest_queue_url,
            "HOST_REQUESTS_PER_SECOND": "100",
        },
    )
    enrich = load_function("EnrichFunction", {**pipeline.enrich_env(), "ENRICH_BACKEND": backend})

    # fetch: a good page, a 404 (permanent), a 503 (transient), a body with no URL (rejected)
    page = make_article_page()
    if backend == "auto":  # a language only Comprehend analyses, so auto routes it there
        page = make_article_page(
            title="Portsmouth aprueba un nuevo puente", paragraphs=SPANISH_PARAGRAPHS
        ).replace(b'lang="en"', b'lang="es"')
    good = page_server.add("/news/harbour-bridge", page)
    busy = page_server.add("/busy", b"<html>busy</html>", status=503)
    # a host asking to slow down: backed off (the gate item) and the record deferred (re-sent)
    asks_to_wait = page_server.add(
        "/slow-down", b"<html>slow down</html>", status=429, headers={"Retry-After": "0"}
    )
    # the same text under another URL (exact copy), and an edited copy (near: reads the original)
    copy_url = page_server.add("/wire/harbour-bridge", page)
    extra = b"<p>Residents can comment on the plans online until the end of the month.</p>"
    near_url = page_server.add(
        "/wire/harbour-bridge-2", page.replace(b"</article>", extra + b"</article>")
    )
    bodies = [
        good,
        json.dumps({"url": page_server.url("/gone")}),
        busy,
        '{"url": ',
        copy_url,
        near_url,
        asks_to_wait,
    ]
    event = deliver(pipeline, pipeline.ingest_queue_url, bodies)
    with recorder.calls_of("FetchFunction"):
        first = fetch.lambda_handler(event, context)
        redelivered = fetch.lambda_handler(event, context)  # at-least-once: all of it again
    busy_id = event["Records"][2]["messageId"]
    assert retried(first) == retried(redelivered) == [busy_id]

    # enrich: the good article, a missing document (permanent), a body that is no message
    handoffs = pipeline.receive_all(pipeline.enrich_queue_url)
    [copy_handoff] = [h for h in handoffs if "reuse_enrichment_of" in json.loads(h["Body"])]
    original_id = json.loads(copy_handoff["Body"])["reuse_enrichment_of"]
    [handoff] = [h for h in handoffs if json.loads(h["Body"])["article_id"] == original_id]
    key = json.loads(handoff["Body"])["key"]
    text = json.loads(pipeline.s3.get_object(Bucket=pipeline.bucket, Key=key)["Body"].read())[
        "text"
    ]
    missing = {
        "article_id": MISSING_ARTICLE_ID,
        "bucket": pipeline.bucket,
        "key": f"articles/dt=2026-11-20/{MISSING_ARTICLE_ID}.json",
    }
    event = deliver(
        pipeline,
        pipeline.enrich_queue_url,
        [handoff["Body"], json.dumps(missing), '{"article_id": '],
    )
    good_only = {"Records": event["Records"][:1]}
    with comprehend, recorder.calls_of("EnrichFunction"):
        if backend in CALLS_COMPREHEND:
            script_comprehend(comprehend, text)
            script_comprehend(comprehend, text)
            script_comprehend(comprehend, text, throttled=True)
        assert retried(enrich.lambda_handler(event, context)) == []
        assert retried(enrich.lambda_handler(event, context)) == []  # re-delivery converges
        if backend == "local":
            slow_down.prefix = "enriched/"
        assert retried(enrich.lambda_handler(good_only, context)) == [
            good_only["Records"][0]["messageId"]
        ]
        comprehend.assert_no_pending_responses()
        # the exact copy reuses the original's enrichment: it reads the enriched document
        copy_event = deliver(pipeline, pipeline.enrich_queue_url, [copy_handoff["Body"]])
        assert retried(enrich.lambda_handler(copy_event, context)) == []
    run_source_paths(
        pipeline=pipeline,
        load_function=load_function,
        page_server=page_server,
        recorder=recorder,
        context=context,
        deliver=deliver,
    )
    return recorder.needs


def observed_needs(backend: str, request: pytest.FixtureRequest) -> dict[str, set[Need]]:
    if backend not in _observed:
        _observed[backend] = run_every_path(backend, request)
    return _observed[backend]


def function_needs(
    template: Template, backend: str, request: pytest.FixtureRequest
) -> dict[str, set[Need]]:
    """Calls made by the code plus the calls Lambda makes with the role, per function."""
    resolver = resolver_for(template, backend)
    observed = observed_needs(backend, request)
    return {
        function_id: observed[function_id] | platform_needs(template, function_id, resolver)
        for function_id in FUNCTIONS
    }


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_each_role_grants_exactly_what_its_function_calls(
    translated: Template, function_id: str, backend: str, request: pytest.FixtureRequest
) -> None:
    # GIVEN what the function called on every path, and what Lambda does with its role
    needs = function_needs(translated, backend, request)[function_id]
    # WHEN its role's policies are resolved for this EnrichBackend and compared with the needs
    role_id = function_role(translated, function_id)
    grants = role_grants(translated, role_id, resolver_for(translated, backend))
    comparison = compare(role_id, needs, grants)
    # THEN every call is granted and every grant is used
    assert comparison.exact, comparison.report()


def test_the_paths_reach_the_calls_that_need_care(request: pytest.FixtureRequest) -> None:
    # GIVEN the observed needs for every backend
    local, comprehend, auto = (observed_needs(backend, request) for backend in BACKENDS)
    bucket = STACK["ArticlesBucket"].attributes["Arn"]
    # THEN the missing document needed listing, under articles/ only
    listing = {n for n in local["EnrichFunction"] if n.action == "s3:ListBucket"}
    assert listing == {
        Need(
            "s3:ListBucket",
            bucket,
            (("s3:prefix", f"articles/dt=2026-11-20/{MISSING_ARTICLE_ID}.json"),),
        )
    }
    # AND fetch reads parsed documents only (a near-duplicate candidate's) and never lists
    reads = {n.resource for n in local["FetchFunction"] if n.action == "s3:GetObject"}
    assert reads and all(read.startswith(f"{bucket}/articles/") for read in reads)
    assert "s3:ListBucket" not in {n.action for n in local["FetchFunction"]}
    # AND enrich reads an original's enriched document for its exact copy
    assert any(
        n.action == "s3:GetObject" and n.resource.startswith(f"{bucket}/enriched/")
        for n in local["EnrichFunction"]
    )
    # AND only the Comprehend backend, and auto for a language it routes there, call Comprehend,
    # with the two batch calls
    for needs in (comprehend, auto):
        assert {
            n.action for n in needs["EnrichFunction"] if n.action.startswith("comprehend:")
        } == {
            "comprehend:BatchDetectEntities",
            "comprehend:BatchDetectSentiment",
        }
    assert not any(n.action.startswith("comprehend:") for n in local["EnrichFunction"])


def test_every_condition_on_the_roles_is_compared_for_each_of_its_values(
    translated: Template,
) -> None:
    # GIVEN the conditions the two roles depend on (Fn::If in their policies)
    conditions: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "Fn::If" in value:
                conditions.add(value["Fn::If"][0])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for function_id in FUNCTIONS:
        walk(translated["Resources"][function_role(translated, function_id)])
    parameters = set().union(*(referenced_ids(translated["Conditions"][c]) for c in conditions))
    # THEN they depend only on EnrichBackend, and the comparison runs for each allowed value
    assert parameters == {"EnrichBackend"}
    assert set(translated["Parameters"]["EnrichBackend"]["AllowedValues"]) == set(BACKENDS)


# --------------------------------------------------------------------------- the rule bites


def _role_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies, both branches of an Fn::If included."""
    found: list[dict[str, Any]] = []
    for policy in template["Resources"][role_id]["Properties"]["Policies"]:
        branches = policy["Fn::If"][1:] if "Fn::If" in policy else [policy]
        for branch in branches:
            if isinstance(branch, dict) and "PolicyDocument" in branch:
                found.extend(branch["PolicyDocument"]["Statement"])
    return found


@pytest.mark.parametrize(
    ("backend", "function_id", "removed"),
    [
        ("local", "FetchFunction", "sqs:SendMessage"),
        ("local", "FetchFunction", "dynamodb:PutItem"),
        ("local", "EnrichFunction", "s3:ListBucket"),
        ("local", "EnrichFunction", "sqs:DeleteMessage"),
        ("comprehend", "EnrichFunction", "comprehend:BatchDetectSentiment"),
    ],
)
def test_a_removed_grant_is_reported_missing(
    translated: Template,
    backend: str,
    function_id: str,
    removed: str,
    request: pytest.FixtureRequest,
) -> None:
    # GIVEN a copy of the template whose role lost one action
    needs = function_needs(translated, backend, request)[function_id]
    broken = copy.deepcopy(translated)
    role_id = function_role(broken, function_id)
    for statement in _role_statements(broken, role_id):
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        statement["Action"] = [action for action in actions if action != removed]
    for policy in broken["Resources"][role_id]["Properties"]["Policies"]:
        for branch in policy["Fn::If"][1:] if "Fn::If" in policy else [policy]:
            if isinstance(branch, dict) and "PolicyDocument" in branch:
                document = branch["PolicyDocument"]
                document["Statement"] = [s for s in document["Statement"] if s["Action"]]
    # WHEN compared
    grants = role_grants(broken, role_id, resolver_for(broken, backend))
    comparison = compare(role_id, needs, grants)
    # THEN exactly the needs of that action are reported missing, and nothing else
    assert comparison.unused == ()
    assert comparison.missing == tuple(sorted(n for n in needs if n.action == removed))
    assert comparison.missing, f"no observed need of {removed}"
    assert f"missing grant: {removed} on" in comparison.report()


@pytest.mark.parametrize(
    ("backend", "function_id", "extra", "expected"),
    [
        (
            "local",
            "FetchFunction",
            {
                "Action": "sqs:ChangeMessageVisibility",
                "Resource": {"Fn::GetAtt": "IngestQueue.Arn"},
            },
            ("sqs:ChangeMessageVisibility", STACK["IngestQueue"].attributes["Arn"]),
        ),
        (
            "local",
            "FetchFunction",
            {"Action": "dynamodb:Query", "Resource": {"Fn::Sub": "${ArticlesTable.Arn}/index/*"}},
            ("dynamodb:Query", STACK["ArticlesTable"].attributes["Arn"] + "/index/*"),
        ),
        (
            "local",
            "EnrichFunction",
            {
                "Action": "s3:DeleteObject",
                "Resource": {"Fn::Sub": "${ArticlesBucket.Arn}/enriched/*"},
            },
            ("s3:DeleteObject", STACK["ArticlesBucket"].attributes["Arn"] + "/enriched/*"),
        ),
        (
            "comprehend",
            "EnrichFunction",
            {"Action": "comprehend:DetectDominantLanguage", "Resource": "*"},
            ("comprehend:DetectDominantLanguage", "*"),
        ),
    ],
)
def test_an_extra_grant_is_reported_unused(
    translated: Template,
    backend: str,
    function_id: str,
    extra: dict[str, Any],
    expected: tuple[str, str],
    request: pytest.FixtureRequest,
) -> None:
    # GIVEN a copy of the template whose role grants one more (action, resource)
    needs = function_needs(translated, backend, request)[function_id]
    broken = copy.deepcopy(translated)
    role_id = function_role(broken, function_id)
    statements = broken["Resources"][role_id]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    statements.append({"Sid": "Extra", "Effect": "Allow", **extra})
    # WHEN compared
    grants = role_grants(broken, role_id, resolver_for(broken, backend))
    comparison = compare(role_id, needs, grants)
    # THEN exactly that grant is reported unused, and nothing is missing
    assert comparison.missing == ()
    assert [(g.action, g.resource, g.sid) for g in comparison.unused] == [(*expected, "Extra")]
    assert f"unused grant:  {expected[0]} on {expected[1]}" in comparison.report()


# --------------------------------------------------------------------------- call -> IAM action


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        (
            "s3",
            "HeadObject",
            {"Bucket": "b", "Key": "articles/x.json"},
            [("s3:GetObject", "arn:aws:s3:::b/articles/x.json")],
        ),
        ("s3", "ListObjectsV2", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/q", "Entries": []},
            [("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q")],
        ),
        (
            "dynamodb",
            "Query",
            {"TableName": "t", "IndexName": "FailuresIndex"},
            [
                (
                    "dynamodb:Query",
                    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t/index/FailuresIndex",
                )
            ],
        ),
        (
            "dynamodb",
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "t", "Item": {}}},
                    {"ConditionCheck": {"TableName": "t", "Key": {}}},
                ]
            },
            [
                ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"),
                ("dynamodb:ConditionCheckItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"),
            ],
        ),
        (
            "dynamodb",
            "BatchWriteItem",
            {"RequestItems": {"t": []}},
            [("dynamodb:BatchWriteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t")],
        ),
        ("comprehend", "BatchDetectEntities", {}, [("comprehend:BatchDetectEntities", "*")]),
    ],
)
def test_each_call_maps_to_the_action_and_resource_iam_checks(
    service: str, operation: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    # WHEN a call is translated THEN it names the action IAM authorises it by, on its target
    needs = needs_of_call(service, operation, params, region=REGION, account=ACCOUNT)
    assert [(n.action, n.resource) for n in needs] == expected
