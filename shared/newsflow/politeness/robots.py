"""robots.txt (RFC 9309): fetched through the safe fetcher, parsed with Protego, cached per origin.

* ``2xx``: the rules apply (the first 500 KiB, as RFC 9309 allows);
* ``4xx`` (other than 429) or a body that is not text: no rules, everything is allowed;
* ``5xx``, 429, a timeout or an unreachable host: the host is unavailable for now - the check
  raises :class:`~newsflow.errors.TransientError` and the caller waits (RFC 9309 2.3.1.4);
* redirects are followed by the fetcher within its usual limit (5).

The verdict source is cached for 24 hours, in the table (one item per origin, shared by every
container, ``pk = HOST#<host>``, ``sk = ROBOTS#<origin>``, the body gzip-compressed) and in the
container. DynamoDB's TTL deletes expired items lazily, so the expiry is checked on every read.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from newsflow.aws_errors import translated
from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.fetching.modes import ContentMode
from newsflow.keyed_locks import KeyedLocks
from newsflow.politeness.gate import host_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from newsflow.fetching import FetchedPage

ROBOTS_SK_PREFIX = "ROBOTS#"
ROBOTS_TTL_SECONDS = 24 * 3600
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB
MAX_CACHED_GZIP_BYTES = 300 * 1024  # stay well inside DynamoDB's 400 KB item limit
DEFAULT_PORTS = {"http": 80, "https": 443}

ROBOTS_TXT = ContentMode(
    name="robots.txt text",
    accept="text/plain",
    media_types=frozenset({"text/plain"}),
    refusal=Reason.NOT_HTML,  # never recorded: a refused robots.txt means "no rules"
)


class TextFetcher(Protocol):
    def fetch(self, url: str, *, mode: ContentMode = ...) -> FetchedPage: ...


@dataclass(frozen=True)
class RobotsRules:
    """The robots.txt of one origin, as text (empty: no rules)."""

    origin: str
    text: str
    fetched_at: float
    _parsed: list[Protego] = field(default_factory=list, repr=False, compare=False)

    def parsed(self) -> Protego:
        """The rules, parsed once per container (a check is a lookup, not a parse)."""
        if not self._parsed:
            self._parsed.append(Protego.parse(self.text))
        return self._parsed[0]


@dataclass(frozen=True)
class RobotsVerdict:
    allowed: bool
    crawl_delay: float = 0.0  # seconds, 0 when robots.txt sets none


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: robots.txt applies per origin (RFC 9309 2.3)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(scheme):
        netloc += f":{parts.port}"
    return urlunsplit((scheme, netloc, "", "", ""))


class RobotsCache:
    """robots.txt bodies in the articles table, with an expiry checked on read."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client

    def get(self, origin: str, now: float) -> RobotsRules | None:
        with translated(f"reading the cached robots.txt of {origin}", stage=Stage.FETCH):
            item = self._client.get_item(TableName=self.table_name, Key=self._key(origin)).get(
                "Item"
            )
        if not item or float(item.get("expires_at", {}).get("N", "0")) <= now:
            return None  # absent, or expired and not yet deleted by the TTL sweeper
        body = item.get("body", {}).get("B", b"")
        return RobotsRules(
            origin=origin,
            text=gzip.decompress(body).decode("utf-8", "replace") if body else "",
            fetched_at=float(item.get("fetched_at", {}).get("N", "0")),
        )

    def put(self, rules: RobotsRules) -> None:
        body = gzip.compress(rules.text.encode("utf-8"))
        if len(body) > MAX_CACHED_GZIP_BYTES:
            return  # kept in the container only; the table would refuse the item
        with translated(f"caching the robots.txt of {rules.origin}", stage=Stage.FETCH):
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    **self._key(rules.origin),
                    "body": {"B": body},
                    "fetched_at": {"N": f"{rules.fetched_at:.3f}"},
                    "expires_at": {"N": str(int(rules.fetched_at + ROBOTS_TTL_SECONDS))},
                },
            )

    @staticmethod
    def _key(origin: str) -> dict[str, dict[str, str]]:
        host = urlsplit(origin).hostname or origin
        return {"pk": {"S": host_pk(host)}, "sk": {"S": ROBOTS_SK_PREFIX + origin[:900]}}


class RobotsPolicy:
    """Is this URL allowed for our user agent, and with which crawl delay?

    ``before_fetch(url)`` runs before the robots.txt request itself, so that request is paced
    by the host gate like any other (it may raise to defer).
    """

    def __init__(
        self,
        *,
        fetcher: TextFetcher,
        cache: RobotsCache,
        user_agent: str,
        before_fetch: Callable[[str], None] = lambda url: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetcher = fetcher
        self._cache = cache
        self._token = user_agent_token(user_agent)
        self._before_fetch = before_fetch
        self._clock = clock
        self._local: dict[str, RobotsRules] = {}
        self._origins = KeyedLocks()
        self._lock = threading.Lock()

    def check(self, url: str) -> RobotsVerdict:
        rules = self.rules_for(origin_of(url))
        parsed = rules.parsed()
        delay = parsed.crawl_delay(self._token)
        return RobotsVerdict(
            allowed=parsed.can_fetch(url, self._token), crawl_delay=float(delay or 0.0)
        )

    def rules_for(self, origin: str) -> RobotsRules:
        # Concurrent checks of one origin wait for the first one's download.
        with self._origins.hold(origin):
            return self._rules_for(origin)

    def _rules_for(self, origin: str) -> RobotsRules:
        now = self._clock()
        with self._lock:
            local = self._local.get(origin)
        if local is not None and local.fetched_at + ROBOTS_TTL_SECONDS > now:
            return local
        rules = self._cache.get(origin, now)
        if rules is None:
            rules = self._download(origin, now)
            self._cache.put(rules)
        with self._lock:
            self._local[origin] = rules
        return rules

    def _download(self, origin: str, now: float) -> RobotsRules:
        url = origin + "/robots.txt"
        self._before_fetch(url)
        try:
            page = self._fetcher.fetch(url, mode=ROBOTS_TXT)
        except TransientError as error:
            raise TransientError(
                error.reason,
                f"robots.txt of {origin} is unavailable ({error.detail}); the host is not"
                " crawled until it answers",
                stage=Stage.FETCH,
                http_status=error.http_status,
            ) from error
        except PermanentError as error:
            if error.reason in (Reason.BLOCKED_URL, Reason.INVALID_URL):
                raise  # the page itself would be refused the same way
            # 4xx, not text, too large, too many redirects: "no usable robots.txt" = allowed.
            return RobotsRules(origin=origin, text="", fetched_at=now)
        return RobotsRules(origin=origin, text=_text(page), fetched_at=now)


def _text(page: FetchedPage) -> str:
    """The first 500 KiB as text (an unknown charset label reads as UTF-8)."""
    body = page.body[:MAX_ROBOTS_BYTES]
    try:
        return body.decode(page.charset or "utf-8", "replace")
    except LookupError:
        return body.decode("utf-8", "replace")


def user_agent_token(user_agent: str) -> str:
    """The product token robots.txt groups match (RFC 9309 2.2.1): ``newsflow/0.1 (...)`` ->
    ``newsflow``."""
    token = user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
    cleaned = "".join(ch for ch in token if ch.isalnum() or ch in "-_")
    return cleaned or "newsflow"
