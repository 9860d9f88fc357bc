"""One host, one pace: a request slot per host shared by every container through DynamoDB.

Each host has one item (``pk = HOST#<host>``, ``sk = GATE``) holding ``next_at``, the earliest
time the next request may start, and ``backoff_until``, set when the host answered 429/503 with
``Retry-After``. A caller reserves the next slot with a conditional write, so two containers can
never take the same slot: the spacing between any two requests to a host is at least
``1 / requests_per_second`` (or the robots.txt ``Crawl-delay``, capped), however many functions
run at once. No new service.

One call per request, no read: an UpdateItem whose condition is "the slot is free by now" (or,
when this container already knows the host's ``next_at``, "``next_at`` is still that"). When the
condition fails, the failed write returns the item as it is
(``ReturnValuesOnConditionCheckFailure``), which says when the next slot is; a second write
reserves that one. ``next_at`` only ever moves forward, so a slot this container knows is too far
away is deferred without any call.

A slot further away than the caller can wait is not taken: the decision says how long to defer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from newsflow.aws_errors import error_code, translated
from newsflow.errors import Stage
from newsflow.keyed_locks import KeyedLocks

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]  # a DynamoDB item as the client returns it

HOST_PREFIX = "HOST#"
GATE_SK = "GATE"
MAX_CRAWL_DELAY_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 3600.0
GATE_ITEM_TTL_SECONDS = 24 * 3600
MAX_KEY_HOST_BYTES = 512
_CONTENDED_ATTEMPTS = 25
_MAX_KNOWN_HOSTS = 10_000
# Added to every interval: a worker may send its request a few ms after its slot (thread
# wake-up, connection set-up) while the next one is on time; the guard keeps even those two at
# least the interval apart at the host.
SEND_JITTER_GUARD_SECONDS = 0.1


def host_pk(host: str) -> str:
    """The partition key of a host's items; a host too long for a key is keyed by its hash."""
    host = host.lower()
    if len(host.encode()) > MAX_KEY_HOST_BYTES:
        host = "sha256:" + hashlib.sha256(host.encode()).hexdigest()
    return HOST_PREFIX + host


@dataclass(frozen=True)
class GateDecision:
    """Either go after ``wait_seconds`` (a slot is reserved), or defer for ``defer_seconds``."""

    wait_seconds: float = 0.0
    defer_seconds: float | None = None

    @property
    def granted(self) -> bool:
        return self.defer_seconds is None


