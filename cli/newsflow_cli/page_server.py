"""A small web server on 127.0.0.1 that serves the sample pages, so fetching is real HTTP.

Besides the pages in ``sample_pages/`` it has the routes a pipeline must survive: a permanent
redirect, a missing page (404), a PDF (not HTML) and a page that is always unavailable (503,
a transient error that ends in the dead-letter queue). ``unavailable`` is a set that callers may
change while the server runs, to make any path fail with 503 and later recover. It also serves
sample feeds and sitemaps (:mod:`newsflow_cli.sample_feeds`), with conditional GET.
"""

from __future__ import annotations

import mimetypes
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from newsflow_cli import sample_feeds

SAMPLE_PAGES = Path(str(resources.files("newsflow_cli") / "sample_pages"))

# Old address -> new address (301), as a site that moved its blog would answer.
REDIRECTS = {"/blog/2026/09/danube-trip": "/blog/cycling-the-danube.html"}
ALWAYS_UNAVAILABLE = "/news/live/election-night.html"

# The demo's default input, in this order: articles first, then the failure cases.
SAMPLE_PATHS = (
    "/news/solar-ferry-trial.html",
    "/news/warehouse-fire.html",
    "/features/last-lighthouse-keepers.html",
    "/tech/maintainers-summit.html",
    "/de/hamburger-hafen.html",
    "/about.html",
    "/blog/2026/09/danube-trip",
    "/news/2026/11/retracted-story.html",
    "/reports/annual-report-2025.pdf",
    ALWAYS_UNAVAILABLE,
)

_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf"}


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (the fetcher refusing a PDF by its headers) are normal here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class PageServer:
    """Threaded HTTP server on a free loopback port. Use as a context manager."""

    def __init__(self, root: Path = SAMPLE_PAGES, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root.resolve()
        self._host = host
        self.redirects = dict(REDIRECTS)
        self.unavailable: set[str] = {ALWAYS_UNAVAILABLE}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = _QuietServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._server.server_port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def sample_urls(self) -> list[str]:
        return [self.url(path) for path in SAMPLE_PATHS]

    def sample_feed_urls(self) -> list[str]:
        """The sample sources: an RSS feed, a JSON Feed and a sitemap index."""
        return [self.url(path) for path in sample_feeds.SAMPLE_FEED_PATHS]

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ routing

    def _count(self, target: str) -> None:
        with self._lock:
            self.hits[target] = self.hits.get(target, 0) + 1

    def _file_for(self, path: str) -> Path | None:
        candidate = (self.root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def respond(
        self, target: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a request target (path plus optional query)."""
        self._count(target)
        path = urlsplit(target).path
        feed = sample_feeds.respond(path, self.base_url, headers or {})
        if feed is not None:
            return feed
        if target in self.unavailable or path in self.unavailable:
            body = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
            # No Retry-After: an ordinary transient failure (with one, the host would be
            # backed off and the record deferred instead of retried toward the DLQ).
            return 503, {"Content-Type": "text/html"}, body
        if path in self.redirects:
            return 301, {"Location": self.redirects[path]}, b""
        found = self._file_for(path)
        if found is None:
            body = b"<html><body><h1>404 Not Found</h1><p>No such page.</p></body></html>"
            return 404, {"Content-Type": "text/html; charset=utf-8"}, body
        content_type = _CONTENT_TYPES.get(found.suffix) or (
            mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        )
        return 200, {"Content-Type": content_type}, found.read_bytes()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, *, with_body: bool) -> None:
                status, headers, body = server.respond(self.path, dict(self.headers.items()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:  # a 304 has no body and no Content-Length of its own
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body and status != 304:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._reply(with_body=True)

            def do_HEAD(self) -> None:
                self._reply(with_body=False)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
