"""A loopback web site for the benchmarks: fixed pages from memory, gzip when asked.

Real servers compress HTML, so a client that sends ``Accept-Encoding: gzip`` gets the page
gzipped with ``Content-Encoding: gzip`` (the fetcher then pays for decoding, as in production).
Binds a loopback address only (127.0.0.1 unless told another of 127.0.0.0/8: several sites on
distinct addresses are distinct hosts to the fetcher's per-host politeness).
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LoopbackSite:
    """``add(path, html)`` then ``url(path)``; use as a context manager."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.address = address
        self._pages: dict[str, tuple[bytes, bytes]] = {}
        self.hits = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                site.hits += 1
                page = site._pages.get(self.path.split("?", 1)[0])
                if page is None:
                    body, headers = b"<html><body>not found</body></html>", {}
                    self.send_response(404)
                else:
                    plain, packed = page
                    wants_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "")
                    body = packed if wants_gzip else plain
                    headers = {"Content-Encoding": "gzip"} if wants_gzip else {}
                    self.send_response(200)
                self.send_header("Content-Type", "text/html")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((address, 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def add(self, path: str, html: bytes) -> str:
        self._pages[path] = (html, gzip.compress(html, compresslevel=6, mtime=0))
        return self.url(path)

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
