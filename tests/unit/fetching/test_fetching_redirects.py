"""Redirects are followed by hand, every hop checked; connections go to the checked address.

Most tests here start from ``http://news.test:<port>/``: the fake resolver maps news.test to a
public address and ``public_net`` carries that address to the loopback server, so the first hop
passes the address check with ``allow_loopback`` off - and a redirect to a private or loopback
address is judged exactly as it would be in production.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from newsflow.errors import PermanentError, Reason
from newsflow.fetching import SafeFetcher
from newsflow.settings import FetchPolicy


@pytest.fixture
def news(hostile_server, fake_dns, public_net) -> SafeFetcher:
    """A fetcher without loopback whose first hop (news.test) reaches the test server."""
    fake_dns.table["news.test"] = [public_net.ip]
    policy = FetchPolicy.model_validate(
        {"timeout_seconds": 3.0, "allowed_ports": {80, 443, hostile_server.port}}
    )
    return SafeFetcher(policy, resolver=fake_dns)


def _url(server, path: str) -> str:
    return server.url(path, host="news.test")


def _redirect(server, to: str, code: int = 302) -> str:
    return _url(server, f"/redirect?code={code}&to={quote(to, safe='')}")


def test_relative_redirect_chain_is_followed(hostile_server, news) -> None:
    # GIVEN a chain of three relative redirects ending at the article
    start = _url(hostile_server, "/chain?n=2")
    # WHEN fetched
    page = news.fetch(start)
    # THEN the page is the article, and every URL followed is listed in order
    assert page.body == hostile_server.page_html
    assert page.requested_url == start
    assert page.final_url == _url(hostile_server, "/page")
    assert page.redirects == (
        _url(hostile_server, "/chain?n=1"),
        _url(hostile_server, "/chain?n=0"),
        _url(hostile_server, "/page"),
    )


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_followed(hostile_server, news, code: int) -> None:
    # GIVEN a redirect with this status to an absolute URL WHEN fetched
    page = news.fetch(_redirect(hostile_server, _url(hostile_server, "/page"), code))
    # THEN the target page is returned
    assert page.final_url == _url(hostile_server, "/page")


def test_each_hop_is_resolved_once_and_dialled_at_the_checked_address(
    hostile_server, news, fake_dns, public_net
) -> None:
    # GIVEN a chain of two redirects on news.test WHEN fetched
    news.fetch(_url(hostile_server, "/chain?n=1"))
    # THEN news.test was looked up once per hop (3 hops), and each connection went to the
    # address that lookup returned - never to a name, never resolved again
    assert fake_dns.hosts() == ["news.test"] * 3
    assert public_net.connects
    assert set(public_net.connects) == {(public_net.ip, hostile_server.port)}


def test_dns_rebinding_after_the_check_has_no_effect(
    hostile_server, news, fake_dns, public_net
) -> None:
    # GIVEN a resolver that answers a public address first and a loopback address afterwards
    fake_dns.later["news.test"] = ["127.0.0.1"]
    # WHEN one page is fetched
    page = news.fetch(_url(hostile_server, "/page"))
    # THEN the fetch used the single checked answer: one lookup, one connection to it
    assert page.status == 200
    assert fake_dns.hosts() == ["news.test"]
    assert public_net.connects == [(public_net.ip, hostile_server.port)]


def test_host_header_and_request_target_name_the_real_host(hostile_server, news) -> None:
    # GIVEN news.test resolved to an address WHEN a page is fetched
    news.fetch(_url(hostile_server, "/page"))
    # THEN the server was asked for the host by name, not by address
    assert hostile_server.requests[0].headers["host"] == f"news.test:{hostile_server.port}"


def test_endless_redirects_stop_at_the_limit(hostile_server, news) -> None:
    # GIVEN a URL that redirects to itself forever WHEN fetched
    with pytest.raises(PermanentError) as caught:
        news.fetch(_url(hostile_server, "/loop"))
    # THEN it fails permanently after the initial request and five redirects
    assert caught.value.reason is Reason.TOO_MANY_REDIRECTS
    assert caught.value.detail.startswith("more than 5 redirects")
    assert len(hostile_server.requests) == 6


def test_exactly_max_redirects_is_allowed(hostile_server, news) -> None:
    # GIVEN a chain of exactly five redirects WHEN fetched THEN the page arrives
    page = news.fetch(_url(hostile_server, "/chain?n=4"))
    assert len(page.redirects) == 5


def test_one_redirect_more_than_the_limit_fails(hostile_server, news) -> None:
    # GIVEN a chain of six redirects WHEN fetched THEN it is too many
    with pytest.raises(PermanentError) as caught:
        news.fetch(_url(hostile_server, "/chain?n=5"))
    assert caught.value.reason is Reason.TOO_MANY_REDIRECTS


def test_redirect_limit_comes_from_the_policy(hostile_server, fake_dns, public_net) -> None:
    # GIVEN a policy that follows no redirects at all
    fake_dns.table["news.test"] = [public_net.ip]
    policy = FetchPolicy.model_validate(
        {"max_redirects": 0, "allowed_ports": {hostile_server.port}}
    )
    # WHEN a single redirect is met THEN it is already too many
    with pytest.raises(PermanentError) as caught:
        SafeFetcher(policy, resolver=fake_dns).fetch(_url(hostile_server, "/chain?n=0"))
    assert caught.value.reason is Reason.TOO_MANY_REDIRECTS


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("http://127.0.0.1:{port}/page", "127.0.0.1 is a loopback address"),
        ("http://[::1]:{port}/page", "::1 is a loopback address"),
        ("http://10.0.0.5:{port}/page", "10.0.0.5 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "instance metadata"),
        ("http://[::ffff:192.168.0.1]:{port}/", "192.168.0.1, a private address"),
        ("http://localhost:{port}/page", "refused localhost: 127.0.0.1 is a loopback address"),
        ("http://intranet.test:{port}/", "refused intranet.test: 172.20.0.8 is a private"),
    ],
)
def test_redirect_to_a_non_public_address_is_blocked(
    hostile_server, news, fake_dns, public_net, target: str, words: str
) -> None:
    # GIVEN a public page that redirects to a loopback, private or metadata address
    fake_dns.table["localhost"] = ["127.0.0.1"]
    fake_dns.table["intranet.test"] = ["172.20.0.8"]
    start = _redirect(hostile_server, target.format(port=hostile_server.port))
    # WHEN fetched with loopback not allowed
    with pytest.raises(PermanentError) as caught:
        news.fetch(start)
    # THEN the redirect is blocked and no connection was made to the forbidden address
    assert caught.value.reason is Reason.BLOCKED_URL
    assert words in caught.value.detail
    assert public_net.connects == [(public_net.ip, hostile_server.port)]


def test_redirect_to_a_private_address_is_blocked_even_with_loopback_allowed(
    hostile_server, fake_dns
) -> None:
    # GIVEN loopback allowed (local runs) and a local page redirecting to a private address
    policy = FetchPolicy.model_validate({"allow_loopback": True, "timeout_seconds": 3.0})
    start = hostile_server.url("/redirect?to=" + quote("http://192.168.1.1/admin", safe=""))
    # WHEN fetched
    with pytest.raises(PermanentError) as caught:
        SafeFetcher(policy, resolver=fake_dns).fetch(start)
    # THEN the private address is still refused
    assert caught.value.reason is Reason.BLOCKED_URL
    assert caught.value.detail == "refused: 192.168.1.1 is a private address"


@pytest.mark.parametrize(
    ("target", "reason", "words"),
    [
        ("file:///etc/passwd", Reason.INVALID_URL, "scheme 'file'"),
        ("ftp://news.test/x", Reason.INVALID_URL, "scheme 'ftp'"),
        ("javascript:alert(1)", Reason.INVALID_URL, "scheme 'javascript'"),
        ("http://admin:pw@news.test:{port}/page", Reason.INVALID_URL, "credentials"),
        ("http://news.test:8081/page", Reason.BLOCKED_URL, "port 8081 is not allowed"),
        ("http://0x7f.1:{port}/page", Reason.INVALID_URL, "unusual spelling"),
    ],
)
def test_redirect_to_a_forbidden_url_is_refused(
    hostile_server, news, target: str, reason: Reason, words: str
) -> None:
    # GIVEN a page redirecting to a URL the fetcher must not follow
    start = _redirect(hostile_server, target.format(port=hostile_server.port))
    # WHEN fetched THEN the hop is refused for the right reason
    with pytest.raises(PermanentError) as caught:
        news.fetch(start)
    assert caught.value.reason is reason
    assert words in caught.value.detail
    assert len(hostile_server.requests) == 1


def test_redirect_without_location_fails_permanently(hostile_server, news) -> None:
    # GIVEN a 302 without a Location header WHEN fetched THEN it is a permanent HTTP error
    with pytest.raises(PermanentError) as caught:
        news.fetch(_url(hostile_server, "/no-location"))
    assert caught.value.reason is Reason.HTTP_ERROR
    assert caught.value.http_status == 302


def test_redirect_fragment_is_not_sent_or_reported(hostile_server, news) -> None:
    # GIVEN a redirect to a URL with a fragment WHEN fetched
    page = news.fetch(_redirect(hostile_server, "/page#comments"))
    # THEN the fragment is dropped from the followed URL
    assert page.final_url == _url(hostile_server, "/page")


def test_utf8_location_is_followed_percent_encoded(hostile_server, news) -> None:
    # GIVEN a redirect whose Location holds raw UTF-8 and a space (as real servers send)
    hostile_server.routes["/utf8-redirect"] = lambda h: h.raw(
        b"HTTP/1.1 301 Moved\r\nLocation: /caf\xc3\xa9 menu\r\nContent-Length: 0\r\n\r\n"
    )
    # WHEN fetched (the target does not exist: 404)
    with pytest.raises(PermanentError):
        news.fetch(_url(hostile_server, "/utf8-redirect"))
    # THEN the second request asked for the UTF-8 path, percent-encoded once
    assert hostile_server.paths() == ["/utf8-redirect", "/caf%C3%A9%20menu"]
