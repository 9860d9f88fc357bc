"""One host, one pace: a request slot per host shared by every container through DynamoDB.

Each host has one item (``pk = HOST#<host>``, ``sk = GATE``) holding ``next_at``, the earliest
time the next request may start, and ``backoff_until``, set when the host answered 429/503 with
``Retry-After``. A caller reserves the next slot with a conditional write (the item must still
hold the ``next_at`` it read), so two containers can never take the same slot: the spacing
between any two requests to a host is at least ``1 / requests_per_second`` (or the robots.txt
``Crawl-delay``, capped), however many functions run at once. No new service, one read and one
write per request.

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

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HOST_PREFIX = "HOST#"
GATE_SK = "GATE"
MAX_CRAWL_DELAY_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 3600.0
GATE_ITEM_TTL_SECONDS = 24 * 3600
MAX_KEY_HOST_BYTES = 512
_CONTENDED_ATTEMPTS = 25
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

    def acquire(self, host: str, *, max_wait: float, crawl_delay: float = 0.0) -> GateDecision:
        """Reserve the host's next request slot if it starts within ``max_wait`` seconds.

        ``crawl_delay`` (robots.txt) widens the spacing, capped at 30 s. Under heavy contention
        (the item keeps changing under us) the caller is told to defer by one interval.
        """
        interval = max(self.interval, min(max(crawl_delay, 0.0), MAX_CRAWL_DELAY_SECONDS))
        interval += SEND_JITTER_GUARD_SECONDS
        key = {"pk": {"S": host_pk(host)}, "sk": {"S": GATE_SK}}
        for _ in range(_CONTENDED_ATTEMPTS):
            now = self._clock()
            with translated(f"reading the rate gate of {host}", stage=Stage.FETCH):
                item = self._client.get_item(
                    TableName=self.table_name, Key=key, ConsistentRead=True
                ).get("Item", {})
            seen = item.get("next_at", {}).get("N")
            slot = max(now, float(seen or 0), float(item.get("backoff_until", {}).get("N", 0)))
            if slot - now > max_wait:
                return GateDecision(defer_seconds=slot - now)
            if self._reserve(host, seen, slot + interval, now):
                return GateDecision(wait_seconds=slot - now)
        return GateDecision(defer_seconds=interval)

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

    def _reserve(self, host: str, seen: str | None, next_at: float, now: float) -> bool:
        values = {
            ":next": {"N": _number(next_at)},
            ":expires": {"N": str(int(now + GATE_ITEM_TTL_SECONDS))},
        }
        if seen is not None:
            values[":seen"] = {"N": seen}
        return self._conditional_update(
            host,
            f"reserving a request slot for {host}",
            UpdateExpression="SET next_at = :next, expires_at = :expires",
            ConditionExpression="attribute_not_exists(next_at)"
            if seen is None
            else "next_at = :seen",
            ExpressionAttributeValues=values,
        )

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
