"""Fixtures of the hardening suite (the helpers behind them live in ``support``).

* ``fake_dns``: the fetch handler's resolver answers from a table - no test resolves a real name.
* ``fetch_handler`` / ``enrich_handler``: the real handlers, loaded fresh, loopback allowed.
* ``faults``: injects failures into the AWS calls of clients the handlers create.
* ``drive``: runs the handlers over the fixture's SQS queues with newsflow_cli's poller.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from newsflow.fetching import addresses
from newsflow_cli.poller import Poller
from newsflow_cli.stacks import StackDescription

from .support import (
    REGION,
    Driver,
    FakeDns,
    FaultInjector,
    InProcessFunction,
    InProcessPool,
    VisibilityClock,
    function_spec,
)


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Installed before any handler builds its fetcher (the fetcher reads it at construction)."""
    dns = FakeDns()
    monkeypatch.setattr(addresses, "system_resolver", dns.resolve)
    return dns


# --------------------------------------------------------------------------- handlers


@pytest.fixture
def fetch_handler(
    pipeline: Any,
    load_function: Callable[[str, dict[str, str]], ModuleType],
    fake_dns: FakeDns,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """The fetch handler as the local stack runs it: loopback allowed (the page server)."""
    monkeypatch.setenv("NEWSFLOW_ALLOW_LOOPBACK", "true")
    # Every page sits on one loopback host: a pace of one request a second would defer most of
    # a batch, which these tests are not about (tests/integration/test_fetch_handler_politeness.py
    # is).
    return load_function(
        "FetchFunction", {**pipeline.fetch_env(), "HOST_REQUESTS_PER_SECOND": "100"}
    )


@pytest.fixture
def enrich_handler(
    pipeline: Any, load_function: Callable[[str, dict[str, str]], ModuleType]
) -> ModuleType:
    return load_function("EnrichFunction", {**pipeline.enrich_env(), "ENRICH_BACKEND": "local"})


# --------------------------------------------------------------------------- faults


@pytest.fixture
def faults(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
    """Faults for the handlers' clients only: the test's own clients (``pipeline``) exist already
    and keep working, so the test can always read the true state."""
    session = boto3.Session(region_name=REGION)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return FaultInjector(session)


# --------------------------------------------------------------------------- driver


@pytest.fixture
def drive(
    pipeline: Any,
    template: dict[str, Any],
    fetch_handler: ModuleType,
    enrich_handler: ModuleType,
    lambda_context: Any,
) -> Driver:
    sqs = pipeline.sqs

    def arn(url: str) -> str:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    queues = {
        "IngestQueue": (pipeline.ingest_queue_url, arn(pipeline.ingest_queue_url)),
        "EnrichQueue": (pipeline.enrich_queue_url, arn(pipeline.enrich_queue_url)),
    }
    specs = [
        function_spec(template, "FetchFunction", queues),
        function_spec(template, "EnrichFunction", queues),
    ]
    functions = {
        "FetchFunction": InProcessFunction(specs[0], fetch_handler, lambda_context),
        "EnrichFunction": InProcessFunction(specs[1], enrich_handler, lambda_context),
    }
    description = StackDescription(
        stack_name="hardening", status="CREATE_COMPLETE", outputs={}, functions=tuple(specs)
    )
    clock = VisibilityClock(sqs)
    poller = Poller(
        description=description, sqs=clock, pool=InProcessPool(functions), region=REGION
    )
    return Driver(pipeline=pipeline, poller=poller, clock=clock, functions=functions)
