"""Politeness: robots.txt, one request pace per host across containers, and deferral.

Public interface (also for the source poller):

* :class:`HostGate` - ``acquire(host, max_wait=..., crawl_delay=...) -> GateDecision``
  (a reserved slot after ``wait_seconds``, or ``defer_seconds``) and ``back_off(host, seconds)``;
* :class:`RobotsPolicy` - ``check(url) -> RobotsVerdict(allowed, crawl_delay)``;
* :class:`HostPacer` - ``wait_for_slot(host, crawl_delay=...)`` (sleeps a little or raises
  :class:`HostNotReadyError`) and ``backed_off(host, error)`` after a 429/503;
* :class:`PoliteFetcher` - robots + pacer + the safe fetch, raising :class:`HostNotReadyError` or
  ``robots_disallowed``; ``check_robots(url)`` works on its own too;
* :class:`Deferrer` - re-send a record with ``DelaySeconds`` and a bounded defer count.
"""

from newsflow.politeness.deferral import (
    DEFAULT_MAX_DEFERRALS,
    MAX_DELAY_SECONDS,
    DeferralError,
    Deferrer,
)
from newsflow.politeness.gate import MAX_CRAWL_DELAY_SECONDS, GateDecision, HostGate, host_pk
from newsflow.politeness.polite import (
    HostNotReadyError,
    HostPacer,
    PoliteFetcher,
    host_of,
    polite_fetcher,
)
from newsflow.politeness.robots import (
    ROBOTS_TXT,
    RobotsCache,
    RobotsPolicy,
    RobotsVerdict,
    origin_of,
    user_agent_token,
)

__all__ = [
    "DEFAULT_MAX_DEFERRALS",
    "MAX_CRAWL_DELAY_SECONDS",
    "MAX_DELAY_SECONDS",
    "ROBOTS_TXT",
    "DeferralError",
    "Deferrer",
    "GateDecision",
    "HostGate",
    "HostNotReadyError",
    "HostPacer",
    "PoliteFetcher",
    "RobotsCache",
    "RobotsPolicy",
    "RobotsVerdict",
    "host_of",
    "host_pk",
    "origin_of",
    "polite_fetcher",
    "user_agent_token",
]
