"""Which addresses and URLs the fetcher refuses before any byte is sent."""

from __future__ import annotations

import socket

import pytest

from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.fetching import SafeFetcher, check_address, system_resolver
from newsflow.settings import FetchPolicy

BLOCKED = [
    # (address, words the reason must contain)
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.5", "private"),
    ("172.16.3.4", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "metadata"),
    ("169.254.10.1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("192.0.2.10", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.99", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("192.0.0.9", "IETF"),
    ("::", "unspecified"),
    ("fc00::1", "unique local"),
    ("fd12:3456:789a::1", "unique local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.5", "private"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::10.0.0.5", "IPv4-compatible"),
    ("::8.8.8.8", "IPv4-compatible"),
    ("64:ff9b::10.0.0.5", "private"),
    ("64:ff9b:1::1", "NAT64"),
    ("2002:a00:5::1", "private"),  # 6to4 around 10.0.0.5
    ("2002:808:808::1", "tunnel"),  # 6to4 around a public address: still a tunnel
    ("2001:0:4136:e378:8000:63bf:f5ff:fffa", "private"),  # Teredo client 10.0.0.5
    ("100::1", "discard"),
]


@pytest.mark.parametrize(("address", "words"), BLOCKED)
def test_non_public_addresses_are_refused(address: str, words: str) -> None:
    # GIVEN an address outside the public internet WHEN checked without loopback allowed
    reason = check_address(address, allow_loopback=False)
    # THEN it is refused with a reason that names the address class
    assert reason is not None
    assert words in reason


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:93.184.216.34"],
)
def test_public_addresses_are_allowed(address: str) -> None:
    # GIVEN a public address (IPv4, IPv6 or the mapped form of a public IPv4)
    # WHEN checked THEN it is allowed
    assert check_address(address, allow_loopback=False) is None


def test_nat64_form_of_a_public_address_is_allowed() -> None:
    # GIVEN the well-known NAT64 prefix wrapped around a public IPv4 address
    # WHEN checked THEN it is judged by that IPv4 address and allowed
    assert check_address("64:ff9b::808:808", allow_loopback=False) is None


def test_reason_names_the_address() -> None:
    # GIVEN a private address WHEN checked THEN the reason is a sentence naming it
    assert check_address("10.0.0.5", allow_loopback=False) == "10.0.0.5 is a private address"


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1"])
def test_loopback_is_allowed_only_with_the_flag(address: str) -> None:
    # GIVEN a loopback address
    # WHEN checked with and without allow_loopback
    # THEN only the flag admits it
    assert check_address(address, allow_loopback=True) is None
    assert check_address(address, allow_loopback=False) is not None


@pytest.mark.parametrize(
    "address", ["10.0.0.5", "192.168.0.1", "169.254.169.254", "::ffff:127.0.0.1", "fd00::1"]
)
def test_the_loopback_flag_admits_nothing_else(address: str) -> None:
    # GIVEN allow_loopback on WHEN a non-loopback private address (or a mapped loopback) is
    # checked THEN it is still refused
    assert check_address(address, allow_loopback=True) is not None


@pytest.mark.parametrize("text", ["example.com", "1.2.3", "", "::g"])
def test_text_that_is_not_an_ip_is_refused(text: str) -> None:
    # GIVEN a string that is not an IP address WHEN checked THEN it is refused, not allowed
    assert check_address(text, allow_loopback=True) is not None


# --------------------------------------------------------------------------- in the fetcher


def _policy(**overrides: object) -> FetchPolicy:
    return FetchPolicy.model_validate({"timeout_seconds": 2.0, **overrides})


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.5]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
    ],
)
def test_ip_literal_urls_are_blocked_without_a_lookup(url: str, fake_dns) -> None:
    # GIVEN a URL whose host is a non-public IP literal
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    # WHEN fetched
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(url)
    # THEN it is blocked at the fetch stage and no lookup happened
    assert caught.value.reason is Reason.BLOCKED_URL
    assert caught.value.stage is Stage.FETCH
    assert caught.value.detail.startswith("refused: ")
    assert fake_dns.calls == []


def test_host_resolving_to_a_private_address_is_blocked(fake_dns) -> None:
    # GIVEN a host name that resolves to a private address
    fake_dns.table["intranet.test"] = ["10.1.2.3"]
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    # WHEN fetched
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch("http://intranet.test/")
    # THEN it is blocked with the host and the address in the detail
    assert caught.value.reason is Reason.BLOCKED_URL
    assert caught.value.detail == "refused intranet.test: 10.1.2.3 is a private address"


