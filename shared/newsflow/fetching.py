"""Safe download of untrusted URLs.

The fetch function runs URLs that anyone can put on the queue, inside an AWS account: the
Lambda runtime API listens on loopback, the instance metadata service on 169.254.169.254, and a
VPC-attached function can reach private networks. So every hop of every fetch is checked:

* the URL: http/https only, no credentials, a port in the policy, a plain host name or a
  canonical IP literal (``http://2130706433/`` and ``http://0x7f.1/`` are refused, because some
  resolvers read them as 127.0.0.1);
* the addresses: the host is resolved once, every address must be public (see
  :func:`check_address`), and the connection goes to one of *those* addresses - the host name is
  used only for the ``Host`` header and for TLS (SNI and certificate verification), never
  resolved again, so DNS rebinding cannot swap the address after the check;
* redirects are followed by hand and each target goes through the same checks;
* one deadline covers the whole fetch (connect, TLS, headers, body, redirects): a watchdog shuts
  the socket down when it passes, so a server that drips a byte a second - even inside the
  headers or the TLS handshake - cannot hold the function;
* the body is capped on *decoded* bytes (urllib3 decodes at most one chunk at a time), so a gzip
  bomb stops at the cap; only HTML and XHTML are accepted.

Every failure is a :class:`~newsflow.errors.PermanentError` or
:class:`~newsflow.errors.TransientError` with ``stage=fetch`` and a sentence a person can read.
"""

from __future__ import annotations

import codecs
import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NoReturn
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.response import BaseHTTPResponse
from urllib3.util.ssl_match_hostname import CertificateError

from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.settings import FetchPolicy
from newsflow.urls import MAX_URL_LENGTH

Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> IP address strings``; may raise :class:`socket.gaierror`."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ACCEPT = "text/html,application/xhtml+xml"
ACCEPT_ENCODING = "gzip, deflate"  # what urllib3 decodes without optional packages
HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
DECODABLE_ENCODINGS = frozenset({"identity", "gzip", "x-gzip", "deflate"})
REDIRECT_STATUSES = frozenset({300, 301, 302, 303, 307, 308})
TRANSIENT_STATUSES = frozenset({408, 429})
DEFAULT_PORTS = {"http": 80, "https": 443}
READ_CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 1024
MAX_CONTROL_RATIO = 0.1
MAX_IDLE_CONNECTIONS = 8

_HOST_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# Bytes that never appear in text (tab, LF, FF, CR and ESC aside).
_BINARY_BYTES = frozenset(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}) | {0x7F}
_BINARY_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "gzip data"),
)
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# --------------------------------------------------------------------------- address policy

_Rule = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]


def _rules(*pairs: tuple[str, str]) -> tuple[_Rule, ...]:
    return tuple((ipaddress.ip_network(net), what) for net, what in pairs)


