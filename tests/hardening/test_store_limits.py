"""The stores' limits: hostile pages through both stages, every written item within DynamoDB's.

Before the clamps, a 455 KB ``<h1>`` became the title and the article write failed on every
retry (item over 400 KB), a 13 KB run of capitalised words became an entity index key (over
2,048 bytes), and an IDN host of one-letter labels expanded into an 8 KB domain that keyed the
domain index. Each write is checked by :class:`DynamoLimitsChecker` (moto enforces only some).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from newsflow.storage.items import entity_pk, serialize_item
from newsflow.storage.limits import (
    ENTITY_KEY_BYTES,
    FIELD_LIMITS,
    MAX_PARTITION_KEY_BYTES,
    clamp_attributes,
    clamp_utf8,
    item_size,
)

from .dynamo_limits import DynamoLimitsChecker
from .support import REGION, Driver, FakeDns, ingest_body

PROSE = [
    "The city council of Portsmouth voted on Tuesday to fund a new harbour bridge, ending "
    "a debate that had divided residents for more than a decade.",
    "Mayor Helen Carter said the decision was a great victory for commuters and local "
    "businesses, who have complained about congestion on the old crossing for years.",
    "Engineers from Atlantic Structures will begin surveying the site in March, and the "
    "council expects the bridge to open to traffic in the spring of 2029.",
]
CAPITALISED = ["Harbour", "Bridge", "Council", "Portsmouth", "Atlantic", "Structures", "Green"]


@pytest.fixture
def limits(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> DynamoLimitsChecker:
    """Installed before the handlers build their clients (request it before ``drive``)."""
    session = boto3.Session(region_name=REGION)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return DynamoLimitsChecker(session, pipeline.dynamodb, pipeline.table).install()


def capitalised_run(size: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < size:
        words.append(CAPITALISED[len(words) % len(CAPITALISED)])
    return " ".join(words)


def test_hostile_pages_write_only_items_within_the_limits(
    limits: DynamoLimitsChecker,
    drive: Driver,
    page_server: Any,
    fake_dns: FakeDns,
    make_article_page: Callable[..., bytes],
) -> None:
    # GIVEN a 455 KB headline, a 13 KB run of capitalised words, and an IDN host that expands
    huge_title = "Headline " * (455 * 1024 // 9)
    huge_h1 = make_article_page(paragraphs=PROSE).replace(
        b"<h1>Portsmouth approves new harbour bridge</h1>", f"<h1>{huge_title}</h1>".encode()
    )
    huge_h1 = huge_h1.replace(b"<title>", b"<title>" + huge_title.encode(), 1).replace(
        b'<meta property="og:title"', b'<meta property="og:x"'
    )
    run = capitalised_run(13 * 1024)
    long_entity = make_article_page(paragraphs=[*PROSE, f"Speakers included {run} on Monday."])
    title_url = page_server.add("/huge-title", huge_h1)
    entity_url = page_server.add("/long-entity", long_entity)
    idn_url = "http://" + ".".join(["\u00fc"] * 600) + "/story"

    # WHEN both stages run over them
    ledger = drive.run([ingest_body(title_url), ingest_body(entity_url), idn_url])

    # THEN every item written is within DynamoDB's limits
    limits.verify()
    assert limits.checked > 0
    outcome = ledger.outcome
    assert outcome[ingest_body(title_url)] == "ENRICHED"
    assert outcome[ingest_body(entity_url)] == "ENRICHED"
    assert outcome[idn_url] == "FAILED"
    # AND what was cut says so
    items = ledger.articles
    titled = next(item for item in items.values() if item.get("url") == title_url)
    assert len(titled["title"].encode()) <= FIELD_LIMITS["title"]
    assert "title" in titled["truncated"]
    failed = next(item for item in items.values() if item["status"] == "FAILED")
    assert failed["failure"]["reason"] == "invalid_url"
    assert "253" in failed["failure"]["detail"]
    entity_keys = [
        item["pk"]
        for page in drive.pipeline.dynamodb.get_paginator("scan").paginate(
            TableName=drive.pipeline.table
        )
        for item in page["Items"]
        if item["pk"]["S"].startswith("ENTITY#")
    ]
    assert entity_keys
    assert all(len(key["S"].encode()) <= MAX_PARTITION_KEY_BYTES for key in entity_keys)


def test_clamps_cut_by_utf8_bytes_never_inside_a_character() -> None:
    assert clamp_utf8("\u00fc" * 10, 5) == "\u00fc\u00fc"  # 2-byte characters: 4 bytes, not 5
    assert clamp_utf8("short", 5) == "short"
    clamped, truncated = clamp_attributes(
        {
            "title": "T" * 10_000,
            "url": "http://a/",
            "top_entities": [{"text": "E" * 10_000, "type": "ORG", "count": 1}],
            "metadata": {"k": "v"},
        }
    )
    assert truncated == ["title", "top_entities"]
    assert len(clamped["title"]) == FIELD_LIMITS["title"]
    assert len(clamped["top_entities"][0]["text"]) == FIELD_LIMITS["text"]
    assert clamped["metadata"] == {"k": "v"}


def test_entity_keys_are_bounded_and_stable() -> None:
    run = capitalised_run(13 * 1024)
    key = entity_pk(run)
    assert len(key.encode()) <= len("ENTITY#") + ENTITY_KEY_BYTES
    assert entity_pk(run) == key  # the CLI's lookup by name finds what the stage wrote


def test_item_size_follows_dynamodbs_rules() -> None:
    item = serialize_item({"pk": "ab", "n": 12345, "l": ["x"], "m": {"k": "v"}, "b": True})
    # names 6 bytes; "ab" 2; 12345: 3 bytes of digits + 1; list 3+1+1; map 3+1+1+1; bool 1
    assert item_size(item) == 6 + 2 + 4 + 5 + 6 + 1