def test_host_with_one_private_address_among_public_ones_is_blocked(fake_dns) -> None:
    # GIVEN a host whose answers mix public addresses and the metadata address
    fake_dns.table["mixed.test"] = ["93.184.216.34", "169.254.169.254"]
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    # WHEN fetched THEN the whole host is refused
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch("http://mixed.test/")
    assert caught.value.reason is Reason.BLOCKED_URL
    assert "169.254.169.254" in caught.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://10.1/",
    ],
)
def test_unusual_ip_spellings_are_rejected_before_resolution(url: str, fake_dns) -> None:
    # GIVEN a decimal, hex, octal or shortened spelling of an IPv4 address
    fetcher = SafeFetcher(_policy(allow_loopback=True), resolver=fake_dns)
    # WHEN fetched (even with loopback allowed)
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(url)
    # THEN it is an invalid URL and nothing was resolved
    assert caught.value.reason is Reason.INVALID_URL
    assert "unusual spelling" in caught.value.detail
    assert fake_dns.calls == []


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f.1", "017700000001"])
def test_the_system_resolver_would_read_unusual_spellings_as_loopback(spelling: str) -> None:
    # GIVEN the system resolver (inet_aton parsing: no query leaves the machine)
    # WHEN it resolves an unusual spelling THEN it yields 127.0.0.1, which the check refuses -
    # the reason those spellings are rejected before resolution
    addresses = system_resolver(spelling, 80)
    assert "127.0.0.1" in addresses
    assert check_address("127.0.0.1", allow_loopback=False) is not None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.test/file", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://example.test/", "scheme 'gopher'"),
        ("http://user:secret@example.test/", "credentials"),
        ("http://user@example.test/", "credentials"),
        ("//example.test/", "no scheme"),
        ("http:///nohost", "no host"),
        ("http://exa mple.test/", "whitespace"),
        ("http://example.test:99999/", "out of range"),
        ("http://%31%32%37.0.0.1/", "invalid host name"),
        ("http://[fe80::1%25eth0]/", "zone identifiers"),
        ("http://example.test:0/", "out of range"),
    ],
)
def test_malformed_urls_are_invalid(url: str, words: str, fake_dns) -> None:
    # GIVEN a URL the fetcher must never follow WHEN fetched
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(url)
    # THEN it is an invalid URL of the fetch stage with a readable reason, nothing resolved
    assert caught.value.reason is Reason.INVALID_URL
    assert caught.value.stage is Stage.FETCH
    assert words in caught.value.detail
    assert fake_dns.calls == []


def test_port_outside_the_policy_is_blocked_before_resolution(fake_dns) -> None:
    # GIVEN a public host on a port that is not allowed
    fake_dns.table["news.test"] = ["93.184.216.34"]
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    # WHEN fetched
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch("http://news.test:8080/")
    # THEN it is blocked naming the allowed ports, without a lookup
    assert caught.value.reason is Reason.BLOCKED_URL
    assert caught.value.detail == "refused: port 8080 is not allowed (allowed: 80, 443)"
    assert fake_dns.calls == []


def test_public_host_obeys_ports_even_with_loopback_allowed(fake_dns) -> None:
    # GIVEN loopback allowed and a public host on a non-standard port
    fake_dns.table["news.test"] = ["93.184.216.34"]
    fetcher = SafeFetcher(_policy(allow_loopback=True), resolver=fake_dns)
    # WHEN fetched THEN the port is refused (the any-port exemption is for loopback only)
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch("http://news.test:8080/")
    assert caught.value.reason is Reason.BLOCKED_URL
    assert "port 8080" in caught.value.detail


def test_host_that_does_not_exist_fails_permanently(fake_dns) -> None:
    # GIVEN a name the DNS says does not exist (NXDOMAIN)
    fake_dns.table["gone.test"] = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    # WHEN fetched THEN it is permanent: the name will not appear on a retry
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch("http://gone.test/")
    assert caught.value.reason is Reason.CONNECTION_ERROR
    assert caught.value.detail.startswith("host gone.test does not exist")


def test_temporary_dns_failure_is_transient(fake_dns) -> None:
    # GIVEN a resolver that cannot answer right now (EAI_AGAIN)
    fake_dns.table["flaky.test"] = socket.gaierror(
        socket.EAI_AGAIN, "Temporary failure in name resolution"
    )
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    # WHEN fetched THEN it is transient, so SQS retries it
    with pytest.raises(TransientError) as caught:
        fetcher.fetch("http://flaky.test/")
    assert caught.value.reason is Reason.CONNECTION_ERROR
    assert "could not resolve flaky.test right now" in caught.value.detail


def test_host_without_addresses_fails_permanently(fake_dns) -> None:
    # GIVEN a resolver that returns no address at all
    fake_dns.table["empty.test"] = []
    fetcher = SafeFetcher(_policy(), resolver=fake_dns)
    # WHEN fetched THEN it is a permanent connection error
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch("http://empty.test/")
    assert caught.value.reason is Reason.CONNECTION_ERROR
