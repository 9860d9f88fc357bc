"""IngestQueue bodies: a bare URL or a JSON object; anything else is rejected once."""

from __future__ import annotations

import json

import pytest

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.models import EnrichMessage, parse_ingest_body
from newsflow.urls import parse_url


def test_bare_url_body() -> None:
    message = parse_ingest_body("https://example.com/a\n")
    assert message.url == "https://example.com/a"
    assert message.force is False
    assert message.source is None
    assert message.metadata == {}


def test_json_body_with_every_field() -> None:
    body = json.dumps(
        {"url": "https://example.com/a", "source": "rss", "force": True, "metadata": {"k": "v"}}
    )
    message = parse_ingest_body(body)
    assert (message.url, message.source, message.force, message.metadata) == (
        "https://example.com/a",
        "rss",
        True,
        {"k": "v"},
    )


def test_json_string_body_is_a_url() -> None:
    assert parse_ingest_body('"https://example.com/a"').url == "https://example.com/a"


def test_prose_is_kept_as_a_url_for_the_url_rules_to_refuse() -> None:
    # GIVEN a body of prose WHEN parsed THEN it is a message whose url the URL rules will refuse
    assert parse_ingest_body("please fetch the news").url == "please fetch the news"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("http://2130706433/", "unusual spelling"),
        ('{"url": "http://0x7f.1/"}', "unusual spelling"),
        ('"http://[fe80::1%25eth0]/"', "zone identifiers"),
        ("http://user:pw@example.com/", "credentials"),
        ('{"url": "http://example.com:99999/", "source": "feed"}', "out of range"),
    ],
)
def test_a_url_the_fetcher_would_refuse_is_refused_at_intake(body: str, says: str) -> None:
    # GIVEN a well-formed message whose URL the fetcher would refuse by its form
    message = parse_ingest_body(body)
    # WHEN the URL rule judges it (as the fetch stage does before any fetch)
    with pytest.raises(PermanentError) as caught:
        parse_url(message.url)
    # THEN it is an intake failure (a FAILED article, not a rejected message), saying why
    assert caught.value.reason is Reason.INVALID_URL
    assert caught.value.stage is Stage.INTAKE
    assert says in caught.value.detail


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        (None, "empty"),
        ('{"url": ', "not valid JSON"),
        ("[1, 2]", "must be an object"),
        ("{}", "url"),
        ('{"link": "https://example.com"}', "url"),
        ('{"url": ""}', "url"),
        ('{"url": 42}', "url"),
        ('{"url": "https://example.com", "force": "maybe"}', "force"),
        ('{"url": "https://example.com", "metadata": {"k": 1}}', "metadata"),
        ('{"url": "https://example.com", "extra": 1}', "extra"),
    ],
)
def test_bodies_without_a_usable_url_are_rejected(body: str | None, says: str) -> None:
    # GIVEN a body that holds no usable URL WHEN parsed
    with pytest.raises(PermanentError) as caught:
        parse_ingest_body(body)
    # THEN it is a permanent intake failure naming the problem
    assert caught.value.reason is Reason.INVALID_MESSAGE
    assert caught.value.stage is Stage.INTAKE
    assert says in caught.value.detail


def test_oversized_metadata_is_rejected() -> None:
    body = json.dumps({"url": "https://example.com", "metadata": {"k": "v" * 5000}})
    with pytest.raises(PermanentError):
        parse_ingest_body(body)


def test_megabyte_of_unicode_junk_is_a_url_for_the_url_rules() -> None:
    # GIVEN a 1 MB body of junk WHEN parsed THEN parsing stays cheap and keeps it as the url
    junk = "\u2603\u0000\ud7ff" * 350_000
    assert parse_ingest_body(junk).url.startswith("\u2603")


def test_enrich_message_requires_hex_article_id() -> None:
    with pytest.raises(ValueError):
        EnrichMessage(article_id="../../etc", bucket="b", key="k")
