"""Fixtures shared by every suite.

* Every test runs with fake AWS credentials and no profile: nothing can reach a real account.
* ``pipeline`` creates the bucket, table and queues in moto from template.yaml's own
  properties, so the tests exercise the key schema and redrive policy that get deployed.
* ``page_server`` serves scripted responses on 127.0.0.1 (the only network tests touch).
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from newsflow import settings as newsflow_settings
from newsflow_cli.sam_template import load_template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
EVENTS_DIR = ROOT / "events"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "NEWSFLOW_STACK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "newsflow")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def _resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][logical_id]
    return resource


def _default(template: dict[str, Any], value: Any) -> Any:
    """Resolve a ``{"Ref": Parameter}`` to the parameter's default; plain values pass through."""
    if isinstance(value, dict) and "Ref" in value:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


@dataclass
class PipelineResources:
    """The stateful resources of the stack, created in moto from the template."""

    bucket: str
    table: str
    ingest_queue_url: str
    ingest_dlq_url: str
    enrich_queue_url: str
    enrich_dlq_url: str
    max_receive_count: int
    s3: Any = field(repr=False, default=None)
    dynamodb: Any = field(repr=False, default=None)
    sqs: Any = field(repr=False, default=None)

    def fetch_env(self) -> dict[str, str]:
        return {
            "ARTICLES_BUCKET": self.bucket,
            "ARTICLES_TABLE": self.table,
            "ENRICH_QUEUE_URL": self.enrich_queue_url,
        }

    def enrich_env(self) -> dict[str, str]:
        return {"ARTICLES_BUCKET": self.bucket, "ARTICLES_TABLE": self.table}

    def keys(self, prefix: str) -> list[str]:
        response = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for obj in response.get("Contents", []))

    def receive_all(self, queue_url: str) -> list[dict[str, Any]]:
        """Drain the queue: every message currently on it, each received once and deleted."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(batch)


def create_pipeline_resources(template: dict[str, Any]) -> PipelineResources:
    """Create bucket, table and queues (with redrive) from the template's own properties."""
    s3 = boto3.client("s3", region_name=REGION)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)

    s3.create_bucket(Bucket="newsflow-articles-test")
    table_props = _resource(template, "ArticlesTable")["Properties"]
    dynamodb.create_table(
        TableName="newsflow-articles-test",
        KeySchema=table_props["KeySchema"],
        AttributeDefinitions=table_props["AttributeDefinitions"],
        GlobalSecondaryIndexes=table_props["GlobalSecondaryIndexes"],
        BillingMode=table_props["BillingMode"],
    )

    def create_queue(logical_id: str, dlq_arn: str | None) -> tuple[str, int]:
        props = _resource(template, logical_id)["Properties"]
        attributes = {"VisibilityTimeout": "0"}  # tests redeliver at once
        receive_count = 0
        if dlq_arn:
            receive_count = int(_default(template, props["RedrivePolicy"]["maxReceiveCount"]))
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": receive_count}
            )
        url = sqs.create_queue(QueueName=f"test-{logical_id}", Attributes=attributes)["QueueUrl"]
        return url, receive_count

    def arn(url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    ingest_dlq, _ = create_queue("IngestDLQ", None)
    enrich_dlq, _ = create_queue("EnrichDLQ", None)
    ingest, max_receive = create_queue("IngestQueue", arn(ingest_dlq))
    enrich, _ = create_queue("EnrichQueue", arn(enrich_dlq))
    return PipelineResources(
        bucket="newsflow-articles-test",
        table="newsflow-articles-test",
        ingest_queue_url=ingest,
        ingest_dlq_url=ingest_dlq,
        enrich_queue_url=enrich,
        enrich_dlq_url=enrich_dlq,
        max_receive_count=max_receive,
        s3=s3,
        dynamodb=dynamodb,
        sqs=sqs,
    )


@pytest.fixture
def pipeline(template: dict[str, Any]) -> Iterator[PipelineResources]:
    with mock_aws():
        yield create_pipeline_resources(template)


# --------------------------------------------------------------------------- handlers


@pytest.fixture
def load_function(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, dict[str, str]], ModuleType]:
    """Import a function's handler module fresh (a new "container") with its environment.

    The module path comes from the template's CodeUri and Handler, as Lambda would use them.
    """

    def load(logical_id: str, environment: dict[str, str]) -> ModuleType:
        props = _resource(template, logical_id)["Properties"]
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        for cached in (
            newsflow_settings.get_fetch_settings,
            newsflow_settings.get_fetch_policy,
            newsflow_settings.get_enrich_settings,
            newsflow_settings.get_politeness_settings,
        ):
            cached.cache_clear()
        module_name, _, _function = props["Handler"].rpartition(".")
        path = ROOT / props["CodeUri"] / f"{module_name}.py"
        spec = importlib.util.spec_from_file_location(f"handler_{logical_id}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@dataclass
class LambdaContextStub:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> LambdaContextStub:
    return LambdaContextStub()


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return event


@pytest.fixture
def sample_event() -> Callable[[str], dict[str, Any]]:
    return load_event


# --------------------------------------------------------------------------- page server


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})


