"""Canonical URLs and article identity: one article per URL, however it is spelled."""

from __future__ import annotations

import pytest

from newsflow.errors import PermanentError, Reason
from newsflow.urls import (
    article_id_for,
    canonicalize_url,
    domain_of,
    fallback_article_id,
    redact_credentials,
)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("HTTP://WWW.Example.COM/News/Story", "http://www.example.com/News/Story"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_medium=y", "https://example.com/a"),
        ("https://example.com/a?id=7&fbclid=abc&gclid=def", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1&mc_cid=z", "https://example.com/a?b=2&a=1"),
        (
            "https://example.com/a?q=caf%C3%A9+cr%C3%A8me",
            "https://example.com/a?q=caf%C3%A9+cr%C3%A8me",
        ),
        ("https://bücher.example/ä", "https://xn--bcher-kva.example/ä"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ],
)
def test_canonical_form(given: str, canonical: str) -> None:
    # GIVEN a URL spelled in some way WHEN canonicalised THEN it has the one canonical form
    assert canonicalize_url(given) == canonical


def test_spellings_of_one_url_share_an_article_id() -> None:
    # GIVEN three spellings of the same article
    spellings = [
        "https://www.example.com/story?id=1",
        "HTTPS://WWW.EXAMPLE.COM:443/story?id=1&utm_campaign=x#top",
        "https://www.example.com/story?id=1&fbclid=123",
    ]
    # WHEN identified THEN all have the same id
    assert len({article_id_for(canonicalize_url(url)) for url in spellings}) == 1


def test_different_queries_are_different_articles() -> None:
    # GIVEN two URLs that differ in a content parameter THEN their ids differ
    first = article_id_for(canonicalize_url("https://example.com/story?id=1"))
    second = article_id_for(canonicalize_url("https://example.com/story?id=2"))
    assert first != second


def test_article_id_is_32_lowercase_hex_and_stable() -> None:
    # GIVEN a canonical URL WHEN hashed THEN the id is sha256's first 32 hex digits
    article_id = article_id_for("https://example.com/")
    assert article_id == "0f115db062b7c0dd030b16878c99dea5"
    assert len(article_id) == 32
    assert article_id == article_id.lower()


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "empty"),
        ("not a url", "whitespace"),
        ("example.com/story", "no scheme"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("ftp://example.com/file.pdf", "scheme 'ftp'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("https://user:secret@example.com/", "credentials"),
        ("https://@example.com/", "credentials"),
        ("https:///path-only", "no host"),
        ("http://example.com:99999/", "port"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com/\x00", "control"),
        ("https://example.com/" + "a" * 3000, "longer than"),
    ],
)
def test_unusable_urls_are_permanent_invalid_url(given: str, says: str) -> None:
    # GIVEN input that is not a fetchable http(s) URL WHEN canonicalised
    with pytest.raises(PermanentError) as caught:
        canonicalize_url(given)
    # THEN it is a permanent invalid_url failure whose detail says why
    assert caught.value.reason is Reason.INVALID_URL
    assert says in caught.value.detail


def test_domain_drops_www() -> None:
    assert domain_of("https://www.example.com/a") == "example.com"
    assert domain_of("https://news.example.com/a") == "news.example.com"


def test_fallback_id_is_stable_for_the_same_bad_input() -> None:
    # GIVEN the same junk twice (with surrounding spaces) THEN it maps to one id
    assert fallback_article_id(" not a url ") == fallback_article_id("not a url")
    assert len(fallback_article_id("x")) == 32


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("http://admin:hunter2@example.com/a?b=1", "http://***@example.com/a?b=1"),
        ("https://token@example.com/", "https://***@example.com/"),
        ("https://example.com/a@b", "https://example.com/a@b"),
        ("not a url", "not a url"),
    ],
)
def test_credentials_are_redacted_before_storing(given: str, stored: str) -> None:
    # GIVEN a URL that may carry credentials WHEN redacted THEN no secret is left in it
    assert redact_credentials(given) == stored