# Explicit ranges first: ``is_global`` alone misses multicast and, depending on the Python
# version, some of these ranges; the readable names also make better failure details.
_IPV4_RULES = _rules(
    ("0.0.0.0/8", "an unspecified ('this network') address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.169.254/32", "a link-local address (the cloud instance metadata service)"),
    ("169.254.0.0/16", "a link-local address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("100.64.0.0/10", "a shared carrier-grade NAT address"),
    ("192.0.0.0/24", "an IETF protocol assignment address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("192.88.99.0/24", "a 6to4 relay anycast address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
)
_IPV6_RULES = _rules(
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("::/96", "a deprecated IPv4-compatible address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("fc00::/7", "a unique local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)
_LOOPBACK_NETS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _is_loopback(ip: IPAddress) -> bool:
    return any(ip.version == net.version and ip in net for net in _LOOPBACK_NETS)


def _classify_v4(ip: ipaddress.IPv4Address) -> str | None:
    for net, what in _IPV4_RULES:
        if ip in net:
            return what
    return None if ip.is_global else "not a public address"


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address stands for, and how (mapped, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "an IPv4-mapped form of"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "a NAT64 form of"
    if ip.sixtofour is not None:
        return ip.sixtofour, "a 6to4 tunnel address for"
    if ip.teredo is not None:
        return ip.teredo[1], "a Teredo tunnel address for"
    return None


def _classify_v6(ip: ipaddress.IPv6Address) -> str | None:
    embedded = _embedded_v4(ip)
    if embedded is not None:
        v4, how = embedded
        inner = _classify_v4(v4)
        if inner is not None:
            return f"{how} {v4}, {inner}"
        if ip.sixtofour is not None or ip.teredo is not None:
            return f"{how} {v4} (tunnel addresses are not fetched)"
        return None  # a mapped or NAT64 form of a public IPv4 address
    for net, what in _IPV6_RULES:
        if ip in net:
            return what
    return None if ip.is_global else "not a public address"


def check_address(ip: str, *, allow_loopback: bool) -> str | None:
    """``None`` if the fetcher may connect to ``ip``, else why not (a readable sentence).

    Refused: loopback, private (RFC 1918), link-local (incl. 169.254.169.254), CGNAT, multicast,
    reserved, unspecified, broadcast, documentation and benchmarking ranges, IPv6 ULA and
    link-local, and IPv6 forms of IPv4 addresses (mapped, NAT64, 6to4, Teredo) whose IPv4
    address is refused. ``allow_loopback`` (local runs only) admits 127.0.0.0/8 and ::1 - not
    their IPv4-mapped forms, and nothing else.
    """
    address = _parse_ip(ip)
    if address is None:
        return f"{ip!r} is not an IP address"
    if allow_loopback and _is_loopback(address):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        what = _classify_v4(address)
    else:
        what = _classify_v6(address)
    return None if what is None else f"{address} is {what}"


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system resolver (``getaddrinfo``); raises :class:`socket.gaierror`."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


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


@dataclass(frozen=True)
class _Target:
    """One hop's URL, validated and split into what the connection needs."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    ip: IPAddress | None  # set when the URL holds an IP literal
    request_target: str  # path and query, percent-encoded
    host_header: str


def _invalid(detail: str) -> PermanentError:
    return PermanentError(Reason.INVALID_URL, detail, stage=Stage.FETCH)


def _blocked(detail: str) -> PermanentError:
    return PermanentError(Reason.BLOCKED_URL, detail, stage=Stage.FETCH)


def _parse_target(url: str) -> _Target:
    candidate = url.strip()
    if not candidate:
        raise _invalid("empty URL")
    if len(candidate) > MAX_URL_LENGTH:
        raise _invalid(f"URL longer than {MAX_URL_LENGTH:,} characters")
    if _CONTROL_OR_SPACE.search(candidate):
        raise _invalid("URL contains whitespace or control characters")
    try:
        parts = urlsplit(candidate)
        raw_host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise _invalid(f"unparseable URL {candidate!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"scheme '{scheme}'" if scheme else "a URL without a scheme"
        raise _invalid(f"{shown} is not allowed (only http and https)")
    if "@" in parts.netloc:
        raise _invalid("URLs with credentials (user:password@host) are not accepted")
    if not raw_host:
        raise _invalid(f"URL {candidate!r} has no host")
    host, ip = _normalise_host(raw_host)
    port = DEFAULT_PORTS[scheme] if port is None else port
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if port == DEFAULT_PORTS[scheme] else f"{bracketed}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=~?")
    return _Target(
        url=urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, "")),
        scheme=scheme,
        host=host,
        port=port,
        ip=ip,
        request_target=f"{path}?{query}" if query else path,
        host_header=host_header,
    )


def _normalise_host(raw_host: str) -> tuple[str, IPAddress | None]:
    host = raw_host.lower().rstrip(".")
    if ":" in host:
        ip = _parse_ip(host)
        if ip is None:
            raise _invalid(f"invalid IPv6 address '{raw_host}'")
        return str(ip), ip
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _invalid(f"invalid host name '{raw_host}': {exc}") from exc
    if not _HOST_NAME.match(host):
        raise _invalid(f"invalid host name '{raw_host}'")
    # Like browsers, read a host whose last label is a number as an IPv4 address - and accept
    # only the dotted-quad spelling: 2130706433, 0x7f.1 and 017700000001 all mean 127.0.0.1
    # to inet_aton(), which the system resolver uses.
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        try:
            ip = ipaddress.IPv4Address(host)
        except ValueError:
            raise _invalid(
                f"host '{raw_host}' is an unusual spelling of an IP address"
                " (only the dotted form such as 93.184.216.34 is accepted)"
            ) from None
        return str(ip), ip
    return host, None


def _parse_content_type(value: str) -> tuple[str, str | None]:
    media_type, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset":
            label = raw.strip().strip("\"'").lower()
            try:
                codecs.lookup(label)
            except LookupError:
                label = ""  # an unknown charset is no better than none: let the parser sniff
            charset = label or None
    return media_type.strip().lower(), charset


def _looks_like_html(body: bytes) -> bool:
    head = body[:SNIFF_BYTES]
    for bom, encoding in _UNICODE_BOMS:
        if head.startswith(bom):
            head = head.decode(encoding, errors="ignore").encode("ascii", errors="ignore")
            break
    head = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    return head.startswith(b"<") and (b"<!doctype html" in head or b"<html" in head)


def _binary_reason(body: bytes, charset: str | None) -> str | None:
    """Why a body served as HTML is really binary, or ``None``."""
    head = body[:SNIFF_BYTES]
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return f"the body is {what}, not HTML"
    wide = next((enc for bom, enc in _UNICODE_BOMS if head.startswith(bom)), None)
    if (
        wide is None
        and charset is not None
        and charset.replace("_", "-").startswith(("utf-16", "utf-32"))
    ):
        wide = charset
    if wide is not None:  # UTF-16/32 text is full of NUL bytes: judge the characters
        text = head.decode(wide, errors="replace")
        controls = sum(1 for ch in text if ord(ch) in _BINARY_BYTES)
        total = len(text)
    else:
        if b"\x00" in head:
            return "the body contains NUL bytes: binary data, not HTML"
        controls = sum(1 for byte in head if byte in _BINARY_BYTES)
        total = len(head)
    if total and controls / total > MAX_CONTROL_RATIO:
        return f"{controls} of the first {total} characters are control characters: not HTML"
    return None


# --------------------------------------------------------------------------- deadline


class _Watchdog:
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


class _WatchedHTTPConnection(HTTPConnection):
    watchdog: _Watchdog | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if self.watchdog is not None:
            self.watchdog.watch(sock)
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    watchdog: _Watchdog | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if self.watchdog is not None:
            self.watchdog.watch(sock)  # before the handshake, which a server can drip too
        return sock


_Connection = _WatchedHTTPConnection | _WatchedHTTPSConnection
_PoolKey = tuple[str, str, int, str]  # scheme, IP, port, host name


# --------------------------------------------------------------------------- the fetcher


class _Fetch:
    """State of one :meth:`SafeFetcher.fetch` call: its deadline and its watchdog."""

    def __init__(self, url: str, policy: FetchPolicy) -> None:
        self.url = url
        self.policy = policy
        self.deadline = time.monotonic() + policy.timeout_seconds
        self.watchdog = _Watchdog(policy.timeout_seconds)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.watchdog.expired or self.remaining() <= 0

    def check_deadline(self) -> None:
        if self.expired():
            raise self.timeout()

    def timeout(self) -> TransientError:
        return TransientError(
            Reason.TIMEOUT,
            f"no complete response within {self.policy.timeout_seconds:g} s",
            stage=Stage.FETCH,
        )


class SafeFetcher:
    """Downloads one untrusted URL at a time under a :class:`FetchPolicy`.

    One instance per container: it keeps a few idle keep-alive connections, keyed by scheme,
    checked IP, port and host name, so a batch of pages from one site reuses its TLS session -
    and a connection is only ever reused for an address that the current hop has just checked.
    Thread-safe: each call keeps its own state.
    """

    def __init__(self, policy: FetchPolicy, resolver: Resolver | None = None) -> None:
        self._policy = policy
        self._resolver = resolver or system_resolver
        self._idle: OrderedDict[_PoolKey, _Connection] = OrderedDict()
        self._idle_lock = threading.Lock()

    def fetch(self, url: str) -> FetchedPage:
        """GET ``url``, following up to ``policy.max_redirects`` checked redirects.

        Raises PermanentError (invalid/blocked URL, 4xx, not HTML, too large, TLS failure,
        too many redirects, host that does not exist) or TransientError (timeout, connection
        failure, DNS hiccup, 408/429/5xx), both with ``stage=fetch``.
        """
        state = _Fetch(url, self._policy)
        try:
            redirects: list[str] = []
            current = url
            while True:
                target = _parse_target(current)
                location = self._hop(target, state)
                if isinstance(location, FetchedPage):
                    return replace(location, requested_url=url, redirects=tuple(redirects))
                next_url = urljoin(target.url, _location_text(location))
                next_url = urlunsplit(urlsplit(next_url)._replace(fragment=""))
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

    def _hop(self, target: _Target, state: _Fetch) -> FetchedPage | str:
        """One request: the page, or the Location to follow next."""
        addresses = self._checked_addresses(target)
        state.check_deadline()
        conn, key, reused = self._connect(target, addresses, state)
        response: BaseHTTPResponse | None = None
        keep = False
        try:
            try:
                response, sock = self._send(conn, target, state)
            except TransientError:
                if not reused or state.expired():
                    raise
                # The server closed an idle keep-alive connection under us: retry once, fresh.
                conn.close()
                conn, key, reused = self._connect(target, addresses, state, reuse=False)
                response, sock = self._send(conn, target, state)
            result = self._handle(response, target, state)
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

    def _checked_addresses(self, target: _Target) -> list[str]:
        policy = self._policy
        port_allowed = target.port in policy.allowed_ports
        if not port_allowed and not policy.allow_loopback:
            raise _blocked(self._port_refusal(target.port))
        if target.ip is not None:
            addresses = [str(target.ip)]
            subject = "refused"
        else:
            addresses = self._resolve(target)
            subject = f"refused {target.host}"
        for address in addresses:
            reason = check_address(address, allow_loopback=policy.allow_loopback)
            if reason is not None:
                raise _blocked(f"{subject}: {reason}")
        if not port_allowed and not all(
            _is_loopback(ip) for ip in map(_parse_ip, addresses) if ip is not None
        ):
            raise _blocked(self._port_refusal(target.port))
        # Connect to an IPv4-mapped address as plain IPv4: same host, no dual-stack surprises.
        return [_connect_form(address) for address in addresses]

    def _port_refusal(self, port: int) -> str:
        allowed = ", ".join(str(p) for p in sorted(self._policy.allowed_ports)) or "none"
        return f"refused: port {port} is not allowed (allowed: {allowed})"

    def _resolve(self, target: _Target) -> list[str]:
        host = target.host
        try:
            found = self._resolver(host, target.port)
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
        self, target: _Target, addresses: list[str], state: _Fetch, *, reuse: bool = True
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
                if state.expired():
                    raise state.timeout() from exc
                raise PermanentError(
                    Reason.TLS_ERROR,
                    f"TLS with {target.host} failed: {_ssl_text(exc)}",
                    stage=Stage.FETCH,
                ) from exc
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
    def _new_connection(target: _Target, address: str, timeout: float) -> _Connection:
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
        self, conn: _Connection, target: _Target, state: _Fetch
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
                    "Accept": ACCEPT,
                    "Accept-Encoding": ACCEPT_ENCODING,
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
            self._fail_protocol(state, exc, "a response header line exceeds 65,536 bytes")
        except http.client.RemoteDisconnected as exc:
            self._fail_connection(state, exc, "the server closed the connection without replying")
        except http.client.ImproperConnectionState as exc:
            self._fail_connection(state, exc, f"the connection was not ready ({exc!r})")
        except http.client.BadStatusLine as exc:
            self._fail_protocol(state, exc, "the server's reply is not HTTP")
        except http.client.HTTPException as exc:
            self._fail_protocol(state, exc, f"malformed HTTP response ({exc})")
        except (TimeoutError, ReadTimeoutError) as exc:
            raise state.timeout() from exc
        except (OSError, HTTPError) as exc:
            self._fail_connection(state, exc, f"the connection failed ({_ssl_text(exc)})")
        return response, sock

    def _handle(
        self, response: BaseHTTPResponse, target: _Target, state: _Fetch
    ) -> FetchedPage | str:
        status = response.status
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
        if not 200 <= status < 300:
            error = TransientError if status in TRANSIENT_STATUSES or status >= 500 else None
            raise (error or PermanentError)(
                Reason.HTTP_ERROR,
                f"the server answered {status} {response.reason or ''}".rstrip(),
                stage=Stage.FETCH,
                http_status=status,
            )
        content_types = response.headers.getlist("Content-Type")
        media_type, charset = _parse_content_type(content_types[-1] if content_types else "")
        if media_type and media_type not in HTML_MEDIA_TYPES:
            raise _not_html(f"content type {media_type} is not HTML")
        self._check_encoding(response)
        body = self._read_body(response, state)
        if not media_type:
            if not _looks_like_html(body):
                raise _not_html("no Content-Type and the body does not look like HTML")
            media_type = "text/html"
        binary = _binary_reason(body, charset)
        if binary is not None:
            raise _not_html(f"served as {media_type} but {binary}")
        return FetchedPage(
            requested_url=target.url,
            final_url=target.url,
            status=status,
            content_type=media_type,
            charset=charset,
            body=body,
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

    def _read_body(self, response: BaseHTTPResponse, state: _Fetch) -> bytes:
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
            if state.expired():
                raise state.timeout() from exc
            encoding = response.headers.get("Content-Encoding", "?")
            raise PermanentError(
                Reason.HTTP_ERROR,
                f"the body could not be decompressed (Content-Encoding: {encoding})",
                stage=Stage.FETCH,
            ) from exc
        except (ProtocolError, HTTPError, OSError, http.client.HTTPException) as exc:
            if state.expired():
                raise state.timeout() from exc
            raise TransientError(
                Reason.CONNECTION_ERROR,
                f"the connection broke after {size:,} bytes of the body",
                stage=Stage.FETCH,
            ) from exc
        # A watchdog shutdown looks like a clean end of a body without Content-Length.
        state.check_deadline()
        return b"".join(chunks)

    @staticmethod
    def _fail_protocol(state: _Fetch, exc: BaseException, detail: str) -> NoReturn:
        if state.expired():
            raise state.timeout() from exc
        raise PermanentError(Reason.HTTP_ERROR, detail, stage=Stage.FETCH) from exc

    @staticmethod
    def _fail_connection(state: _Fetch, exc: BaseException, detail: str) -> NoReturn:
        if state.expired():
            raise state.timeout() from exc
        raise TransientError(Reason.CONNECTION_ERROR, detail, stage=Stage.FETCH) from exc

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
    conn: _Connection, sock: socket.socket | None, response: BaseHTTPResponse, state: _Fetch
) -> bool:
    """Whether a connection can serve the next request: body read to its end, still open."""
    return (
        not state.expired()
        and response.closed
        and sock is not None
        and conn.sock is sock  # http.client let go of it when the server said "close"
        and conn.is_connected
    )


def _connect_form(address: str) -> str:
    ip = _parse_ip(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return address if ip is None else str(ip)


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


def _location_text(raw: str) -> str:
    """A Location header as text: http.client reads header bytes as Latin-1, servers send
    UTF-8 (as browsers assume); spaces are encoded rather than refused."""
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        text = raw
    return text.strip().replace(" ", "%20")


def _not_html(detail: str) -> PermanentError:
    return PermanentError(Reason.NOT_HTML, detail, stage=Stage.FETCH)


def _too_large(detail: str) -> PermanentError:
    return PermanentError(Reason.TOO_LARGE, detail, stage=Stage.FETCH)