@dataclass
class PageServer:
    host: str
    port: int
    routes: dict[str, Route]
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def add(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` (replacing an earlier route) and return its URL."""
        self.routes[path] = Route(
            status=status, body=body, headers={"Content-Type": content_type, **(headers or {})}
        )
        return self.url(path)


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    """A scripted HTTP server on 127.0.0.1; tests add routes and read hit counts."""
    routes: dict[str, Route] = {}
    server_state = PageServer(host="127.0.0.1", port=0, routes=routes)

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body are separate writes

        def do_GET(self) -> None:
            server_state.hits[self.path] = server_state.hits.get(self.path, 0) + 1
            route = routes.get(self.path, Route(status=404, body=b"<html>not found</html>"))
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()


ARTICLE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | Harbour Gazette</title>
<meta property="og:title" content="{title}">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{published}T08:30:00Z">
<meta property="og:site_name" content="Harbour Gazette">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article>
<h1>{title}</h1>
<p class="byline">By {author}</p>
{paragraphs}
</article>
<footer>Copyright Harbour Gazette. All rights reserved. Privacy policy. Contact us.</footer>
</body></html>
"""

DEFAULT_PARAGRAPHS = [
    "The city council of Portsmouth voted on Tuesday to fund a new harbour bridge, ending "
    "a debate that had divided residents for more than a decade.",
    "Mayor Helen Carter said the decision was a great victory for commuters and local "
    "businesses, who have complained about congestion on the old crossing for years.",
    "Critics, including the Green Coast Alliance, warned that construction could harm the "
    "estuary and said they would ask the Environment Agency to review the plans.",
    "Engineers from Atlantic Structures will begin surveying the site in March, and the "
    "council expects the bridge to open to traffic in the spring of 2029.",
    "Helen Carter added that the council would publish the full budget next week and hold "
    "public meetings in every ward before any work starts on the riverbank.",
]


def article_page(
    title: str = "Portsmouth approves new harbour bridge",
    author: str = "Jane Doe",
    published: str = "2026-11-20",
    paragraphs: list[str] | None = None,
) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in (paragraphs or DEFAULT_PARAGRAPHS))
    return ARTICLE_HTML.format(
        title=title, author=author, published=published, paragraphs=body
    ).encode("utf-8")


@pytest.fixture
def make_article_page() -> Callable[..., bytes]:
    return article_page


@pytest.fixture
def run_cli(pipeline: PipelineResources, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """`newsflow ...` against the moto resources (the target is the only thing replaced)."""
    from types import SimpleNamespace

    from typer.testing import CliRunner, Result

    from newsflow_cli import cli

    target = SimpleNamespace(
        output={"ArticlesTableName": pipeline.table, "ArticlesBucketName": pipeline.bucket}.get,
        client={"dynamodb": pipeline.dynamodb, "s3": pipeline.s3}.get,
        description=SimpleNamespace(stack_name="test-stack", functions=[]),
        kind="local",
        endpoint_url="http://127.0.0.1:1",  # only printed (the report's commands), never called
    )
    monkeypatch.setattr(cli, "_target", lambda *args, **kwargs: target)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli.app, list(args))

    return run
