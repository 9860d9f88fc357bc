"""The polite fetch: robots.txt, then the host's request slot, then the safe fetch.

:class:`PoliteFetcher` wraps the :class:`~newsflow.fetching.SafeFetcher` with the same
``fetch(url)`` so the fetch stage does not change shape. It raises

* :class:`~newsflow.errors.PermanentError` ``robots_disallowed`` when robots.txt forbids the URL;
* :class:`HostNotReadyError` when the host cannot be fetched now (its next slot is too far away, it
  asked to be left alone with 429/503 + ``Retry-After``, or its robots.txt is unavailable): the
  caller defers the record instead of burning a delivery toward the DLQ.

A 429/503 also backs the *whole host* off for every container (:meth:`HostGate.back_off`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from newsflow.errors import HostBusyError, PermanentError, Reason, Stage, TransientError
from newsflow.fetching.client import SafeFetcher
from newsflow.fetching.modes import HTML, ContentMode
from newsflow.politeness.deferral import DeferralError
from newsflow.politeness.gate import SEND_JITTER_GUARD_SECONDS, HostGate
from newsflow.politeness.robots import RobotsCache, RobotsPolicy, RobotsVerdict
from newsflow.settings import FetchPolicy, PolitenessSettings
from newsflow.versions import fetch_page

if TYPE_CHECKING:
    from newsflow.fetching import FetchedPage

DEFAULT_BACKOFF_SECONDS = 30.0  # a 429 without Retry-After, or robots.txt unavailable
RATE_LIMITED = "rate_limited"
HOST_BACKOFF = "host_backoff"
ROBOTS_UNAVAILABLE = "robots_unavailable"
_LATE_WAKE_ATTEMPTS = 3


class HostNotReadyError(DeferralError):
    """The host cannot take a request now; try the record again in ``delay_seconds``."""

    def __init__(self, host: str, delay_seconds: float, why: str, *, kind: str) -> None:
        # Waiting for the host's pace is not the host's failure: it does not use up the
        # record's deferral bound (a burst of one site's URLs is paced, never failed).
        super().__init__(delay_seconds, f"{host}: {why}", kind=kind, counted=kind != RATE_LIMITED)
        self.host = host


class PageFetcher(Protocol):
    def fetch(self, url: str) -> FetchedPage: ...


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class HostPacer:
    """Takes a host's request slot from the :class:`HostGate`, waiting a little when it is
    close, raising :class:`HostNotReadyError` when it is not; backs a host off after 429/503."""

    def __init__(
        self,
        gate: HostGate,
        *,
        max_wait_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gate = gate
        self._max_wait = max_wait_seconds
        self._sleep = sleep
        self._monotonic = monotonic

    def wait_for_slot(self, host: str, *, crawl_delay: float = 0.0) -> None:
        """Take the host's next request slot, sleeping up to ``max_wait_seconds`` for it.

        A worker that wakes up later than its slot plus the gate's guard (a loaded machine)
        could send its request too close to the next slot's: it takes a new slot instead.
        """
        for _ in range(_LATE_WAKE_ATTEMPTS):
            decision = self._gate.acquire(host, max_wait=self._max_wait, crawl_delay=crawl_delay)
            if decision.defer_seconds is not None:
                raise HostNotReadyError(
                    host,
                    decision.defer_seconds,
                    "the host's request rate is used up",
                    kind=RATE_LIMITED,
                )
            due = self._monotonic() + decision.wait_seconds
            if decision.wait_seconds > 0:
                self._sleep(decision.wait_seconds)
            if self._monotonic() - due <= SEND_JITTER_GUARD_SECONDS:
                return
        raise HostNotReadyError(host, 1.0, "this worker kept missing its slots", kind=RATE_LIMITED)

    def wait_for_url(self, url: str) -> None:
        self.wait_for_slot(host_of(url))

    def backed_off(self, host: str, error: HostBusyError) -> HostNotReadyError:
        """Back ``host`` off for its ``Retry-After`` (or a minute) in every container."""
        seconds = error.retry_after_seconds
        delay = DEFAULT_BACKOFF_SECONDS if seconds is None else seconds
        self._gate.back_off(host, delay)
        return HostNotReadyError(host, delay, error.detail, kind=HOST_BACKOFF)


class PoliteFetcher:
    """Fetch a page only when robots.txt allows it and the host's rate allows it now."""

    def __init__(
        self, *, fetcher: PageFetcher, pacer: HostPacer, robots: RobotsPolicy | None
    ) -> None:
        self._fetcher = fetcher
        self._pacer = pacer
        self._robots = robots

    def fetch(
        self,
        url: str,
        *,
        conditional: Mapping[str, str] | None = None,
        mode: ContentMode = HTML,
    ) -> FetchedPage:
        """``conditional`` validators go through to the fetcher (a re-fetch of a stored page);
        so does ``mode`` (a source poll asks for feeds and sitemaps, not HTML)."""
        host = host_of(url)
        verdict = self.check_robots(url)
        if not verdict.allowed:
            raise PermanentError(
                Reason.ROBOTS_DISALLOWED,
                f"robots.txt of {host} disallows {url[:512]}",
                stage=Stage.FETCH,
            )
        self._pacer.wait_for_slot(host, crawl_delay=verdict.crawl_delay)
        try:
            if mode is not HTML:  # only the safe fetcher itself knows other content modes
                fetcher: Any = self._fetcher
                page: FetchedPage = fetcher.fetch(
                    url, mode=mode, conditional=dict(conditional or {})
                )
                return page
            return fetch_page(self._fetcher, url, dict(conditional or {}))
        except HostBusyError as error:
            raise self._pacer.backed_off(host, error) from error

    def check_robots(self, url: str) -> RobotsVerdict:
        """The robots verdict (allowed, crawl delay); raises :class:`HostNotReadyError` when the
        host's robots.txt cannot be read now."""
        if self._robots is None:
            return RobotsVerdict(allowed=True)
        host = host_of(url)
        try:
            return self._robots.check(url)
        except HostBusyError as error:
            raise self._pacer.backed_off(host, error) from error
        except TransientError as error:
            raise HostNotReadyError(
                host, DEFAULT_BACKOFF_SECONDS, error.detail, kind=ROBOTS_UNAVAILABLE
            ) from error


def polite_fetcher(
    table_name: str, dynamodb: Any, policy: FetchPolicy, polite: PolitenessSettings
) -> PoliteFetcher:
    """Robots.txt, the host's pace across containers, then the safe fetch: what every function
    that downloads from a publisher goes through (the source poller too)."""
    gate = HostGate(table_name, dynamodb, requests_per_second=polite.HOST_REQUESTS_PER_SECOND)
    pacer = HostPacer(gate, max_wait_seconds=polite.HOST_MAX_WAIT_SECONDS)
    robots_policy = policy.model_copy(
        update={"timeout_seconds": min(polite.ROBOTS_TIMEOUT_SECONDS, policy.timeout_seconds)}
    )
    robots = RobotsPolicy(
        fetcher=SafeFetcher(robots_policy),
        cache=RobotsCache(table_name, dynamodb),
        user_agent=policy.user_agent,
        before_fetch=pacer.wait_for_url,  # robots.txt takes a slot of its host like any request
    )
    return PoliteFetcher(
        fetcher=SafeFetcher(policy), pacer=pacer, robots=robots if polite.RESPECT_ROBOTS else None
    )
