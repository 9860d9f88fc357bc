"""The refresh policy: re-fetch a new article after configurable delays (off by default).

``REFRESH_AFTER`` lists the delays after the first fetch, e.g. ``1h,6h,24h``; empty is off.
When an article is first stored, the fetch stage re-sends its URL as a ``force`` ingest message
for step 0, due ``delays[0]`` later. SQS delays a message at most 900 s, so a message that is
not yet due is re-sent with the rest of its wait (at most 900 s each hop) and consumed: no table
item, no scan, no other AWS call than the send the fetch function already makes for deferrals.
A due refresh is an ordinary forced re-fetch (a conditional GET with the stored validators:
unchanged writes only ``checked_at``, changed writes a new version), then step ``n + 1`` is
scheduled; the last step schedules nothing.

At-least-once: a crash between the send and the consumption leaves two messages for one step.
The copy that finds the article already checked, or a version fetched, at or after its due
time is skipped and schedules nothing, so the chain never forks. A message lost between the
writes and the send loses the rest of that article's refreshes, never the article itself.
With the policy off, a refresh message still in flight is an ordinary forced re-fetch.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from pydantic import BaseModel

from newsflow.models import ArticleRecord, IngestMessage
from newsflow.politeness.deferral import MAX_DELAY_SECONDS

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DELAY: Final = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
MAX_REFRESH_STEPS: Final = 10


class DelayedSender(Protocol):
    def send(self, message: BaseModel | str, *, delay_seconds: int = 0) -> str: ...


def parse_refresh_after(text: str | None) -> tuple[timedelta, ...]:
    """``"1h,6h,24h"`` -> the delays; empty or ``None`` -> off. Raises ValueError when malformed."""
    if not text or not text.strip():
        return ()
    delays = []
    for part in text.split(","):
        match = _DELAY.match(part)
        if match is None or int(match.group(1)) <= 0:
            raise ValueError(f"refresh delay {part.strip()!r} is not like 30m, 6h or 2d")
        delays.append(timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)]))
    if len(delays) > MAX_REFRESH_STEPS:
        raise ValueError(f"at most {MAX_REFRESH_STEPS} refresh delays")
    return tuple(delays)


@dataclass(frozen=True)
class Refresher:
    """Schedules and holds refresh re-fetches on the ingest queue."""

    queue: DelayedSender
    delays: tuple[timedelta, ...]

    def schedule(self, message: IngestMessage, step: int, fetched_at: datetime) -> bool:
        """Send step ``step`` of ``message``'s URL, due ``delays[step]`` after ``fetched_at``;
        False (nothing sent) past the last step."""
        if step >= len(self.delays):
            return False
        refresh = IngestMessage(
            url=message.url,
            source=message.source,
            metadata=message.metadata,
            force=True,
            refresh_step=step,
            refresh_due=fetched_at + self.delays[step],
        )
        self._send(refresh, fetched_at)
        return True

    def follow_up(self, message: IngestMessage, *, first_fetch: bool, now: datetime) -> bool:
        """After a first fetch, schedule step 0; after refresh step ``n``, step ``n + 1``
        (delays count from the first fetch). False when there is nothing to schedule."""
        if message.refresh_step is not None and message.refresh_due is not None:
            step = message.refresh_step
            origin = message.refresh_due - self.delays[min(step, len(self.delays) - 1)]
            return bool(self.delays) and self.schedule(message, step + 1, origin)
        return first_fetch and self.schedule(message, 0, now)

    def hold(self, message: IngestMessage, now: datetime) -> bool:
        """Re-send a refresh that is not due yet (True: the caller consumes it)."""
        if message.refresh_due is None or message.refresh_due <= now:
            return False
        self._send(message, now)
        return True

    def already_done(self, message: IngestMessage, existing: ArticleRecord | None) -> bool:
        """A duplicate of a refresh step another copy already ran (see the module docstring)."""
        if message.refresh_due is None or existing is None:
            return False
        # a run of a refresh writes checked_at (unchanged) or a version fetched then (changed);
        # enrichment, which also touches the item, writes neither
        fetches = [entry.fetched_at for entry in existing.versions]
        if existing.checked_at is not None:
            fetches.append(existing.checked_at)
        return any(at >= message.refresh_due for at in fetches)

    def _send(self, message: IngestMessage, now: datetime) -> None:
        assert message.refresh_due is not None
        wait = math.ceil((message.refresh_due - now).total_seconds())
        self.queue.send(message, delay_seconds=min(max(wait, 0), MAX_DELAY_SECONDS))


def get_refresh_delays() -> tuple[timedelta, ...]:
    """The policy from the ``REFRESH_AFTER`` environment variable (the template's parameter)."""
    return parse_refresh_after(os.environ.get("REFRESH_AFTER"))
