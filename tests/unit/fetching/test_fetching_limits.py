"""Size cap on decoded bytes and one total deadline per fetch."""

from __future__ import annotations

import pytest

from newsflow.errors import PermanentError, Reason, TransientError
from newsflow.fetching import SafeFetcher
from newsflow.settings import FetchPolicy

CAP = 100_000


def _fetcher(**overrides: object) -> SafeFetcher:
    policy = FetchPolicy.model_validate(
        {"allow_loopback": True, "timeout_seconds": 3.0, "max_content_bytes": CAP, **overrides}
    )
    return SafeFetcher(policy)


@pytest.mark.parametrize("path", ["/gzip-bomb", "/deflate-bomb"])
def test_compression_bomb_stops_at_the_cap(hostile_server, path: str) -> None:
    # GIVEN a small compressed body (under the cap) that decodes to 8 MiB
    # WHEN fetched with a 100,000-byte cap
    with pytest.raises(PermanentError) as caught:
        _fetcher().fetch(hostile_server.url(path))
    # THEN it is too large: the cap applies to decoded bytes
    assert caught.value.reason is Reason.TOO_LARGE
    assert caught.value.detail == "body exceeds 100,000 bytes"


def test_declared_length_over_the_cap_is_refused_early(hostile_server) -> None:
    # GIVEN a response declaring Content-Length: 1,000,000,000
    with pytest.raises(PermanentError) as caught:
        _fetcher().fetch(hostile_server.url("/declared-huge"))
    # THEN it is refused from the header alone
    assert caught.value.reason is Reason.TOO_LARGE
    assert caught.value.detail == ("Content-Length 1,000,000,000 exceeds the 100,000 byte limit")


@pytest.mark.parametrize("route", ["/streamed", "/chunked"])
def test_body_over_the_cap_without_length_is_cut(hostile_server, route: str) -> None:
    # GIVEN a body one byte over the cap sent without Content-Length (close-delimited or
    # chunked) WHEN fetched
    with pytest.raises(PermanentError) as caught:
        _fetcher().fetch(hostile_server.url(f"{route}?size={CAP + 1}"))
    # THEN it is too large
    assert caught.value.reason is Reason.TOO_LARGE


@pytest.mark.parametrize("route", ["/streamed", "/chunked"])
def test_body_exactly_at_the_cap_is_accepted(hostile_server, route: str) -> None:
    # GIVEN a body of exactly the cap WHEN fetched THEN it is returned whole
    page = _fetcher().fetch(hostile_server.url(f"{route}?size={CAP}"))
    assert len(page.body) == CAP


def test_dripping_body_ends_at_the_total_deadline(hostile_server) -> None:
    # GIVEN a server that sends one byte every 50 ms (each read succeeds, so a per-read
    # timeout never fires; the drip ends by itself after 8 s)
    fetcher = _fetcher(timeout_seconds=1.5, connect_timeout_seconds=1.0)
    # WHEN fetched with a total deadline of 1.5 s
    with pytest.raises(TransientError) as caught:
        fetcher.fetch(hostile_server.url("/drip-body"))
    # THEN the fetch ends with a transient timeout instead of a truncated page, and it was
    # the fetcher that hung up, long before the drip would have run out
    assert caught.value.reason is Reason.TIMEOUT
    assert caught.value.detail == "no complete response within 1.5 s"
    assert hostile_server.wait_for_drip() == "client hung up"


def test_dripping_headers_end_at_the_total_deadline(hostile_server) -> None:
    # GIVEN a server that drips a header line one byte every 50 ms
    fetcher = _fetcher(timeout_seconds=1.0, connect_timeout_seconds=1.0)
    # WHEN fetched with a total deadline of 1 s
    with pytest.raises(TransientError) as caught:
        fetcher.fetch(hostile_server.url("/drip-headers"))
    # THEN the deadline covers the header phase too: the fetcher hung up mid-headers
    assert caught.value.reason is Reason.TIMEOUT
    assert hostile_server.wait_for_drip() == "client hung up"
