"""A loopback feed server that honours conditional GETs, and an in-memory source table.

``feed_server`` serves documents by path; each has an ETag and a Last-Modified, and a request
carrying the matching ``If-None-Match``/``If-Modified-Since`` gets ``304 Not Modified``. Every
request is recorded with its headers, so a test can see what the poller sent.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newsflow.fetching import SafeFetcher
from newsflow.settings import FetchPolicy
from newsflow.sources.models import Source

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Document:
    body: bytes
    content_type: str = "application/rss+xml"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = "Mon, 01 Dec 2025 10:00:00 GMT"
    location: str | None = None


@dataclass
class FeedServer:
    host: str
    port: int
    documents: dict[str, Document] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, body: bytes, **options: Any) -> str:
        version = len(self.documents) + len(self.requests)
        options.setdefault("etag", f'"v{version}-{len(body)}"')
        self.documents[path] = Document(body, **options)
        return self.url(path)

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if p == path)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer(host="127.0.0.1", port=0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with state.lock:
                state.requests.append((self.path, dict(self.headers.items())))
            doc = state.documents.get(self.path)
            if doc is None:
                self._reply(404, b"not found", {"Content-Type": "text/plain"})
                return
            if doc.location is not None:
                self._reply(doc.status, b"", {"Location": doc.location})
                return
            validators = {"ETag": doc.etag, "Last-Modified": doc.last_modified}
            headers = {k: v for k, v in validators.items() if v}
            match = self.headers.get("If-None-Match")
            since = self.headers.get("If-Modified-Since")
            unchanged = match == doc.etag if match else since == doc.last_modified
            if (match or since) and unchanged:
                self._reply(304, b"", headers)
                return
            self._reply(doc.status, doc.body, {"Content-Type": doc.content_type, **headers})

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetcher() -> SafeFetcher:
    policy = FetchPolicy.model_validate(
        {"allow_loopback": True, "timeout_seconds": 3.0, "max_content_bytes": 256 * 1024}
    )
    return SafeFetcher(policy)


@dataclass
class MemorySources:
    """An in-memory :class:`~newsflow.sources.polling.SourceStore` that counts its writes."""

    sources: dict[str, Source] = field(default_factory=dict)
    seen_items: dict[tuple[str, str], datetime] = field(default_factory=dict)
    source_writes: int = 0
    seen_writes: int = 0

    def get(self, source_id: str) -> Source | None:
        return self.sources.get(source_id)

    def save(self, source: Source) -> None:
        self.source_writes += 1
        self.sources[source.source_id] = source

    def all(self) -> list[Source]:
        return list(self.sources.values())

    def claim(self, source: Source, until: datetime) -> bool:
        current = self.sources.get(source.source_id)
        if current is None or current.next_poll_at != source.next_poll_at:
            return False
        self.sources[source.source_id] = current.model_copy(update={"next_poll_at": until})
        return True

    def seen(self, source_id: str, article_ids: Sequence[str], now: datetime) -> set[str]:
        return {a for a in article_ids if self.seen_items.get((source_id, a), now) > now}

    def mark_seen(
        self,
        source_id: str,
        links: Mapping[str, str],
        expires_at: datetime,
        pushed: Collection[str] = (),
    ) -> int:
        for article_id in links:
            self.seen_writes += 1
            self.seen_items[(source_id, article_id)] = expires_at
        return len(links)


@dataclass
class MemoryQueue:
    bodies: list[str] = field(default_factory=list)

    def send_all(self, bodies: Sequence[str]) -> int:
        self.bodies.extend(bodies)
        return len(bodies)
