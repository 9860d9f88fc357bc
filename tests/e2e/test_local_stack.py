"""The local stack as infrastructure: what moto creates from the template, and the guard
that keeps loopback fetching a local-only exception."""

from __future__ import annotations

import re
from typing import Any

import pytest

from newsflow.storage import ArticleTable
from newsflow_cli import intake
from newsflow_cli.local_stack import LocalStack
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import Poller
from newsflow_cli.targets import Target, local_overrides

pytestmark = pytest.mark.e2e

# What moto 5's CloudFormation skips (with a warning) yet reports CREATE_COMPLETE; the
# infrastructure tests check these resources in the template instead.
NOT_EMULATED_BY_MOTO = {
    "AWS::CloudWatch::Alarm",
    "AWS::S3::BucketPolicy",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::Athena::WorkGroup",
}


def test_moto_creates_every_resource_type_it_supports(local_stack: LocalStack) -> None:
    # GIVEN the template deployed into moto's CloudFormation
    # THEN whatever was not created is a type moto does not emulate, nothing else
    skipped_types = set(local_stack.skipped_resources.values())
    assert skipped_types <= NOT_EMULATED_BY_MOTO, skipped_types
    # AND the stack holds queues, bucket, table and functions under the template's ids
    created_types = {kind for kind, _ in local_stack.description.resources.values()}
    assert {
        "AWS::SQS::Queue",
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
    } <= created_types


def _referenced_ids(node: Any) -> set[str]:
    """Logical ids an output value points at (Ref, GetAtt, ${Id} in Sub)."""
    if isinstance(node, dict):
        found: set[str] = set()
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= _referenced_ids(value)
        return found
    if isinstance(node, list):
        return set().union(*(_referenced_ids(item) for item in node)) if node else set()
    return set()


def test_every_template_output_is_readable(local_stack: LocalStack) -> None:
    # GIVEN the template's Outputs, except those about resources moto does not emulate
    skipped = set(local_stack.skipped_resources)
    outputs = local_stack.translated.get("Outputs", {})
    expected = {
        key for key, output in outputs.items() if not _referenced_ids(output["Value"]) & skipped
    }
    # THEN the stack answers each of them with a value
    assert expected
    assert expected <= set(local_stack.outputs)
    assert all(local_stack.outputs[key] for key in expected)


def test_each_function_is_fed_by_its_queue_with_partial_batch_responses(
    local_stack: LocalStack,
) -> None:
    # GIVEN the functions moto created from the template
    functions = local_stack.functions
    # THEN each has an SQS source that reports batch item failures, and its code folder
    assert functions
    for spec in functions:
        assert spec.code_dir is not None and (spec.code_dir / "app.py").is_file()
        assert spec.event_sources
        assert all(source.reports_batch_item_failures for source in spec.event_sources)
        assert all(1 <= source.batch_size <= 10 for source in spec.event_sources)


def test_loopback_urls_are_blocked_when_the_caller_says_false(
    target: Target, sample_site: PageServer, table: ArticleTable
) -> None:
    # GIVEN functions started with NEWSFLOW_ALLOW_LOOPBACK=false in the caller's environment
    overrides = local_overrides({"NEWSFLOW_ALLOW_LOOPBACK": "false"})
    guarded = Poller(
        description=target.description,
        sqs=target.client("sqs"),
        pool=Target(
            kind="local",
            description=target.description,
            region=target.region,
            session=target.session,
            endpoint_url=target.endpoint_url,
            endpoints=target.endpoints,
            overrides=overrides,
        ).container_pool(),
        region=target.region,
    )
    url = sample_site.url("/news/solar-ferry-trial.html?edition=guarded")
    # WHEN a page-server URL goes through the pipeline
    [line] = intake.push(target.client("sqs"), target.output("IngestQueueUrl"), [url])
    assert guarded.run_until_drained(timeout=60).drained
    # THEN the fetcher refused it as a blocked URL and recorded that
    assert line.article_id is not None
    article = table.get(line.article_id)
    assert article is not None and article.failure is not None
    assert (article.status.value, article.failure.reason.value) == ("FAILED", "blocked_url")
