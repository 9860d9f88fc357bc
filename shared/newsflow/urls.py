"""URL canonicalisation and article identity.

One article per canonical URL: scheme and host lower-cased (host IDNA-encoded), default port,
fragment and tracking parameters dropped, everything else (path, remaining query in its order)
kept. ``article_id`` is the first 32 hex digits of the SHA-256 of that canonical URL, so
re-deliveries and different spellings of the same URL land on the same article.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from newsflow.errors import PermanentError, Reason, Stage

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

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

_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def _invalid(detail: str) -> PermanentError:
    return PermanentError(Reason.INVALID_URL, detail, stage=Stage.INTAKE)


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Return the canonical form of ``url`` or raise ``PermanentError(invalid_url)``.

    Refuses what the fetcher must never see: other schemes, missing hosts, credentials in the
    URL, whitespace or control characters, absurd lengths.
    """
    candidate = url.strip()
    if not candidate:
        raise _invalid("empty URL")
    if len(candidate) > MAX_URL_LENGTH:
        raise _invalid(f"URL longer than {MAX_URL_LENGTH} characters")
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
    try:
        hostname = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise _invalid(f"invalid host or port: {exc}") from exc
    if not hostname:
        raise _invalid("URL has no host")
    host = _normalise_host(hostname)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    # Filter the raw query so the remaining parameters keep their exact spelling and order.
    kept = [
        field
        for field in parts.query.split("&")
        if field and not is_tracking_param(unquote_plus(field.split("=", 1)[0]))
    ]
    query = "&".join(kept)
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalise_host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if not host:
        raise _invalid("URL has no host")
    if ":" in host:  # IPv6 literal, already without brackets
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _invalid(f"invalid host name '{hostname}': {exc}") from exc


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
