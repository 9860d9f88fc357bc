"""Safe download of untrusted URLs, one job per module.

* :mod:`~newsflow.fetching.target` - each hop's URL, judged by the one URL rule
  (:func:`newsflow.urls.parse_url`): http/https only, no credentials, a plain host name or a
  canonical IP literal;
* :mod:`~newsflow.fetching.addresses` - the address policy: resolve once, every address must be
  public (see :func:`check_address`);
* :mod:`~newsflow.fetching.client` - :class:`SafeFetcher`: ports, connections to the checked
  addresses only, hand-followed redirects, the body cap, and urllib3/socket/ssl errors mapped to
  permanent or transient failures;
* :mod:`~newsflow.fetching.deadline` - one deadline for the whole fetch, enforced by a watchdog;
* :mod:`~newsflow.fetching.sniffing` - Content-Type parsing and HTML/binary sniffing.

Every failure is a :class:`~newsflow.errors.PermanentError` or
:class:`~newsflow.errors.TransientError` with ``stage=fetch`` and a sentence a person can read.
"""

from newsflow.fetching.addresses import Resolver, check_address, system_resolver
from newsflow.fetching.client import (
    ACCEPT,
    ACCEPT_ENCODING,
    DECODABLE_ENCODINGS,
    MAX_IDLE_CONNECTIONS,
    READ_CHUNK_BYTES,
    REDIRECT_STATUSES,
    TRANSIENT_STATUSES,
    FetchedPage,
    SafeFetcher,
)
from newsflow.fetching.sniffing import HTML_MEDIA_TYPES, MAX_CONTROL_RATIO, SNIFF_BYTES
from newsflow.urls import DEFAULT_PORTS, IPAddress

__all__ = [
    "ACCEPT",
    "ACCEPT_ENCODING",
    "DECODABLE_ENCODINGS",
    "DEFAULT_PORTS",
    "HTML_MEDIA_TYPES",
    "MAX_CONTROL_RATIO",
    "MAX_IDLE_CONNECTIONS",
    "READ_CHUNK_BYTES",
    "REDIRECT_STATUSES",
    "SNIFF_BYTES",
    "TRANSIENT_STATUSES",
    "FetchedPage",
    "IPAddress",
    "Resolver",
    "SafeFetcher",
    "check_address",
    "system_resolver",
]
