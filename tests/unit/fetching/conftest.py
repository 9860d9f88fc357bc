"""A misbehaving web server on 127.0.0.1 and the seams the fetcher tests need.

* ``hostile_server``: a threaded HTTP server whose routes misbehave on purpose (bombs, drips,
  huge headers, resets, lies about content). Each route writes raw bytes, so nothing is
  "fixed up" by a server library. It records every request and counts connections.
* ``fake_dns``: a resolver that answers from a table and records every lookup.
* ``public_net``: makes a documentation-free public address (``PUBLIC_IP``) lead to the
  loopback server, so a fetch can start from a *public* address with ``allow_loopback`` off -
  which is what "a redirect to a private address" needs. Any other non-loopback connection is
  refused, so no test can reach the outside world.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3.util.connection

PUBLIC_IP = "93.184.216.34"  # passes check_address; public_net routes it to loopback
OTHER_PUBLIC_IP = "93.184.216.35"
HTML = b"<!DOCTYPE html><html><head><title>Story</title></head><body><p>Text.</p></body></html>"
BOMB_BYTES = 8 * 1024 * 1024  # decoded size of the compression bombs
DRIP_INTERVAL = 0.05
DRIP_FOR = 8.0  # a drip ends by itself, so a fetch without a total deadline fails, not hangs

Route = Callable[["_Handler"], None]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    connection: int  # which accepted connection carried it


@dataclass
class HostileServer:
    host: str
    port: int
    stop: threading.Event
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    page_html: bytes = HTML  # what /page and friends serve
    drips: list[str] = field(default_factory=list)  # how each drip ended
    drip_ended: threading.Event = field(default_factory=threading.Event)

    def wait_for_drip(self) -> str:
        """How the drip ended: "client hung up" or "ran to the end" (the server's view)."""
        self.drip_ended.wait(DRIP_FOR + 2)
        with self.lock:
            return self.drips[-1] if self.drips else "no drip"

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        state = self.server.state
        with state.lock:
            state.connections += 1
            self.connection_number = state.connections

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(
                Request(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    connection=self.connection_number,
                )
            )
        route = state.routes.get(urlsplit(self.path).path) or _not_found
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ---------------------------------------------------------------- helpers for routes

    def raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def reply(
        self,
        status: int,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        *,
        content_type: str | None = "text/html; charset=utf-8",
        length: bool = True,
    ) -> None:
        lines = [f"HTTP/1.1 {status} Status".encode()]
        if content_type is not None:
            lines.append(f"Content-Type: {content_type}".encode())
        if length:
            lines.append(f"Content-Length: {len(body)}".encode())
        else:
            lines.append(b"Connection: close")
            self.close_connection = True
        lines += [f"{name}: {value}".encode() for name, value in headers or []]
        self.raw(b"\r\n".join(lines) + b"\r\n\r\n" + body)

    def query(self, name: str) -> str:
        return parse_qs(urlsplit(self.path).query)[name][0]

    def drip(self, stop: threading.Event) -> None:
        state = self.server.state
        ends = time.monotonic() + DRIP_FOR
        outcome = "ran to the end"
        try:
            while not stop.is_set() and time.monotonic() < ends:
                self.raw(b"x")
                time.sleep(DRIP_INTERVAL)
        except OSError:
            outcome = "client hung up"
        self.close_connection = True
        with state.lock:
            state.drips.append(outcome)
        state.drip_ended.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # misbehaving on purpose: a torn-down connection is expected, not news


def _not_found(h: _Handler) -> None:
    h.reply(404, b"<html>not here</html>")


@cache
def gzip_bomb() -> bytes:
    return gzip.compress(b"<html><body>" + b" " * BOMB_BYTES, compresslevel=9)


@cache
def deflate_bomb() -> bytes:
    return zlib.compress(b"<html><body>" + b" " * BOMB_BYTES, 9)


def _routes(stop: threading.Event) -> dict[str, Route]:
    def status(h: _Handler) -> None:
        h.reply(int(h.query("code")), b"<html>status page</html>")

    def redirect(h: _Handler) -> None:
        h.reply(
            int(h.query("code") if "code=" in h.path else 302), b"", [("Location", h.query("to"))]
        )

    def chain(h: _Handler) -> None:
        hops = int(h.query("n"))
        target = "/page" if hops == 0 else f"chain?n={hops - 1}"  # relative Location
        h.reply(302, b"", [("Location", target)])

    def drip_headers(h: _Handler) -> None:
        h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: ")
        h.drip(stop)

    def drip_body(h: _Handler) -> None:
        h.reply(200, b"<html><body>", length=False)
        h.drip(stop)

    def declared_huge(h: _Handler) -> None:
        h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000000\r\n\r\n")
        h.raw(b"<html>")
        h.close_connection = True

    def streamed(h: _Handler) -> None:
        size = int(h.query("size"))
        h.reply(200, b"<html><body>", length=False)
        sent = 12
        while sent < size:
            part = b"a" * min(16384, size - sent)
            h.raw(part)
            sent += len(part)

    def chunked(h: _Handler) -> None:
        size = int(h.query("size"))
        h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = 0
        while sent < size:
            part = b"a" * min(16384, size - sent)
            h.raw(b"%x\r\n%s\r\n" % (len(part), part))
            sent += len(part)
        h.raw(b"0\r\n\r\n")

    def many_headers(h: _Handler) -> None:
        h.reply(200, HTML, [(f"X-Filler-{i}", "y") for i in range(150)])

    def long_header(h: _Handler) -> None:
        h.reply(200, HTML, [("X-Long", "y" * 70_000)])

    def reset(h: _Handler) -> None:
        h.close_connection = True
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()

    def cut_body(h: _Handler) -> None:
        h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html>")
        h.close_connection = True

    def page_then_close(h: _Handler) -> None:
        # Looks keep-alive (no "Connection: close") but the server hangs up once idle.
        h.reply(200, HTML)
        h.close_connection = True

    def once_per_connection(h: _Handler) -> None:
        # Serves the first request of a connection; hangs up on any later one, unanswered.
        if getattr(h, "served_once", False):
            h.close_connection = True
            return
        h.served_once = True
        h.reply(200, HTML)

    return {
        "/page": lambda h: h.reply(200, HTML),
        "/page-then-close": page_then_close,
        "/once-per-connection": once_per_connection,
        "/gzip-page": lambda h: h.reply(200, gzip.compress(HTML), [("Content-Encoding", "gzip")]),
        "/gzip-bomb": lambda h: h.reply(200, gzip_bomb(), [("Content-Encoding", "gzip")]),
        "/deflate-bomb": lambda h: h.reply(200, deflate_bomb(), [("Content-Encoding", "deflate")]),
        "/brotli": lambda h: h.reply(200, b"\x1b\x00\x00", [("Content-Encoding", "br")]),
        "/bad-gzip": lambda h: h.reply(200, b"\x1f\x8bnot gzip", [("Content-Encoding", "gzip")]),
        "/status": status,
        "/redirect": redirect,
        "/chain": chain,
        "/loop": lambda h: h.reply(302, b"", [("Location", "/loop")]),
        "/no-location": lambda h: h.reply(302, b""),
        "/drip-headers": drip_headers,
        "/drip-body": drip_body,
        "/declared-huge": declared_huge,
        "/streamed": streamed,
        "/chunked": chunked,
        "/many-headers": many_headers,
        "/long-header": long_header,
        "/reset": reset,
        "/cut-body": cut_body,
        "/empty": lambda h: h.reply(200, b""),
        "/content-type": lambda h: h.reply(200, HTML, content_type=h.query("ct")),
        "/no-content-type": lambda h: h.reply(200, HTML, content_type=None),
        "/no-content-type-text": lambda h: h.reply(200, b"plain words", content_type=None),
        "/binary-as-html": lambda h: h.reply(200, bytes(range(256)) * 8),
        "/controls-as-html": lambda h: h.reply(200, bytes([1, 2, 3, 4, 65]) * 200),
        "/pdf-as-html": lambda h: h.reply(200, b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 20),
        "/utf16": lambda h: h.reply(
            200, HTML.decode().encode("utf-16"), content_type="text/html; charset=utf-16"
        ),
    }


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    stop = threading.Event()
    server = _Server(("127.0.0.1", 0), _Handler)
    state = HostileServer(host="127.0.0.1", port=server.server_address[1], stop=stop)
    state.routes.update(_routes(stop))
    server.state = state
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@dataclass
class FakeDNS:
    """A resolver from a table: host -> addresses, or an exception to raise."""

    table: dict[str, list[str] | BaseException] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    later: dict[str, list[str]] = field(default_factory=dict)  # answers after the first

    def __call__(self, host: str, port: int) -> list[str]:
        first = all(h != host for h, _ in self.calls)
        self.calls.append((host, port))
        if not first and host in self.later:
            return self.later[host]
        answer = self.table.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def hosts(self) -> list[str]:
        return [host for host, _ in self.calls]


@pytest.fixture
def fake_dns() -> FakeDNS:
    return FakeDNS()


@dataclass
class PublicNet:
    ip: str = PUBLIC_IP
    other_ip: str = OTHER_PUBLIC_IP
    connects: list[tuple[str, int]] = field(default_factory=list)  # every address dialled


@pytest.fixture
def public_net(monkeypatch: pytest.MonkeyPatch) -> PublicNet:
    net = PublicNet()
    real = urllib3.util.connection.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        net.connects.append((host, port))
        if host in (PUBLIC_IP, OTHER_PUBLIC_IP):
            return real(("127.0.0.1", port), *args, **kwargs)
        if host in ("127.0.0.1", "::1"):
            return real(address, *args, **kwargs)
        raise ConnectionRefusedError(111, "Connection refused (test network: loopback only)")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return net
