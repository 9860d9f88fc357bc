"""Deterministic errors are permanent, and hostile bodies are rejected, not raised.

An input that fails the same way every time must end FAILED (or rejected) at once: retried, it
only travels to the DLQ with no note. Before these fixes, a redirect to a malformed IPv6 literal
escaped as an uncaught ``ValueError``, two conflicting ``Content-Length`` headers were retried as
a connection error, an IPv4-translated address (``::ffff:0:0:0/96``) was fetched, and a body of
100,000 ``[`` raised ``RecursionError``. Each group runs as one batch between two good articles
(the batch test of ``test_hostile_bodies``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from newsflow.errors import PermanentError
from newsflow.json_limits import MAX_JSON_DEPTH
from newsflow.models import parse_enrich_body, parse_ingest_body

from .support import Driver, FakeDns, FaultInjector, ingest_body, puts_item
from .test_hostile_bodies import Case, Site
from .test_hostile_bodies import test_hostile_bodies_end_cleanly_and_alone as run_hostile_batch

DEEP = "[" * 100_000


def _name_to_translated(site: Site) -> str:
    site.dns.table["translated.example"] = ["::ffff:0:7f00:1"]
    return "http://translated.example/story"


HOSTILE_TARGETS = [
    Case(
        "redirect to an IPv6 zone id",
        lambda s: s.redirect("/zone", "http://[fe80::1%eth0]/"),
        "invalid_url",
        "zone identifiers",
        stage="fetch",
    ),
    Case(
        "redirect to a broken IPv6 literal",
        lambda s: s.redirect("/broken-v6", "http://[::1/"),
        "invalid_url",
        "unparseable",
        stage="fetch",
    ),
    Case(
        "redirect to an empty zone id",
        lambda s: s.redirect("/empty-zone", "http://[fe80::1%]/"),
        "invalid_url",
        "unparseable",
        stage="fetch",
    ),
    Case(
        "redirect to an IPvFuture literal",
        lambda s: s.redirect("/future", "http://[v1.x]/"),
        "invalid_url",
        "not an IPv6 address",
        stage="fetch",
    ),
    Case(
        "IPv4-translated literal",
        lambda s: "http://[::ffff:0:a9fe:a9fe]/latest/",
        "blocked_url",
        "IPv4-translated",
    ),
    Case("name resolving to IPv4-translated", _name_to_translated, "blocked_url", "translated"),
    Case(
        "two conflicting Content-Length headers",
        lambda s: s.server.add(
            "/two-lengths",
            b"<html><body><p>hello</p></body></html>",
            headers={"Content-Length": "7"},
        ),
        "http_error",
        "Content-Length",
        stage="fetch",
    ),
]

HOSTILE_STRUCTURE = [
    Case("100,000 [", lambda s: DEEP, "invalid_message", "nested deeper", True),
    Case("100,000 {", lambda s: '{"a":' * 100_000, "invalid_message", "nested deeper", True),
    Case("a deep url", lambda s: '{"url": ' + DEEP, "invalid_message", "nested deeper", True),
    Case(
        "deep metadata",
        lambda s: '{"url": "http://a.example/", "metadata": ' + "[" * 5_000 + "]" * 5_000 + "}",
        "invalid_message",
        "nested deeper",
        True,
    ),
]


@pytest.fixture(autouse=True)
def _not_about_politeness(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case here is served by one loopback host: its request rate and robots.txt would
    defer the batch-mates, which is not what these tests are about."""
    monkeypatch.setenv("HOST_REQUESTS_PER_SECOND", "100")
    monkeypatch.setenv("RESPECT_ROBOTS", "false")


@pytest.fixture
def site(page_server: Any, fake_dns: FakeDns) -> Site:
    return Site(server=page_server, dns=fake_dns)


@pytest.mark.parametrize(
    "cases", [HOSTILE_TARGETS, HOSTILE_STRUCTURE], ids=["hostile targets", "hostile structure"]
)
def test_deterministic_failures_end_at_once_and_alone(
    pipeline: Any,
    fetch_handler: ModuleType,
    site: Site,
    sample_event: Callable[[str], dict[str, Any]],
    lambda_context: Any,
    make_article_page: Callable[..., bytes],
    cases: list[Case],
) -> None:
    run_hostile_batch(
        pipeline, fetch_handler, site, sample_event, lambda_context, make_article_page, cases
    )


def test_nesting_within_the_limit_still_reads() -> None:
    body = json.dumps({"url": "http://a.example/[[[", "metadata": {"k": "{[" * 50}})
    assert parse_ingest_body(body).url == "http://a.example/[[["
    shallow = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    with pytest.raises(PermanentError) as caught:  # shallow enough: refused for its shape
        parse_ingest_body(shallow)
    assert "list" in caught.value.detail


@pytest.mark.parametrize("body", [DEEP, '{"article_id": ' + DEEP, '{"a":' * 100_000])
def test_a_deep_enrich_body_is_a_permanent_invalid_message(body: str) -> None:
    with pytest.raises(PermanentError) as caught:
        parse_enrich_body(body)
    assert caught.value.reason == "invalid_message"
    assert "nested deeper" in caught.value.detail


def test_a_validation_exception_is_recorded_failed_not_retried(
    faults: FaultInjector,
    drive: Driver,
    page_server: Any,
    make_article_page: Callable[..., bytes],
) -> None:
    # GIVEN DynamoDB refusing the FETCHED write as invalid, every time (an item too large, say);
    # the article is new, so that write is its conditional PutItem
    faults.fail(
        "dynamodb.PutItem",
        times=-1,
        code="ValidationException",
        http_status=400,
        match=puts_item("status", "FETCHED"),
    )
    url = page_server.add("/story", make_article_page())

    # WHEN the pipeline runs
    ledger = drive.run([ingest_body(url)])

    # THEN the article is FAILED with the reason, on the first delivery, and nothing dead-letters
    assert ledger.outcome == {ingest_body(url): "FAILED"}
    (item,) = ledger.articles.values()
    assert item["failure"]["stage"] == "store"
    assert item["attempts"] == 1
    assert not any(ledger.dead_letters.values())
