"""Seams of the hardening suite: a fake DNS, faults injected into AWS calls, and a driver that
runs the real handlers over real (moto) SQS the way Lambda's event source mapping does.

* :class:`FakeDns`: the fetch handler's resolver answers from a table, so "a host name that
  resolves to a private address" needs no real DNS, and no test ever resolves a real name.
* :class:`FaultInjector`: botocore event hooks on the session the handlers create their clients
  from. A fault fails a matching call before it is sent (the write never happens) or after it
  returned (the write happened, the caller saw an error: a lost reply), once, n times or always.
* :class:`Driver`: sends bodies to IngestQueue and runs newsflow_cli's :class:`Poller` - receive a
  batch, build the SQS event, call the handler, delete what succeeded - with the handlers
  loaded in this process, until the queues are empty. A failed record comes back in the next
  batch (:class:`VisibilityClock`), and after the template's ``maxReceiveCount`` moto moves it
  to the DLQ, exactly as SQS does. ``ledger`` then says what became of every body.
"""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.exceptions import ClientError

from newsflow.errors import PermanentError
from newsflow.models import IngestMessage, parse_ingest_body
from newsflow.storage import ARTICLE_SK, deserialize_item
from newsflow.storage.articles import indexed_entity_keys
from newsflow.urls import article_id_for, canonicalize_url, fallback_article_id
from newsflow_cli.dead_letters import dead_letter_queues, redrive
from newsflow_cli.lambda_runtime import ContainerPool, Invocation
from newsflow_cli.poller import Poller
from newsflow_cli.stacks import EventSource, FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
ALWAYS = -1
DEAD_LETTER = "DEAD_LETTER"
DRAIN_TIMEOUT_SECONDS = 60.0

# --------------------------------------------------------------------------- fake DNS


@dataclass
class FakeDns:
    """Host name -> addresses; anything else does not exist (EAI_NONAME)."""

    table: dict[str, list[str]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.table:
            return list(self.table[host])
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# --------------------------------------------------------------------------- faults

Match = Callable[[dict[str, Any]], bool]


def _any_call(params: dict[str, Any]) -> bool:
    return True


@dataclass
class Fault:
    """One injected failure of ``service.Operation`` calls that satisfy ``match``."""

    operation: str  # e.g. "s3.PutObject"
    times: int  # how many matching calls fail; ALWAYS for every one
    after: bool  # True: the call takes effect, then the caller sees the error
    code: str
    match: Match
    injected: int = 0
    http_status: int = 500  # 400 for a client error such as ValidationException

    @property
    def active(self) -> bool:
        return self.times == ALWAYS or self.injected < self.times

    def error(self) -> ClientError:
        response: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": "injected fault"},
            "ResponseMetadata": {"HTTPStatusCode": self.http_status},
        }
        return ClientError(response, self.operation.split(".", 1)[1])  # type: ignore[arg-type]


