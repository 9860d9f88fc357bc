"""The one URL rule: which URLs are acceptable by their form, their canonical form, their identity.

:func:`parse_url` is the single judge of a URL's *form*. Intake (``newsflow push``,
``newsflow demo --urls``, the fetch stage reading an IngestQueue message) and the fetcher (every
hop, redirects included) all go through it, so a URL the fetcher would refuse by its spelling is
refused at intake already - stage ``intake``, reason ``invalid_url`` - and never queued. Refused
by form: schemes other than http and https, a missing host, credentials (``user:pw@``),
whitespace and control characters, more than :data:`MAX_URL_LENGTH` characters, an invalid or
out-of-range port, IPv6 zone identifiers (``[fe80::1%25eth0]``), host names with characters a
DNS name cannot hold or that IDNA cannot encode, and numeric hosts other than a dotted quad
(``http://2130706433/``, ``http://0x7f.1/`` and ``http://0177.0.0.1/`` all mean 127.0.0.1 to
``inet_aton``, which the system resolver uses).

Not decided here: *where* a URL leads. Private, loopback and other non-public addresses (IP
literals or DNS answers) are the fetcher's address policy (``newsflow.fetching.addresses``).
A valid but non-default port is also a deployment decision - ``ALLOWED_PORTS``, and the loopback
exemption that lets local runs reach the sample page server on any port - so the fetcher refuses
it at fetch time as ``blocked_url``, not here.

Canonical form - one article per canonical URL: scheme and host lower-cased (host IDNA-encoded,
IPv6 literals in their compressed form), default port dropped, fragment and tracking parameters
dropped, the remaining query kept in its order; and RFC 3986 section 6.2.2 normalisation:
percent-encodings upper-cased (path and query), percent-encoded unreserved characters decoded
and dot segments removed (path). ``article_id`` is the first 32 hex digits of the SHA-256 of
that canonical URL, so re-deliveries and different spellings of the same URL land on the same
article.

The generic normalisation is done here with the standard library rather than a normaliser
package: those add a default scheme (we refuse scheme-less input), collapse repeated slashes
and decode/re-encode query values (``%2B`` and ``+``, ``%3D`` and ``=`` mean different things
to a server), and percent-encode non-ASCII paths (which would change every such article's id).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from newsflow.errors import PermanentError, Reason, Stage

MAX_URL_LENGTH = 2048
MAX_HOST_LENGTH = 253  # a DNS name, dots included (RFC 1035)
DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOWED_SCHEMES = frozenset(DEFAULT_PORTS)

# Exact parameter names that only track the reader, never select content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "li_fat_id", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
        "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv",
        "wickedid", "rb_clickid", "s_cid", "ncid", "sr_share", "spm", "cmpid", "ocid",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_HOST_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_PERCENT_ENCODED = re.compile(r"%([0-9a-fA-F]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass(frozen=True)
class WebUrl:
    """An http(s) URL whose form the fetcher accepts, split into what its users need.

    ``path`` and ``query`` are kept as given (the fetcher requests exactly those);
    :meth:`canonical` is the normalised spelling that identifies the article.
    """

    text: str  # the URL as given, without surrounding whitespace
    scheme: str  # "http" or "https"
    host: str  # lower-case ASCII (IDNA) host name, or an IP literal without brackets
    port: int  # the explicit port, else the scheme's default
    ip: IPAddress | None  # set when the host is an IP literal
    path: str  # as given; may be empty
    query: str  # as given, without the "?"

    @property
    def has_default_port(self) -> bool:
        return self.port == DEFAULT_PORTS[self.scheme]

    @property
    def authority(self) -> str:
        """Host (bracketed if IPv6) and the port when it is not the default: the Host header."""
        bracketed = f"[{self.host}]" if ":" in self.host else self.host
        return bracketed if self.has_default_port else f"{bracketed}:{self.port}"

    def canonical(self) -> str:
        """The canonical spelling (see the module docstring): the input of ``article_id_for``."""
        path = _remove_dot_segments(_normalise_percent(self.path or "/", decode_unreserved=True))
        kept = [
            _normalise_percent(field, decode_unreserved=False)
            for field in self.query.split("&")
            if field and not is_tracking_param(unquote_plus(field.split("=", 1)[0]))
        ]
        return urlunsplit((self.scheme, self.authority, path, "&".join(kept), ""))


def _invalid(detail: str) -> PermanentError:
    return PermanentError(Reason.INVALID_URL, detail, stage=Stage.INTAKE)


def parse_url(text: str) -> WebUrl:
    """``text`` as a :class:`WebUrl`, or ``PermanentError(invalid_url, stage=intake)`` saying why.

    The fetcher calls this for every hop and re-labels a refusal with its own stage.
    """
    candidate = text.strip()
    if not candidate:
        raise _invalid("empty URL")
    if len(candidate) > MAX_URL_LENGTH:
        raise _invalid(f"URL longer than {MAX_URL_LENGTH:,} characters")
    if _CONTROL_OR_SPACE.search(candidate):
        raise _invalid("URL contains whitespace or control characters")
    try:
        parts = urlsplit(candidate)
    except ValueError as exc:
        raise _invalid(f"unparseable URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise _invalid("not a URL: no scheme (expected http:// or https://)")
    if scheme not in ALLOWED_SCHEMES:
        raise _invalid(f"scheme '{scheme}' is not allowed (only http and https)")
    if "@" in parts.netloc:
        raise _invalid("URLs with credentials (user:password@host) are not accepted")
    raw_host = parts.hostname
    if not raw_host:
        raise _invalid("URL has no host")
    if "[" in parts.netloc and ":" not in raw_host:
        raise _invalid(f"'[{raw_host}]' is not an IPv6 address")
    host, ip = _parse_host(raw_host)
    return WebUrl(
        text=candidate,
        scheme=scheme,
        host=host,
        port=_parse_port(parts.netloc, scheme),
        ip=ip,
        path=parts.path,
        query=parts.query,
    )


def _parse_port(netloc: str, scheme: str) -> int:
    # After the host: "]:8080" for an IPv6 literal, ":8080" otherwise; "host:" means no port.
    after_host = netloc.rsplit("]", 1)[-1]
    raw = after_host.partition(":")[2]
    if not raw:
        return DEFAULT_PORTS[scheme]
    if not (raw.isascii() and raw.isdigit()):
        raise _invalid(f"invalid port '{raw}' (expected a number from 1 to 65535)")
    port = int(raw)
    if not 1 <= port <= 65535:
        raise _invalid(f"port {port} is out of range (1-65535)")
    return port


def _parse_host(raw_host: str) -> tuple[str, IPAddress | None]:
    host = raw_host.lower().rstrip(".")
    if not host:
        raise _invalid("URL has no host")
    if ":" in host:  # an IPv6 literal (urlsplit has removed the brackets)
        if "%" in host:
            raise _invalid(f"IPv6 zone identifiers are not accepted ('{raw_host}')")
        try:
            ip6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise _invalid(f"invalid IPv6 address '{raw_host}'") from None
        return str(ip6), ip6
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _invalid(f"invalid host name '{raw_host}': {exc}") from exc
    if not _HOST_NAME.match(host):
        raise _invalid(f"invalid host name '{raw_host}'")
    if len(host) > MAX_HOST_LENGTH:  # an IDN host expands: "ü.ü.ü..." is 8 bytes a label
        raise _invalid(f"host name longer than {MAX_HOST_LENGTH} characters once encoded")
    # Like browsers, read a host whose last label is a number as an IPv4 address - and accept
    # only the dotted-quad spelling.
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        try:
            ip4 = ipaddress.IPv4Address(host)
        except ValueError:
            raise _invalid(
                f"host '{raw_host}' is an unusual spelling of an IP address"
                " (only the dotted form such as 93.184.216.34 is accepted)"
            ) from None
        return str(ip4), ip4
    return host, None


def _normalise_percent(text: str, *, decode_unreserved: bool) -> str:
    """Percent-encodings in upper case; unreserved characters decoded if asked (RFC 3986 6.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        if decode_unreserved and char in _UNRESERVED:
            return char
        return "%" + match.group(1).upper()

    return _PERCENT_ENCODED.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 for an absolute path: ``/a/./b/../c`` -> ``/a/c``."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def canonicalize_url(url: str) -> str:
    """The canonical form of ``url``, or ``PermanentError(invalid_url)`` (see :func:`parse_url`)."""
    return parse_url(url).canonical()


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def redact_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``, safe to store and log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def article_id_for(canonical_url: str) -> str:
    """First 32 lowercase hex digits of SHA-256 of the canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def fallback_article_id(raw: str) -> str:
    """Identity for input that is not a valid URL, so its failure can still be recorded once."""
    return hashlib.sha256(raw.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def domain_of(canonical_url: str) -> str:
    """Host of a canonical URL without a leading ``www.``: the key of the domain index."""
    host = urlsplit(canonical_url).hostname or ""
    return host[4:] if host.startswith("www.") else host