class HostGate:
    """The per-host rate limit (``HostRequestsPerSecond``) and back-off, across containers."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        *,
        requests_per_second: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        self.table_name = table_name
        self.interval = 1.0 / requests_per_second
        self._client = client
        self._clock = clock
        self._hosts = KeyedLocks()
        self._known: dict[str, str] = {}  # host -> its next_at as this container last saw it

    def acquire(self, host: str, *, max_wait: float, crawl_delay: float = 0.0) -> GateDecision:
        """Reserve the host's next request slot if it starts within ``max_wait`` seconds.

        ``crawl_delay`` (robots.txt) widens the spacing, capped at 30 s. Under heavy contention
        (the item keeps changing under us) the caller is told to defer by one interval.
        """
        interval = max(self.interval, min(max(crawl_delay, 0.0), MAX_CRAWL_DELAY_SECONDS))
        interval += SEND_JITTER_GUARD_SECONDS
        # One caller per host at a time in this container: the workers of a batch take the
        # host's slots one after the other instead of failing each other's conditions.
        with self._hosts.hold(host):
            return self._acquire(host, max_wait, interval)

    def _acquire(self, host: str, max_wait: float, interval: float) -> GateDecision:
        now = self._clock()
        known = self._known.get(host)
        if known is not None and float(known) - now > max_wait:
            return GateDecision(defer_seconds=float(known) - now)
        if known is None or float(known) <= now:
            slot, seen = now, self._take_if_free(host, now + interval, now)
        else:
            slot = float(known)
            seen = self._take_after(host, known, slot, slot + interval, now)
        for _ in range(_CONTENDED_ATTEMPTS):
            if seen is None:
                self._remember(host, _number(slot + interval), now)
                return GateDecision(wait_seconds=slot - now)
            now = self._clock()
            next_at = seen.get("next_at", {}).get("N")
            if next_at is not None:
                self._remember(host, next_at, now)
            slot = max(now, float(next_at or 0), float(seen.get("backoff_until", {}).get("N", 0)))
            if slot - now > max_wait:
                return GateDecision(defer_seconds=slot - now)
            seen = self._take_after(host, next_at, slot, slot + interval, now)
        return GateDecision(defer_seconds=interval)

    def _remember(self, host: str, next_at: str, now: float) -> None:
        if len(self._known) >= _MAX_KNOWN_HOSTS:  # a long-lived container: forget past slots
            for stale in [name for name, at in self._known.items() if float(at) <= now]:
                del self._known[stale]
        self._known[host] = next_at

    def back_off(self, host: str, seconds: float) -> None:
        """Keep every container off ``host`` for ``seconds`` (capped at an hour); a longer
        back-off already in place is kept."""
        until = self._clock() + min(max(seconds, 0.0), MAX_BACKOFF_SECONDS)
        self._conditional_update(
            host,
            f"backing off {host}",
            UpdateExpression="SET backoff_until = :until, expires_at = :expires",
            ConditionExpression="attribute_not_exists(backoff_until) OR backoff_until < :until",
            ExpressionAttributeValues={
                ":until": {"N": _number(until)},
                ":expires": {"N": str(int(until + GATE_ITEM_TTL_SECONDS))},
            },
        )

    def _take_if_free(self, host: str, next_at: float, now: float) -> Item | None:
        """Take the slot starting ``now`` if nothing holds the host; else the item as it is."""
        return self._reserve(
            host,
            next_at,
            now,
            condition="(attribute_not_exists(next_at) OR next_at <= :now)"
            " AND (attribute_not_exists(backoff_until) OR backoff_until <= :now)",
            values={":now": {"N": _number(now)}},
        )

    def _take_after(
        self, host: str, seen: str | None, slot: float, next_at: float, now: float
    ) -> Item | None:
        """Take ``slot`` if ``next_at`` is still ``seen`` and no back-off reaches past the slot;
        if another caller moved either first, the item as it is now."""
        unchanged = "attribute_not_exists(next_at)" if seen is None else "next_at = :seen"
        return self._reserve(
            host,
            next_at,
            now,
            condition=f"{unchanged}"
            " AND (attribute_not_exists(backoff_until) OR backoff_until <= :slot)",
            values={":slot": {"N": _number(slot)}, **({":seen": {"N": seen}} if seen else {})},
        )

    def _reserve(
        self,
        host: str,
        next_at: float,
        now: float,
        *,
        condition: str,
        values: Item | None = None,
    ) -> Item | None:
        """``None`` when the slot was taken; the item as it was when ``condition`` failed."""
        with translated(f"reserving a request slot for {host}", stage=Stage.FETCH):
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": host_pk(host)}, "sk": {"S": GATE_SK}},
                    UpdateExpression="SET next_at = :next, expires_at = :expires",
                    ConditionExpression=condition,
                    ExpressionAttributeValues={
                        ":next": {"N": _number(next_at)},
                        ":expires": {"N": str(int(now + GATE_ITEM_TTL_SECONDS))},
                        **(values or {}),
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    item: Item = exc.response.get("Item", {})  # type: ignore[assignment]
                    return item
                raise
        return None

    def _conditional_update(self, host: str, action: str, **update: Any) -> bool:
        """Whether the write happened (``False``: its condition no longer held)."""
        with translated(action, stage=Stage.FETCH):
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": host_pk(host)}, "sk": {"S": GATE_SK}},
                    **update,
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True


def _number(value: float) -> str:
    return f"{value:.6f}"