class FaultInjector:
    """botocore hooks on the session every client created after this fixture comes from.

    ``before-parameter-build`` sees the call's own parameters (bucket key, update values...), so
    a fault can pick one kind of write among calls of the same operation.
    """

    def __init__(self, session: boto3.Session) -> None:
        self._session = session
        self.faults: list[Fault] = []

    def fail(
        self,
        operation: str,
        *,
        times: int = 1,
        after: bool = False,
        code: str = "InternalError",
        match: Match = _any_call,
        http_status: int = 500,
    ) -> Fault:
        fault = Fault(
            operation=operation,
            times=times,
            after=after,
            code=code,
            match=match,
            http_status=http_status,
        )
        self.faults.append(fault)
        self._session.events.register(
            f"before-parameter-build.{operation}", self._before(fault), unique_id=f"f{id(fault)}"
        )
        if after:
            self._session.events.register(
                f"after-call.{operation}", self._after(fault), unique_id=f"a{id(fault)}"
            )
        return fault

    def clear(self) -> None:
        """The outage is over: every fault stops failing (clients already created included)."""
        for fault in self.faults:
            fault.times = fault.injected

    @staticmethod
    def _before(fault: Fault) -> Callable[..., None]:
        def hook(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            if not fault.active or not fault.match(params):
                return
            fault.injected += 1
            if fault.after:
                context.setdefault("injected_faults", []).append(fault)
            else:
                raise fault.error()

        return hook

    @staticmethod
    def _after(fault: Fault) -> Callable[..., None]:
        def hook(context: dict[str, Any], **_: Any) -> None:
            if fault in context.get("injected_faults", []):
                raise fault.error()

        return hook


def update_sets(attribute: str, value: str | None = None) -> Match:
    """Match an ``UpdateItem`` whose SET names ``attribute`` (with ``value``, if given)."""

    def match(params: dict[str, Any]) -> bool:
        names = params.get("ExpressionAttributeNames", {})
        values = params.get("ExpressionAttributeValues", {})
        for placeholder, name in names.items():
            stored = values.get(":" + placeholder[1:])  # only SET clauses carry a value
            if name != attribute or stored is None:
                continue
            return value is None or bool(stored.get("S") == value)
        return False

    return match


def puts_item(attribute: str, value: str) -> Match:
    """Match a ``PutItem`` whose item has ``attribute`` = ``value``."""

    def match(params: dict[str, Any]) -> bool:
        return bool(params.get("Item", {}).get(attribute, {}).get("S") == value)

    return match


def key_starts(prefix: str) -> Match:
    def match(params: dict[str, Any]) -> bool:
        return str(params.get("Key", "")).startswith(prefix)

    return match


# --------------------------------------------------------------------------- driver


class InProcessFunction:
    """What the poller needs of a Lambda container: ``invoke(event) -> Invocation``."""

    def __init__(self, spec: FunctionSpec, module: ModuleType, context: Any) -> None:
        self.spec = spec
        self.module = module
        self.context = context
        self.invocations = 0

    def invoke(self, event: Any, *, request_id: str | None = None) -> Invocation:
        self.invocations += 1
        invocation = Invocation(function=self.spec.logical_id, request_id=request_id or "local")
        try:
            invocation.result = self.module.lambda_handler(event, self.context)
        except Exception as exc:  # the runtime reports it; the mapping retries the batch
            invocation.error = exc
            invocation.error_type = type(exc).__name__
            invocation.error_message = str(exc)
        return invocation


class InProcessPool(ContainerPool):
    """The handlers loaded by ``load_function`` (sharing this process's modules, fakes and
    faults) instead of isolated containers."""

    def __init__(self, functions: dict[str, InProcessFunction]) -> None:
        super().__init__()
        self.functions = functions

    def get(self, spec: FunctionSpec) -> Any:
        return self.functions[spec.logical_id]


def _queue_of(event: dict[str, Any]) -> str:
    queue = event["Properties"]["Queue"]
    attribute = queue["Fn::GetAtt"] if isinstance(queue, dict) else queue
    return str(attribute[0] if isinstance(attribute, list) else attribute.split(".")[0])


def function_spec(
    template: dict[str, Any], logical_id: str, queues: dict[str, tuple[str, str]]
) -> FunctionSpec:
    """The function as the template declares it; ``queues`` maps queue logical id -> (url, arn)."""
    props = template["Resources"][logical_id]["Properties"]
    sources = []
    for event in props["Events"].values():
        if event["Type"] != "SQS":
            continue
        url, arn = queues[_queue_of(event)]
        sources.append(
            EventSource(
                queue_arn=arn,
                queue_url=url,
                batch_size=int(event["Properties"].get("BatchSize", 10)),
                function_response_types=tuple(event["Properties"].get("FunctionResponseTypes", [])),
            )
        )
    return FunctionSpec(
        logical_id=logical_id,
        function_name=f"test-{logical_id}",
        function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-{logical_id}",
        handler=str(props["Handler"]),
        runtime="python3.12",
        timeout=int(props["Timeout"]),
        memory_size=int(props["MemorySize"]),
        environment={},
        code_dir=ROOT / str(props["CodeUri"]),
        event_sources=tuple(sources),
    )


def expected_article_id(body: str) -> str:
    """The article a body is about, as the fetch stage will compute it."""
    message = parse_ingest_body(body)
    try:
        return article_id_for(canonicalize_url(message.url))
    except PermanentError:
        return fallback_article_id(message.url)


@dataclass
class Ledger:
    """What became of each body sent: ENRICHED, FAILED, DEAD_LETTER - or anything else (stuck)."""

    outcome: dict[str, str]
    articles: dict[str, dict[str, Any]]  # article id -> article item
    dead_letters: dict[str, list[str]]  # DLQ url -> bodies

    def counts(self) -> Counter[str]:
        return Counter(self.outcome.values())


class VisibilityClock:
    """The poller's SQS client, with the visibility timeout's clock in the driver's hands.

    The fixture's queues redeliver at once (visibility timeout 0), so the poller's receives that
    fill one batch would see the same message several times - which Lambda never delivers.
    Through this proxy a received message stays hidden until :meth:`expire`, which the driver
    calls after every batch, as if the timeout had passed: a failed record comes back in the
    next batch, never twice in one.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._in_flight: dict[str, str] = {}  # receipt handle -> queue url

    def receive_message(self, **kwargs: Any) -> Any:
        response = self._client.receive_message(**{**kwargs, "VisibilityTimeout": 300})
        for message in response.get("Messages", []):
            self._in_flight[message["ReceiptHandle"]] = kwargs["QueueUrl"]
        return response

    def delete_message_batch(self, **kwargs: Any) -> Any:
        for entry in kwargs["Entries"]:
            self._in_flight.pop(entry["ReceiptHandle"], None)
        return self._client.delete_message_batch(**kwargs)

    def expire(self) -> None:
        by_queue: dict[str, list[str]] = {}
        for handle, url in self._in_flight.items():
            by_queue.setdefault(url, []).append(handle)
        self._in_flight.clear()
        for url, handles in by_queue.items():
            for start in range(0, len(handles), 10):
                self._client.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                        for i, handle in enumerate(handles[start : start + 10])
                    ],
                )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclass
class Driver:
    pipeline: Any
    poller: Poller
    clock: VisibilityClock
    functions: dict[str, InProcessFunction]
    sent: list[str] = field(default_factory=list)

    def send(self, bodies: Sequence[str]) -> None:
        queue_url = self.pipeline.ingest_queue_url
        for body in bodies:
            self.pipeline.sqs.send_message(QueueUrl=queue_url, MessageBody=body)
            self.sent.append(body)

    def drain(self) -> int:
        """Batches until every queue is empty (retries included); returns records delivered."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        delivered = 0
        while True:
            handled = 0
            for spec, source in self.poller.sources:
                outcome = self.poller.process_batch(spec, source)
                self.clock.expire()
                handled += outcome.received if outcome else 0
            delivered += handled
            if not handled and self.poller.pending() == 0:
                return delivered
            assert time.monotonic() < deadline, f"queues not empty after {DRAIN_TIMEOUT_SECONDS} s"

    def run(self, bodies: Sequence[str]) -> Ledger:
        self.send(bodies)
        self.drain()
        return self.ledger()

    def redrive(self) -> int:
        """``newsflow dlq --redrive``'s own code: every dead letter back to its source queue."""
        queues = dead_letter_queues(self.pipeline.sqs, self.poller.description)
        return sum(redrive(self.pipeline.sqs, queue) for queue in queues)

    def peek_dead_letters(self) -> dict[str, list[str]]:
        """Every message of both DLQs, left in place (received hidden, then made visible)."""
        found: dict[str, list[str]] = {}
        sqs = self.pipeline.sqs
        for url in (self.pipeline.ingest_dlq_url, self.pipeline.enrich_dlq_url):
            messages: dict[str, dict[str, Any]] = {}
            while True:
                batch = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60
                ).get("Messages", [])
                if not batch:
                    break
                messages.update({m["MessageId"]: m for m in batch})
            for start in range(0, len(messages), 10):
                chunk = list(messages.values())[start : start + 10]
                sqs.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                        for i, m in enumerate(chunk)
                    ],
                )
            found[url] = [m["Body"] for m in messages.values()]
        return found

    def ledger(self) -> Ledger:
        articles = article_items(self.pipeline)
        dead = self.peek_dead_letters()
        dead_ingest = set(dead[self.pipeline.ingest_dlq_url])
        dead_enrich = {
            json.loads(body).get("article_id") for body in dead[self.pipeline.enrich_dlq_url]
        }
        outcome: dict[str, str] = {}
        for body in self.sent:
            article_id = expected_article_id(body)
            item = articles.get(article_id)
            if body in dead_ingest or article_id in dead_enrich:
                outcome[body] = DEAD_LETTER
            elif item is not None:
                outcome[body] = str(item["status"])
            else:
                outcome[body] = "MISSING"
        return Ledger(outcome=outcome, articles=articles, dead_letters=dead)


