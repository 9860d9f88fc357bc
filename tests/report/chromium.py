"""Load a local HTML file in headless Chromium and report what the page did.

Talks the DevTools protocol over ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-
separated JSON), so it needs no websocket library and no port. Network events come from the
page's own session, so the browser's background traffic (component updates and the like)
never counts as the page's request, while any request the page makes - an image, a font, a
script, a fetch - does, whatever its host.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
LOAD_TIMEOUT_SECONDS = 30.0


def find_chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageRun:
    """What one page load did."""

    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    console: list[str] = field(default_factory=list)  # console calls, exceptions, log errors
    text: str = ""  # document.body.innerText after load
    html: str = ""  # the DOM after load
    screenshot: bytes = b""

    def outside_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(("file:", "data:"))]


class _Pipe:
    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out = to_browser
        self._in = from_browser
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(event.get("method") == method for event in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(self._read())

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Read events until every request seen has ended and nothing came for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = {e["params"]["requestId"] for e in self._named("Network.requestWillBeSent")}
            ended = {
                e["params"]["requestId"]
                for e in self._named("Network.loadingFinished", "Network.loadingFailed")
            }
            event = self._read(timeout=quiet)
            if event is not None:
                self.events.append(event)
            elif started <= ended:
                return

    def _named(self, *methods: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("method") in methods]

    def _read(self, timeout: float | None = None) -> Any:
        while b"\0" not in self._buffer:
            if timeout is not None and not select.select([self._in], [], [], timeout)[0]:
                return None
            chunk = os.read(self._in, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)


def load(chromium: str, page: Path, *, width: int = 1280, height: int = 2400) -> PageRun:
    """Open ``page`` (a local file), wait for its load event, and collect what happened."""
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()

    # Chromium reads commands on fd 3 and writes replies on fd 4: bash wires them up.
    wiring = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
    # Chromium's helper processes may still be closing files in the profile when it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [
                "bash",  # dash takes only one-digit descriptors in redirections
                "-c",
                wiring,
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                # No name resolves: nothing can leave this machine, whatever the page asks for.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_browser_r, from_browser_w),
            start_new_session=True,  # its own process group: the helpers are stopped with it
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            return _drive(_Pipe(to_browser_w, from_browser_r), page, width, height)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            os.close(to_browser_w)
            os.close(from_browser_r)


def _drive(pipe: _Pipe, page: Path, width: int, height: int) -> PageRun:
    target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Network", "Runtime", "Log"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    pipe.events.clear()
    pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
    pipe.wait_for("Page.loadEventFired", LOAD_TIMEOUT_SECONDS)
    pipe.settle()  # late requests (lazy images, timers) and their ends still show up
    text = pipe.send(
        "Runtime.evaluate",
        {"expression": "document.body.innerText", "returnByValue": True},
        session=session,
    )["result"].get("value", "")
    html = pipe.send(
        "Runtime.evaluate",
        {"expression": "document.documentElement.outerHTML", "returnByValue": True},
        session=session,
    )["result"].get("value", "")
    shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    run = PageRun(text=str(text), html=str(html), screenshot=base64.b64decode(shot))
    for event in pipe.events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            run.requests.append(str(params["request"]["url"]))
        elif method == "Runtime.consoleAPICalled":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            run.console.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            run.console.append(f"exception: {params['exceptionDetails'].get('text', '')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            run.console.append(f"log {params['entry']['level']}: {params['entry']['text']}")
    return run
