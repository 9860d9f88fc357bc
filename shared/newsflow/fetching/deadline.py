"""One deadline for the whole fetch: connect, TLS, headers, body and redirects together.

Socket timeouts bound each read, not their sum, so a server that drips a byte a second - even
inside the headers or the TLS handshake - could hold the function far past its timeout. A
watchdog timer shuts the current socket down when the deadline passes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import NoReturn

from newsflow.errors import PipelineError, Reason, Stage, TransientError
from newsflow.settings import FetchPolicy


class Watchdog:
    """Shuts down the current socket when the fetch's deadline passes.

    Socket timeouts bound each read, not their sum; this bounds the sum, whatever phase the
    fetch is in (TLS handshake, header lines, chunked body). Once :meth:`finish` has run, a late
    timer touches nothing, so a connection handed back to the idle pool stays intact.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._finished = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.expired and sock is not None:
                _shutdown(sock)

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            self._sock = None
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            if self._sock is not None:
                _shutdown(self._sock)


def _shutdown(sock: socket.socket) -> None:
    # The plain-socket method, so an SSL socket is cut without touching its TLS state;
    # OSError means it is already closed and there is nothing left to interrupt.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class FetchDeadline:
    """State of one :meth:`SafeFetcher.fetch` call: its deadline and its watchdog."""

    def __init__(self, url: str, policy: FetchPolicy) -> None:
        self.url = url
        self.policy = policy
        self.deadline = time.monotonic() + policy.timeout_seconds
        self.watchdog = Watchdog(policy.timeout_seconds)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.watchdog.expired or self.remaining() <= 0

    def check_deadline(self) -> None:
        if self.expired():
            raise self.timeout()

    def fail(self, exc: BaseException, error: PipelineError) -> NoReturn:
        """Raise ``error`` for ``exc`` - or the timeout, when the deadline has passed: then the
        watchdog has cut the socket and ``exc`` is only the echo of that."""
        if self.expired():
            raise self.timeout() from exc
        raise error from exc

    def timeout(self) -> TransientError:
        return TransientError(
            Reason.TIMEOUT,
            f"no complete response within {self.policy.timeout_seconds:g} s",
            stage=Stage.FETCH,
        )
