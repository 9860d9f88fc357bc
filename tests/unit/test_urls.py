"""Canonical URLs and article identity: one article per URL, however it is spelled."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.fetching.target import target_for
from newsflow.urls import (
    article_id_for,
    canonicalize_url,
    domain_of,
    fallback_article_id,
    parse_url,
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


# --------------------------------------------------------------------------- the one URL rule

REFUSED_BY_FORM = [
    ("http://2130706433/", "unusual spelling"),
    ("http://0x7f.1/", "unusual spelling"),
    ("http://0x7f000001/", "unusual spelling"),
    ("http://017700000001/", "unusual spelling"),
    ("http://0177.0.0.1/", "unusual spelling"),
    ("http://127.1/", "unusual spelling"),
    ("http://[fe80::1%25eth0]/", "zone identifiers"),
    ("http://[::1/", "unparseable"),
    ("http://[2001:db8::g]/", "IPv6"),
    ("http://user:pw@example.com/", "credentials"),
    ("http://example.com:99999/", "out of range"),
    ("http://example.com:0/", "out of range"),
    ("http://%31%32%37.0.0.1/", "invalid host name"),
    ("http://exa!mple.com/", "invalid host name"),
    ("http://example..com/", "invalid host name"),
    ("http://" + "a" * 64 + ".example/", "invalid host name"),
    ("http://example.com\\.evil.test/", "invalid host name"),
    ("gopher://example.com/", "scheme 'gopher'"),
    ("//example.com/a", "no scheme"),
    ("http://example.com/\x7f", "control"),
]


@pytest.mark.parametrize(("given", "says"), REFUSED_BY_FORM)
def test_urls_the_fetcher_refuses_by_form_are_refused_at_intake(given: str, says: str) -> None:
    # GIVEN a URL whose form alone makes it unfetchable WHEN parsed
    with pytest.raises(PermanentError) as caught:
        parse_url(given)
    # THEN it is refused at intake as invalid_url, saying why
    assert caught.value.reason is Reason.INVALID_URL
    assert caught.value.stage is Stage.INTAKE
    assert says in caught.value.detail


@pytest.mark.parametrize(("given", "says"), REFUSED_BY_FORM)
def test_the_fetcher_refuses_the_same_urls_with_the_same_detail(given: str, says: str) -> None:
    # GIVEN a URL intake refuses WHEN the fetcher builds its target (a redirect, say)
    with pytest.raises(PermanentError) as at_intake:
        parse_url(given)
    with pytest.raises(PermanentError) as at_fetch:
        target_for(given)
    # THEN the fetcher refuses it too, with the same reason and detail, at its own stage
    assert (at_fetch.value.reason, at_fetch.value.detail) == (
        at_intake.value.reason,
        at_intake.value.detail,
    )
    assert at_fetch.value.stage is Stage.FETCH


@pytest.mark.parametrize(
    "given",
    [
        "http://93.184.216.34/",
        "http://[2001:db8::1]:8443/a",
        "https://news.example:8080/a",
        "http://127.0.0.1:8765/page",
        "http://10.0.0.1/",
    ],
)
def test_address_and_port_policy_is_left_to_the_fetcher(given: str) -> None:
    # GIVEN a well-formed URL on a non-default port or a non-public address WHEN parsed
    # THEN its form is accepted: ALLOWED_PORTS, loopback and private ranges are fetch-time calls
    assert parse_url(given).canonical()


def test_parsed_url_holds_what_a_connection_needs() -> None:
    # GIVEN an IPv6 literal on a non-default port, spelled loosely
    web = parse_url("HTTP://[2001:DB8:0::1]:8080/a%7eb/../c?x=%2f#frag")
    # THEN the parts are normalised and the path and query stay as given
    assert (web.scheme, web.host, web.port) == ("http", "2001:db8::1", 8080)
    assert web.ip is not None and str(web.ip) == "2001:db8::1"
    assert web.authority == "[2001:db8::1]:8080"
    assert (web.path, web.query) == ("/a%7eb/../c", "x=%2f")
    assert web.canonical() == "http://[2001:db8::1]:8080/c?x=%2F"


def test_a_dotted_quad_host_is_an_ip_literal() -> None:
    web = parse_url("http://93.184.216.34./x")
    assert (web.host, str(web.ip), web.port) == ("93.184.216.34", "93.184.216.34", 80)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a/b/..", "https://example.com/a/"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/.", "https://example.com/a/"),
        ("https://example.com/%7euser/%41%62%2D%5F%2E", "https://example.com/~user/Ab-_."),
        ("https://example.com/a%2fb%3f", "https://example.com/a%2Fb%3F"),
        ("https://example.com/a/%2e%2E/b", "https://example.com/b"),
        ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
        ("https://example.com/a?q=%c3%a9&r=%2b", "https://example.com/a?q=%C3%A9&r=%2B"),
        ("https://example.com/a?q=a+b", "https://example.com/a?q=a+b"),
        ("https://example.com/a//b", "https://example.com/a//b"),
        ("https://example.com/100%", "https://example.com/100%"),
    ],
)
def test_rfc3986_normalisation(given: str, canonical: str) -> None:
    # GIVEN a spelling that differs in percent-case, escaped unreserved characters or dot
    # segments WHEN canonicalised THEN it has the normalised form (reserved escapes stay escaped)
    assert canonicalize_url(given) == canonical


def test_percent_plus_and_plus_stay_different_queries() -> None:
    # GIVEN "+" (a space in a form query) and "%2B" (a literal plus) THEN different articles
    assert canonicalize_url("https://e.example/?q=a+b") != canonicalize_url(
        "https://e.example/?q=a%2Bb"
    )


# --------------------------------------------------------------------------- properties

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_SEGMENT_CHARS = st.sampled_from(list(_UNRESERVED + "!$&'()*+,;=:@%é"))
_segments = st.lists(
    st.one_of(st.text(_SEGMENT_CHARS, max_size=8), st.sampled_from([".", "..", ""])),
    max_size=6,
)
_hosts = st.sampled_from(
    ["example.com", "WWW.Example.COM", "bücher.example", "93.184.216.34", "[2001:DB8::1]"]
)
_queries = st.lists(
    st.tuples(
        st.sampled_from(["id", "q", "utm_source", "fbclid", "Page", "%7e"]),
        st.text(_SEGMENT_CHARS, max_size=6),
    ),
    max_size=4,
)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/" + "/".join(draw(_segments))
    query = "&".join(f"{k}={v}" for k, v in draw(_queries))
    fragment = draw(st.sampled_from(["", "#top", "#"]))
    return f"{scheme}://{draw(_hosts)}{port}{path}{'?' + query if query else ''}{fragment}"


@given(_urls())
@settings(max_examples=300, deadline=None)
def test_canonicalisation_is_idempotent(url: str) -> None:
    # GIVEN any acceptable URL WHEN canonicalised twice THEN the second pass changes nothing
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def _respell(text: str, data: st.DataObject) -> str:
    """Escape some unreserved characters, in random hex case."""
    out = []
    for char in text:
        if char in _UNRESERVED and data.draw(st.booleans()):
            hex_digits = f"{ord(char):02x}"
            out.append("%" + (hex_digits.upper() if data.draw(st.booleans()) else hex_digits))
        else:
            out.append(char)
    return "".join(out)


@given(
    st.lists(st.text(st.sampled_from(list(_UNRESERVED)), min_size=1, max_size=8), max_size=5),
    st.data(),
)
@settings(max_examples=200, deadline=None)
def test_respellings_share_one_article_id(segments: list[str], data: st.DataObject) -> None:
    # GIVEN a path, and a respelling with escaped unreserved characters, hex case and dot segments
    plain = "https://example.com/" + "/".join(segments)
    respelled_segments = []
    for segment in segments:
        if data.draw(st.booleans()):
            respelled_segments += ["x", ".."]  # a detour that dot-segment removal undoes
        if data.draw(st.booleans()):
            respelled_segments.append(".")
        respelled_segments.append(_respell(segment, data))
    respelled = "https://EXAMPLE.com:443/" + "/".join(respelled_segments)
    # WHEN both are identified THEN they are one article
    assert article_id_for(canonicalize_url(respelled)) == article_id_for(canonicalize_url(plain))
