"""AWS calls fail - once, or for as long as an outage lasts - and nothing is lost or doubled.

Each case runs a small mixed input (two articles, a 404, a line of prose) through real SQS,
the real handlers and moto while one kind of AWS call fails. After the retries every body is
ENRICHED, FAILED or a dead letter; once the outage ends and the dead letters are redriven (with
``newsflow dlq --redrive``'s code), everything converges to what a run without faults gives:
one object per article under each S3 prefix and exactly the entity items each article lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .support import (
    ALWAYS,
    DEAD_LETTER,
    Driver,
    FaultInjector,
    Match,
    assert_no_duplicates_or_leftovers,
    key_starts,
    puts_item,
    update_sets,
)

GOOD = ("good-1", "good-2")
CLEAN_RUN = {"good-1": "ENRICHED", "good-2": "ENRICHED", "missing": "FAILED", "prose": "FAILED"}


@dataclass(frozen=True)
class Call:
    """One kind of AWS call the pipeline makes."""

    label: str
    operation: str
    match: Callable[[], Match]


RAW_PUT = Call("raw page put", "s3.PutObject", lambda: key_starts("raw/"))
DOC_PUT = Call("parsed document put", "s3.PutObject", lambda: key_starts("articles/"))
ARTICLE_READ = Call("article read", "dynamodb.GetItem", lambda: lambda params: True)
# A first fetch's article item is new: its FETCHED write is one conditional PutItem.
FETCHED_WRITE = Call("FETCHED write", "dynamodb.PutItem", lambda: puts_item("status", "FETCHED"))
HANDOFF = Call("enrich message send", "sqs.SendMessageBatch", lambda: lambda params: True)
HANDOFF_MARK = Call("hand-off mark", "dynamodb.UpdateItem", lambda: update_sets("handoff_at"))
FAILED_WRITE = Call("FAILED write", "dynamodb.UpdateItem", lambda: update_sets("status", "FAILED"))
DOC_READ = Call("parsed document read", "s3.GetObject", lambda: lambda params: True)
ENRICHED_PUT = Call("enriched document put", "s3.PutObject", lambda: key_starts("enriched/"))
ENTITY_WRITE = Call("entity index write", "dynamodb.BatchWriteItem", lambda: lambda params: True)
ENRICHED_WRITE = Call(
    "ENRICHED write", "dynamodb.UpdateItem", lambda: update_sets("status", "ENRICHED")
)


@pytest.fixture
def bodies(page_server: Any, make_article_page: Callable[..., bytes]) -> dict[str, str]:
    """Name -> IngestQueue body: two articles, a page that is gone, and not a URL at all."""
    return {
        "good-1": page_server.add("/news/bridge", make_article_page(title="Bridge approved")),
        "good-2": page_server.add("/news/ferry", make_article_page(title="Ferry trial begins")),
        "missing": page_server.url("/news/retracted"),
        "prose": "please fetch the harbour story",
    }


def outcomes(driver: Driver, bodies: dict[str, str]) -> dict[str, str]:
    ledger = driver.ledger()
    return {name: ledger.outcome[body] for name, body in bodies.items()}


def run(driver: Driver, bodies: dict[str, str]) -> dict[str, str]:
    driver.send(list(bodies.values()))
    driver.drain()
    return outcomes(driver, bodies)


# --------------------------------------------------------------------------- once

ONCE = [
    (RAW_PUT, False, "InternalError"),
    (DOC_PUT, False, "SlowDown"),
    (ARTICLE_READ, False, "ProvisionedThroughputExceededException"),
    (FETCHED_WRITE, False, "InternalServerError"),
    (HANDOFF, False, "ServiceUnavailable"),
    (HANDOFF_MARK, False, "InternalServerError"),
    (FAILED_WRITE, False, "ThrottlingException"),
    (DOC_READ, False, "InternalError"),
    (ENRICHED_PUT, False, "InternalError"),
    (ENTITY_WRITE, False, "ProvisionedThroughputExceededException"),
    (ENRICHED_WRITE, False, "InternalServerError"),
    # The call took effect but its reply was lost: the retry repeats a write that happened.
    (FETCHED_WRITE, True, "InternalServerError"),
    (HANDOFF, True, "InternalError"),
    (ENTITY_WRITE, True, "InternalServerError"),
    (ENRICHED_WRITE, True, "InternalServerError"),
]


@pytest.mark.parametrize(
    ("call", "after", "code"),
    ONCE,
    ids=[f"{c.label}{' (reply lost)' if after else ''}" for c, after, _ in ONCE],
)
def test_a_call_failing_once_is_retried_to_the_clean_result(
    drive: Driver, faults: FaultInjector, bodies: dict[str, str], call: Call, after: bool, code: str
) -> None:
    # GIVEN the first matching call fails once (before it happens, or after, with the reply lost)
    fault = faults.fail(call.operation, match=call.match(), after=after, code=code)

    # WHEN the input runs through the queues until they are empty
    result = run(drive, bodies)

    # THEN the fault was hit, and the retry ends exactly where a run without faults ends
    assert fault.injected == 1
    assert result == CLEAN_RUN
    # AND nothing is doubled or left over, no message is dead-lettered
    assert_no_duplicates_or_leftovers(drive.pipeline)
    assert all(not bodies for bodies in drive.ledger().dead_letters.values())


# --------------------------------------------------------------------------- always

# What an outage of each call does to the input while it lasts.
DOWN = {"good-1": DEAD_LETTER, "good-2": DEAD_LETTER, "missing": "FAILED", "prose": "FAILED"}
ALWAYS_CASES = [
    (RAW_PUT, DOWN),
    (FETCHED_WRITE, DOWN),
    (HANDOFF, DOWN),
    # Every retry re-sends the enrich message; enrichment finishes, and the next delivery of
    # the fetch message finds the article ENRICHED and is done with it.
    (HANDOFF_MARK, CLEAN_RUN),
    (FAILED_WRITE, {**CLEAN_RUN, "missing": DEAD_LETTER, "prose": DEAD_LETTER}),
    (ARTICLE_READ, {**DOWN, "missing": DEAD_LETTER}),
    (DOC_READ, DOWN),
    (ENTITY_WRITE, DOWN),
    (ENRICHED_WRITE, DOWN),
]


@pytest.mark.parametrize(
    ("call", "during_outage"), ALWAYS_CASES, ids=[c.label for c, _ in ALWAYS_CASES]
)
def test_an_outage_ends_in_dead_letters_and_a_redrive_completes_the_work(
    drive: Driver,
    faults: FaultInjector,
    bodies: dict[str, str],
    call: Call,
    during_outage: dict[str, str],
) -> None:
    # GIVEN every matching call fails
    faults.fail(call.operation, match=call.match(), times=ALWAYS)

    # WHEN the input runs until the queues are empty
    result = run(drive, bodies)

    # THEN each body is FAILED, ENRICHED or a dead letter - none is stuck or lost
    assert result == during_outage

    # WHEN the outage ends and the dead letters are redriven
    faults.clear()
    drive.redrive()
    drive.drain()

    # THEN everything ends as in a run without faults, with nothing doubled or left over
    assert outcomes(drive, bodies) == CLEAN_RUN
    assert_no_duplicates_or_leftovers(drive.pipeline)
    assert all(not bodies for bodies in drive.ledger().dead_letters.values())
