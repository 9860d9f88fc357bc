"""Loopback hosts that answer every request after a fixed latency, in a process of their own.

The concurrency bench times FetchFunction's handler in its own process; the stand-in web sites
must not share its GIL (on Lambda they are on other machines). ``python -m bench.slow_hosts
LATENCY_MS ADDRESS...`` serves one host per address (a free port each, a generated page at
every path but ``/robots.txt``, which allows everything), prints the ports as one JSON line and
serves until its standard input closes: the parent holds that pipe, so the hosts end with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from newsflow_cli.moto_process import stop_child

_START_TIMEOUT_SECONDS = 30.0
ROBOTS = b"User-agent: *\nAllow: /\n"


def _server(address: str, latency_s: float, page: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(latency_s)
            robots = self.path == "/robots.txt"
            body = ROBOTS if robots else page
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if robots else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((address, 0), Handler)
    server.daemon_threads = True
    return server


class SlowHosts:
    """The parent's handle: ``url(index, path)``, ``pid``, ``stop()``."""

    def __init__(self, root: Path, addresses: tuple[str, ...], latency_ms: float) -> None:
        self.addresses = addresses
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.slow_hosts", str(latency_ms), *addresses],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        from newsflow_cli.lambda_runtime import read_line

        assert self._process.stdout is not None
        line = read_line(self._process.stdout, _START_TIMEOUT_SECONDS)
        if not line:
            self.stop()
            raise RuntimeError(f"the slow hosts did not start (they said {line!r})")
        self.ports: list[int] = json.loads(line)

    @property
    def pid(self) -> int:
        return self._process.pid

    def url(self, index: int, path: str) -> str:
        return f"http://{self.addresses[index]}:{self.ports[index]}{path}"

    def stop(self) -> None:
        stop_child(self._process)


def main(argv: list[str]) -> None:
    from bench.samples import make_page

    latency_s = float(argv[0]) / 1000
    servers = [_server(address, latency_s, make_page(i).html) for i, address in enumerate(argv[1:])]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps([server.server_address[1] for server in servers]), flush=True)
    sys.stdin.read()  # until the parent closes the pipe (or ends)
    for server in servers:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