# --------------------------------------------------------------------------- state checks


def scan_items(pipeline: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in pipeline.dynamodb.get_paginator("scan").paginate(TableName=pipeline.table):
        items.extend(deserialize_item(item) for item in page.get("Items", []))
    return items


def article_items(pipeline: Any) -> dict[str, dict[str, Any]]:
    return {
        str(item["pk"]).removeprefix("ARTICLE#"): item
        for item in scan_items(pipeline)
        if item["sk"] == ARTICLE_SK
    }


def all_keys(pipeline: Any, prefix: str) -> list[str]:
    keys: list[str] = []
    paginator = pipeline.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=pipeline.bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def article_of_key(key: str) -> str:
    return key.rsplit("/", 1)[-1].split(".", 1)[0]


def assert_no_duplicates_or_leftovers(pipeline: Any) -> None:
    """One object per article under each prefix; entity items exactly those the article lists.

    An entity item of an article that is not ENRICHED, or one its article does not list, is a
    leftover of a half-finished enrichment that a retry failed to clean up.
    """
    for prefix in ("raw/", "articles/", "enriched/"):
        per_article = Counter(article_of_key(key) for key in all_keys(pipeline, prefix))
        repeated = {a: n for a, n in per_article.items() if n > 1}
        assert not repeated, f"several {prefix} objects for one article: {repeated}"
    items = scan_items(pipeline)
    articles = {str(i["pk"]).removeprefix("ARTICLE#"): i for i in items if i["sk"] == ARTICLE_SK}
    entity_items: dict[str, set[tuple[str, str]]] = {}
    for item in items:
        if str(item["pk"]).startswith("ENTITY#"):
            entity_items.setdefault(str(item["article_id"]), set()).add((item["pk"], item["sk"]))
    for article_id, keys in entity_items.items():
        article = articles.get(article_id)
        assert article is not None, f"entity items of an unknown article {article_id}"
        assert article["status"] == "ENRICHED", f"entity items of a {article['status']} article"
        listed = set(indexed_entity_keys(article, article_id))
        assert keys == listed, f"entity items of {article_id} differ from its entity_index"


def ingest_body(url: str, **fields: Any) -> str:
    """A JSON IngestQueue body (validated, so a test cannot send a malformed one by accident)."""
    return IngestMessage(url=url, **fields).model_dump_json(exclude_defaults=True)
