"""Keep-alive connections are reused only for the address the current hop has checked."""

from __future__ import annotations

import pytest

from newsflow.fetching import SafeFetcher
from newsflow.settings import FetchPolicy


@pytest.fixture
def local() -> SafeFetcher:
    policy = FetchPolicy.model_validate({"allow_loopback": True, "timeout_seconds": 3.0})
    return SafeFetcher(policy)


def test_second_fetch_reuses_the_idle_connection(hostile_server, local) -> None:
    # GIVEN a fetcher that has fetched one page from a keep-alive server
    local.fetch(hostile_server.url("/page"))
    # WHEN a second page is fetched from the same host
    local.fetch(hostile_server.url("/page"))
    # THEN both requests travelled on one connection
    assert hostile_server.connections == 1
    assert [r.connection for r in hostile_server.requests] == [1, 1]


def test_close_drops_idle_connections(hostile_server, local) -> None:
    # GIVEN a fetcher holding an idle connection
    local.fetch(hostile_server.url("/page"))
    # WHEN it is closed and used again
    local.close()
    page = local.fetch(hostile_server.url("/page"))
    # THEN it still works, on a new connection
    assert page.status == 200
    assert hostile_server.connections == 2


def test_connection_closed_by_the_server_while_idle_is_not_reused(hostile_server, local) -> None:
    # GIVEN a server that hangs up an idle keep-alive connection
    local.fetch(hostile_server.url("/page-then-close"))
    # WHEN the next page is fetched
    page = local.fetch(hostile_server.url("/page"))
    # THEN it arrives over a fresh connection
    assert page.status == 200
    assert hostile_server.connections == 2


def test_request_lost_on_a_stale_connection_is_retried_once_fresh(hostile_server, local) -> None:
    # GIVEN a server that accepts one request per connection, then hangs up unanswered
    local.fetch(hostile_server.url("/once-per-connection"))
    # WHEN a second page is fetched (the idle connection still looks open)
    page = local.fetch(hostile_server.url("/once-per-connection"))
    # THEN the lost request is sent again on a new connection and succeeds
    assert page.status == 200
    assert [r.connection for r in hostile_server.requests] == [1, 1, 2]


def test_connection_to_one_checked_address_is_not_reused_for_another(
    hostile_server, fake_dns, public_net
) -> None:
    # GIVEN news.test resolving to one public address, then to another
    fake_dns.table["news.test"] = [public_net.ip]
    fake_dns.later["news.test"] = [public_net.other_ip]
    policy = FetchPolicy.model_validate({"allowed_ports": {hostile_server.port}})
    fetcher = SafeFetcher(policy, resolver=fake_dns)
    url = hostile_server.url("/page", host="news.test")
    # WHEN the same URL is fetched twice
    fetcher.fetch(url)
    fetcher.fetch(url)
    # THEN each fetch dialled the address its own lookup checked
    assert public_net.connects == [
        (public_net.ip, hostile_server.port),
        (public_net.other_ip, hostile_server.port),
    ]
