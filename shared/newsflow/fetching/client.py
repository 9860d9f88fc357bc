"""The HTTP client: one untrusted URL fetched under a policy, every failure mapped to a sentence.

For each hop (the URL, then each redirect, followed by hand): the target's form is checked by
the one URL rule (:mod:`newsflow.fetching.target`), the port by the policy, the host resolved
once and every address checked (:mod:`newsflow.fetching.addresses`); the connection goes to one
of *those* addresses - the host name is used only for the ``Host`` header and for TLS (SNI and
certificate verification), never resolved again, so DNS rebinding cannot swap the address after
the check. One deadline covers the whole fetch (:mod:`newsflow.fetching.deadline`). The body is
capped on *decoded* bytes (urllib3 decodes at most one chunk at a time), so a gzip bomb stops at
the cap; only HTML and XHTML are accepted (:mod:`newsflow.fetching.sniffing`).

urllib3, socket and ssl errors become :class:`~newsflow.errors.PermanentError` or
:class:`~newsflow.errors.TransientError` with ``stage=fetch`` and a sentence a person can read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    InvalidHeader,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.response import BaseHTTPResponse
from urllib3.util.ssl_match_hostname import CertificateError

from newsflow.errors import HostBusyError, PermanentError, Reason, Stage, TransientError
from newsflow.fetching import addresses as address_policy
from newsflow.fetching.addresses import (
    Resolver,
    check_address,
    connect_form,
    is_loopback,
    parse_ip,
    resolve_within,
)
from newsflow.fetching.deadline import FetchDeadline, Watchdog
from newsflow.fetching.modes import HTML, ContentMode
from newsflow.fetching.sniffing import parse_content_type
from newsflow.fetching.target import Target, target_for
from newsflow.settings import FetchPolicy

ACCEPT = "text/html,application/xhtml+xml"
ACCEPT_ENCODING = "gzip, deflate"  # what urllib3 decodes without optional packages
DECODABLE_ENCODINGS = frozenset({"identity", "gzip", "x-gzip", "deflate"})
REDIRECT_STATUSES = frozenset({300, 301, 302, 303, 307, 308})
TRANSIENT_STATUSES = frozenset({408, 429})
TOO_MANY_REQUESTS, UNAVAILABLE = 429, 503
READ_CHUNK_BYTES = 64 * 1024
MAX_IDLE_CONNECTIONS = 8


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FetchedPage:
    requested_url: str
    final_url: str  # after redirects
    status: int  # final HTTP status (2xx only; anything else raises)
    content_type: str  # media type only, lower-case, e.g. "text/html"
    charset: str | None  # from the Content-Type header, if Python knows the encoding
    body: bytes = field(repr=False)  # decoded body, <= policy.max_content_bytes
    redirects: tuple[str, ...] = ()  # URLs followed, in order
    etag: str | None = None  # validators for the next conditional GET
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """A conditional GET answered ``304 Not Modified`` (empty body, nothing to parse)."""
        return self.status == NOT_MODIFIED


NOT_MODIFIED = 304


@dataclass(frozen=True)
class _Request:
    """What one call asks for beyond the URL: the content mode and extra request headers."""

    mode: ContentMode = HTML
    headers: tuple[tuple[str, str], ...] = ()


def _blocked(detail: str) -> PermanentError:
    return PermanentError(Reason.BLOCKED_URL, detail, stage=Stage.FETCH)


class _WatchedHTTPConnection(HTTPConnection):
    watchdog: Watchdog | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if self.watchdog is not None:
            self.watchdog.watch(sock)
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    watchdog: Watchdog | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if self.watchdog is not None:
            self.watchdog.watch(sock)  # before the handshake, which a server can drip too
        return sock


_Connection = _WatchedHTTPConnection | _WatchedHTTPSConnection
_PoolKey = tuple[str, str, int, str]  # scheme, IP, port, host name


# --------------------------------------------------------------------------- the fetcher


class SafeFetcher:
    """Downloads one untrusted URL at a time under a :class:`FetchPolicy`.

    One instance per container: it keeps a few idle keep-alive connections, keyed by scheme,
    checked IP, port and host name, so a batch of pages from one site reuses its TLS session -
    and a connection is only ever reused for an address that the current hop has just checked.
    Thread-safe: each call keeps its own state.
    """

    def __init__(self, policy: FetchPolicy, resolver: Resolver | None = None) -> None:
        self._policy = policy
        self._resolver = resolver or address_policy.system_resolver
        self._idle: OrderedDict[_PoolKey, _Connection] = OrderedDict()
        self._idle_lock = threading.Lock()

    def fetch(
        self,
        url: str,
        *,
        mode: ContentMode = HTML,
        conditional: dict[str, str] | None = None,
    ) -> FetchedPage:
        """GET ``url``, following up to ``policy.max_redirects`` checked redirects.

        ``mode`` says which content is accepted (HTML unless told); ``conditional`` holds
        ``If-None-Match``/``If-Modified-Since`` headers, and a ``304`` answer to them comes
        back as a page with ``not_modified`` set and an empty body.

        Raises PermanentError (invalid/blocked URL, 4xx, not HTML, too large, TLS failure,
        too many redirects, host that does not exist) or TransientError (timeout, connection
        failure, DNS hiccup, 408/429/5xx), both with ``stage=fetch``.
        """
        state = FetchDeadline(url, self._policy)
        request = _Request(mode, tuple((conditional or {}).items()))
        try:
            redirects: list[str] = []
            current = url
            while True:
                target = target_for(current)
                location = self._hop(target, state, request)
                if isinstance(location, FetchedPage):
                    return replace(location, requested_url=url, redirects=tuple(redirects))
                next_url = _redirect_target(target.url, location)
                if len(redirects) >= self._policy.max_redirects:
                    raise PermanentError(
                        Reason.TOO_MANY_REDIRECTS,
                        f"more than {self._policy.max_redirects} redirects"
                        f" (the last one pointed to {next_url})",
                        stage=Stage.FETCH,
                    )
                redirects.append(next_url)
                current = next_url
        finally:
            state.watchdog.finish()

    def close(self) -> None:
        """Close the idle keep-alive connections (the fetcher stays usable)."""
        with self._idle_lock:
            idle = list(self._idle.values())
            self._idle.clear()
        for conn in idle:
            conn.close()

    # ------------------------------------------------------------------ one hop

    def _hop(
        self, target: Target, state: FetchDeadline, request: _Request = _Request()
    ) -> FetchedPage | str:
        """One request: the page, or the Location to follow next."""
        addresses = self._checked_addresses(target, state)
        state.check_deadline()
        conn, key, reused = self._connect(target, addresses, state)
        response: BaseHTTPResponse | None = None
        keep = False
        try:
            try:
                response, sock = self._send(conn, target, state, request)
            except TransientError:
                if not reused or state.expired():
                    raise
                # The server closed an idle keep-alive connection under us: retry once, fresh.
                conn.close()
                conn, key, reused = self._connect(target, addresses, state, reuse=False)
                response, sock = self._send(conn, target, state, request)
            result = self._handle(response, target, state, request)
            keep = isinstance(result, FetchedPage) and _reusable(conn, sock, response, state)
            return result
        finally:
            if keep:
                state.watchdog.watch(None)  # a late timer must not cut a parked connection
                self._park(key, conn)
            else:
                # The response may hold the socket after http.client let go of it (a
                # "Connection: close" reply): close both, or the server keeps sending.
                if response is not None:
                    response.close()
                conn.close()

    def _checked_addresses(self, target: Target, state: FetchDeadline) -> list[str]:
        policy = self._policy
        port_allowed = target.port in policy.allowed_ports
        if not port_allowed and not policy.allow_loopback:
            raise _blocked(self._port_refusal(target.port))
        if target.ip is not None:
            addresses = [str(target.ip)]
            subject = "refused"
        else:
            addresses = self._resolve(target, state)
            subject = f"refused {target.host}"
        for address in addresses:
            reason = check_address(address, allow_loopback=policy.allow_loopback)
            if reason is not None:
                raise _blocked(f"{subject}: {reason}")
        if not port_allowed and not all(
            is_loopback(ip) for ip in map(parse_ip, addresses) if ip is not None
        ):
            raise _blocked(self._port_refusal(target.port))
        # Connect to an IPv4-mapped address as plain IPv4: same host, no dual-stack surprises.
        return [connect_form(address) for address in addresses]

    def _port_refusal(self, port: int) -> str:
        allowed = ", ".join(str(p) for p in sorted(self._policy.allowed_ports)) or "none"
        return f"refused: port {port} is not allowed (allowed: {allowed})"

    def _resolve(self, target: Target, state: FetchDeadline) -> list[str]:
        host = target.host
        try:
            # DNS counts inside the fetch's one deadline.
            found = resolve_within(self._resolver, host, target.port, state.remaining())
        except TimeoutError as exc:
            raise state.timeout() from exc
        except socket.gaierror as exc:
            if exc.errno in _NO_SUCH_HOST:
                # The name does not exist: retrying the same URL will not make it appear.
                raise PermanentError(
                    Reason.CONNECTION_ERROR,
                    f"host {host} does not exist (DNS: {exc.strerror or exc})",
                    stage=Stage.FETCH,
                ) from exc
            raise TransientError(
                Reason.CONNECTION_ERROR,
                f"could not resolve {host} right now (DNS: {exc.strerror or exc})",
                stage=Stage.FETCH,
            ) from exc
        except OSError as exc:
            raise TransientError(
                Reason.CONNECTION_ERROR, f"could not resolve {host}: {exc}", stage=Stage.FETCH
            ) from exc
        addresses = list(dict.fromkeys(found))
        if not addresses:
            raise PermanentError(
                Reason.CONNECTION_ERROR, f"host {host} has no IP address", stage=Stage.FETCH
            )
        return addresses

    def _connect(
        self, target: Target, addresses: list[str], state: FetchDeadline, *, reuse: bool = True
    ) -> tuple[_Connection, _PoolKey, bool]:
        """A connection to the first checked address that answers."""
        if reuse:
            for address in addresses:
                key = (target.scheme, address, target.port, target.host)
                conn = self._unpark(key)
                if conn is not None:
                    conn.watchdog = state.watchdog
                    state.watchdog.watch(conn.sock)
                    return conn, key, True
        failures: list[str] = []
        timeouts = 0
        for address in addresses:
            state.check_deadline()
            key = (target.scheme, address, target.port, target.host)
            timeout = min(state.remaining(), self._policy.connect_timeout_seconds)
            conn = self._new_connection(target, address, timeout)
            conn.watchdog = state.watchdog
            try:
                conn.connect()
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
                # A hang-up mid-handshake (overload, a flaky middlebox) is not a TLS verdict.
                conn.close()
                if state.expired():
                    raise state.timeout() from exc
                failures.append(f"{target.host} hung up during the TLS handshake")
                continue
            except (ssl.SSLError, CertificateError, Urllib3SSLError) as exc:
                conn.close()
                state.fail(
                    exc,
                    PermanentError(
                        Reason.TLS_ERROR,
                        f"TLS with {target.host} failed: {_ssl_text(exc)}",
                        stage=Stage.FETCH,
                    ),
                )
            except (ConnectTimeoutError, OSError) as exc:
                conn.close()
                if state.expired():
                    raise state.timeout() from exc
                failure, timed_out = _connect_failure(address, target.port, exc, timeout)
                failures.append(failure)
                timeouts += timed_out
                continue
            return conn, key, False
        raise TransientError(
            Reason.TIMEOUT if timeouts == len(failures) else Reason.CONNECTION_ERROR,
            f"could not connect to {target.host}: " + "; ".join(failures),
            stage=Stage.FETCH,
        )

    @staticmethod
    def _new_connection(target: Target, address: str, timeout: float) -> _Connection:
        if target.scheme == "https":
            # Connect to the checked IP; verify the certificate (and send SNI) for the real host.
            return _WatchedHTTPSConnection(
                address,
                target.port,
                timeout=timeout,
                cert_reqs="CERT_REQUIRED",
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        return _WatchedHTTPConnection(address, target.port, timeout=timeout)

    def _send(
        self,
        conn: _Connection,
        target: Target,
        state: FetchDeadline,
        request: _Request = _Request(),
    ) -> tuple[BaseHTTPResponse, socket.socket | None]:
        """Send the GET and read the status line and headers."""
        policy = self._policy
        conn.timeout = max(state.remaining(), 0.001)
        try:
            conn.request(
                "GET",
                target.request_target,
                headers={
                    "Host": target.host_header,
                    "User-Agent": policy.user_agent,
                    "Accept": request.mode.accept,
                    "Accept-Encoding": ACCEPT_ENCODING,
                    **dict(request.headers),
                },
                preload_content=False,
                decode_content=True,
                enforce_content_length=True,
            )
            # http.client drops its reference to the socket when the server says "close";
            # keep ours to know whether the connection can serve the next request.
            sock = conn.sock
            response = conn.getresponse()
        except http.client.LineTooLong as exc:
            state.fail(exc, _protocol_error("a response header line exceeds 65,536 bytes"))
        except http.client.RemoteDisconnected as exc:
            state.fail(exc, _connection_error("the server closed the connection without replying"))
        except http.client.ImproperConnectionState as exc:
            state.fail(exc, _connection_error(f"the connection was not ready ({exc!r})"))
        except http.client.BadStatusLine as exc:
            state.fail(exc, _protocol_error("the server's reply is not HTTP"))
        except http.client.HTTPException as exc:
            state.fail(exc, _protocol_error(f"malformed HTTP response ({exc})"))
        except (TimeoutError, ReadTimeoutError) as exc:
            raise state.timeout() from exc
        except InvalidHeader as exc:  # e.g. two Content-Length values that disagree
            state.fail(exc, _protocol_error(f"malformed HTTP response headers ({exc})"))
        except (OSError, HTTPError) as exc:
            state.fail(exc, _connection_error(f"the connection failed ({_ssl_text(exc)})"))
        return response, sock

    def _handle(
        self,
        response: BaseHTTPResponse,
        target: Target,
        state: FetchDeadline,
        request: _Request = _Request(),
    ) -> FetchedPage | str:
        status = response.status
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if status == NOT_MODIFIED and request.headers:
            response.drain_conn()
            return FetchedPage(
                requested_url=target.url,
                final_url=target.url,
                status=status,
                content_type="",
                charset=None,
                body=b"",
                etag=etag,
                last_modified=last_modified,
            )
        if status in REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if location:
                return location
            raise PermanentError(
                Reason.HTTP_ERROR,
                f"redirect ({status}) without a Location header",
                stage=Stage.FETCH,
                http_status=status,
            )
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if status == TOO_MANY_REQUESTS or (status == UNAVAILABLE and retry_after is not None):
            # "slow down" (429), or "down until then" (503 + Retry-After): the host backs off
            raise HostBusyError(
                Reason.HTTP_ERROR,
                f"the server answered {status} {response.reason or ''}".rstrip(),
                stage=Stage.FETCH,
                http_status=status,
                retry_after_seconds=retry_after,
            )
        if not 200 <= status < 300:
            error = TransientError if status in TRANSIENT_STATUSES or status >= 500 else None
            raise (error or PermanentError)(
                Reason.HTTP_ERROR,
                f"the server answered {status} {response.reason or ''}".rstrip(),
                stage=Stage.FETCH,
                http_status=status,
            )
        content_types = response.headers.getlist("Content-Type")
        media_type, charset = parse_content_type(content_types[-1] if content_types else "")
        mode = request.mode
        if media_type and not mode.accepts(media_type):
            raise mode.refused(f"content type {media_type} is not {mode.name}")
        self._check_encoding(response)
        body = self._read_body(response, state)
        return FetchedPage(
            requested_url=target.url,
            final_url=target.url,
            status=status,
            content_type=mode.checked_media_type(media_type, body, charset),
            charset=charset,
            body=body,
            etag=etag,
            last_modified=last_modified,
        )

    def _check_encoding(self, response: BaseHTTPResponse) -> None:
        value = response.headers.get("Content-Encoding", "")
        codings = [c.strip().lower() for c in value.split(",") if c.strip()]
        unknown = [c for c in codings if c not in DECODABLE_ENCODINGS]
        if unknown:
            raise PermanentError(
                Reason.HTTP_ERROR,
                f"unsupported Content-Encoding {', '.join(unknown)} (asked for gzip or deflate)",
                stage=Stage.FETCH,
            )

    def _read_body(self, response: BaseHTTPResponse, state: FetchDeadline) -> bytes:
        cap = self._policy.max_content_bytes
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise _too_large(f"Content-Length {int(declared):,} exceeds the {cap:,} byte limit")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                state.check_deadline()
                # read1 decodes at most this many bytes per call: a bomb never balloons.
                chunk = response.read1(READ_CHUNK_BYTES)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise _too_large(f"body exceeds {cap:,} bytes")
                chunks.append(chunk)
        except (TimeoutError, ReadTimeoutError) as exc:
            raise state.timeout() from exc
        except DecodeError as exc:
            encoding = response.headers.get("Content-Encoding", "?")
            state.fail(
                exc,
                _protocol_error(
                    f"the body could not be decompressed (Content-Encoding: {encoding})"
                ),
            )
        except (ProtocolError, HTTPError, OSError, http.client.HTTPException) as exc:
            state.fail(
                exc, _connection_error(f"the connection broke after {size:,} bytes of the body")
            )
        # A watchdog shutdown looks like a clean end of a body without Content-Length.
        state.check_deadline()
        return b"".join(chunks)

    # ------------------------------------------------------------------ idle connections

    def _park(self, key: _PoolKey, conn: _Connection) -> None:
        conn.watchdog = None
        with self._idle_lock:
            previous = self._idle.pop(key, None)
            self._idle[key] = conn
            evicted = [previous] if previous is not None else []
            while len(self._idle) > MAX_IDLE_CONNECTIONS:
                evicted.append(self._idle.popitem(last=False)[1])
        for old in evicted:
            old.close()

    def _unpark(self, key: _PoolKey) -> _Connection | None:
        with self._idle_lock:
            conn = self._idle.pop(key, None)
        if conn is None:
            return None
        if conn.is_connected:
            return conn
        conn.close()  # the server closed it while idle
        return None


_NO_SUCH_HOST = frozenset(
    code
    for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
    if code is not None
)


def _reusable(
    conn: _Connection, sock: socket.socket | None, response: BaseHTTPResponse, state: FetchDeadline
) -> bool:
    """Whether a connection can serve the next request: body read to its end, still open."""
    return (
        not state.expired()
        and response.closed
        and sock is not None
        and conn.sock is sock  # http.client let go of it when the server said "close"
        and conn.is_connected
    )


def _connect_failure(
    address: str, port: int, exc: BaseException, timeout: float
) -> tuple[str, bool]:
    """A readable account of one failed connection attempt, and whether it timed out."""
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    cause = exc.__cause__ if isinstance(exc, NewConnectionError) else exc
    if isinstance(cause, TimeoutError) or (
        isinstance(exc, ConnectTimeoutError) and not isinstance(exc, NewConnectionError)
    ):
        return f"{where} did not answer within {timeout:g} s", True
    if isinstance(cause, ConnectionRefusedError):
        return f"{where} refused the connection", False
    if isinstance(cause, OSError) and cause.strerror:
        return f"{where}: {cause.strerror.lower()}", False
    return f"{where}: {cause}", False


def _ssl_text(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed ({exc.verify_message})"
    if isinstance(exc, CertificateError):
        return f"certificate verification failed ({exc})"
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ssl.SSLError) and reason:
        return str(reason).lower().replace("_", " ")
    return str(exc) or type(exc).__name__


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header (a delay in seconds or an HTTP date) as seconds from now."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _location_text(raw: str) -> str:
    """A Location header as text: http.client reads header bytes as Latin-1, servers send
    UTF-8 (as browsers assume); spaces are encoded rather than refused."""
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        text = raw
    return text.strip().replace(" ", "%20")


def _redirect_target(base: str, location: str) -> str:
    """The URL a Location header points to, without its fragment; an unparseable one (a broken
    IPv6 literal, say) is refused for good: the same header comes back on every retry."""
    try:
        joined = urljoin(base, _location_text(location))
        return urlunsplit(urlsplit(joined)._replace(fragment=""))
    except ValueError as exc:
        raise PermanentError(
            Reason.INVALID_URL, f"redirect to an unparseable URL: {exc}", stage=Stage.FETCH
        ) from exc


def _protocol_error(detail: str) -> PermanentError:
    return PermanentError(Reason.HTTP_ERROR, detail, stage=Stage.FETCH)


def _connection_error(detail: str) -> TransientError:
    return TransientError(Reason.CONNECTION_ERROR, detail, stage=Stage.FETCH)


def _too_large(detail: str) -> PermanentError:
    return PermanentError(Reason.TOO_LARGE, detail, stage=Stage.FETCH)
