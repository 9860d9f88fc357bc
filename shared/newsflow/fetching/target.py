"""One hop's target: the URL, judged by the one URL rule, split into what a connection needs.

The form of every hop - the first URL and each redirect - is checked by
:func:`newsflow.urls.parse_url`, the same function intake uses, so the fetcher cannot accept a
spelling intake refuses or the other way round. Here a refusal is a fetch-stage failure: at
this point it can only come from a redirect (intake has already checked the first URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from newsflow.errors import PermanentError, Stage
from newsflow.urls import IPAddress, parse_url

# Characters left as they are in the request target (RFC 3986 pchar and "/"; "?" in the query).
_PATH_SAFE = "/%:@!$&'()*+,;=~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True)
class Target:
    """One hop's URL, validated and split into what the connection needs."""

    url: str  # as given, without its fragment: what the page reports and redirects resolve from
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    ip: IPAddress | None  # set when the URL holds an IP literal
    request_target: str  # path and query, percent-encoded
    host_header: str


def target_for(url: str) -> Target:
    """The :class:`Target` of ``url``, or ``PermanentError(invalid_url, stage=fetch)``."""
    try:
        web = parse_url(url)
    except PermanentError as error:
        raise PermanentError(error.reason, error.detail, stage=Stage.FETCH) from error
    path = quote(web.path or "/", safe=_PATH_SAFE)
    query = quote(web.query, safe=_QUERY_SAFE)
    return Target(
        url=urlunsplit(urlsplit(web.text)._replace(fragment="")),
        scheme=web.scheme,
        host=web.host,
        port=web.port,
        ip=web.ip,
        request_target=f"{path}?{query}" if query else path,
        host_header=web.authority,
    )
