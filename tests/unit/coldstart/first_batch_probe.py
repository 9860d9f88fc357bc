"""One fetch batch in this fresh interpreter: which models did its records build?

Run by ``test_deferred_models.py`` (not collected by pytest). Models defer their schemas to
first use; the fetch handler's stage builds the ones its records use before the records' threads
start. A model that a record still builds is built in a worker thread, where two records could
build it at once. Prints one JSON line: the models the batch built, those still deferred after
it, and the batch's response.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

from moto import mock_aws
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[3]


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def deferred_models() -> set[str]:
    """newsflow's models whose schemas are not built yet."""
    found = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("newsflow."):
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == name
                and not value.__pydantic_complete__
            ):
                found.add(f"{name}.{value.__qualname__}")
    return found


def serve(pages: dict[str, tuple[int, bytes]]) -> str:
    """A loopback server for ``pages`` (path -> status, body); returns its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = pages.get(self.path, (404, b"<html>not found</html>"))
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    fixtures = load(ROOT / "tests" / "conftest.py", "fixtures_of_the_suite")
    from newsflow_cli.poller import build_sqs_event
    from newsflow_cli.sam_template import load_template

    page = fixtures.article_page()
    base = serve(
        {
            "/story": (200, page),
            "/copy": (200, page),  # an exact copy of /story
            "/other": (200, fixtures.article_page(title="Another story", author="Ann Lee")),
            "/busy": (503, b"<html>busy</html>"),
        }
    )
    bodies = [
        f"{base}/story",
        json.dumps({"url": f"{base}/copy", "source": "probe", "metadata": {"k": "v"}}),
        f"{base}/other",
        f"{base}/gone",
        f"{base}/busy",
        "not a url at all",
        '{"url": ""}',
    ]
    with mock_aws():
        resources = fixtures.create_pipeline_resources(load_template(fixtures.TEMPLATE_PATH))
        for body in bodies:
            resources.sqs.send_message(QueueUrl=resources.ingest_queue_url, MessageBody=body)
        messages = resources.receive_all(resources.ingest_queue_url)
        event = build_sqs_event(messages, queue_arn="arn:aws:sqs:us-east-1:1:q", region="us-east-1")

        os.environ.update(
            {
                **resources.fetch_env(),
                "NEWSFLOW_ALLOW_LOOPBACK": "true",
                "HOST_REQUESTS_PER_SECOND": "100",  # every page is on 127.0.0.1
            }
        )
        handler = load(ROOT / "functions" / "fetch" / "app.py", "app")
        handler._stage()
        before = deferred_models()
        response = handler.lambda_handler(event, fixtures.LambdaContextStub())
        after = deferred_models()
        statuses = sorted(
            item["status"]["S"]
            for item in resources.dynamodb.scan(TableName=resources.table)["Items"]
            if "status" in item
        )
    print(
        json.dumps(
            {
                "built_by_records": sorted(before - after),
                "still_deferred": sorted(after),
                "response": response,
                "statuses": statuses,
            }
        )
    )


if __name__ == "__main__":
    main()
