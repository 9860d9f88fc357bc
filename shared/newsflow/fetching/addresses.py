"""Address policy: which IP addresses the fetcher may connect to, and how names become addresses.

The fetch function runs URLs that anyone can put on the queue, inside an AWS account: the
Lambda runtime API listens on loopback, the instance metadata service on 169.254.169.254, and a
VPC-attached function can reach private networks. So every address a hop would connect to -
an IP literal in the URL or each answer of the one DNS lookup - must be public.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable

from newsflow.urls import IPAddress

Resolver = Callable[[str, int], list[str]]
"""``(host, port) -> IP address strings``; may raise :class:`socket.gaierror`."""

_Rule = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]


def _rules(*pairs: tuple[str, str]) -> tuple[_Rule, ...]:
    return tuple((ipaddress.ip_network(net), what) for net, what in pairs)


# Explicit ranges first: ``is_global`` alone misses multicast and, depending on the Python
# version, some of these ranges; the readable names also make better failure details.
_IPV4_RULES = _rules(
    ("0.0.0.0/8", "an unspecified ('this network') address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.169.254/32", "a link-local address (the cloud instance metadata service)"),
    ("169.254.0.0/16", "a link-local address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("100.64.0.0/10", "a shared carrier-grade NAT address"),
    ("192.0.0.0/24", "an IETF protocol assignment address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("192.88.99.0/24", "a 6to4 relay anycast address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
)
_IPV6_RULES = _rules(
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("::/96", "a deprecated IPv4-compatible address"),
    ("::ffff:0:0:0/96", "an IPv4-translated address (never a public destination)"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("fc00::/7", "a unique local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)
_LOOPBACK_NETS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def is_loopback(ip: IPAddress) -> bool:
    return any(ip.version == net.version and ip in net for net in _LOOPBACK_NETS)


def _classify_v4(ip: ipaddress.IPv4Address) -> str | None:
    for net, what in _IPV4_RULES:
        if ip in net:
            return what
    return None if ip.is_global else "not a public address"


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address stands for, and how (mapped, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "an IPv4-mapped form of"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "a NAT64 form of"
    if ip.sixtofour is not None:
        return ip.sixtofour, "a 6to4 tunnel address for"
    if ip.teredo is not None:
        return ip.teredo[1], "a Teredo tunnel address for"
    return None


def _classify_v6(ip: ipaddress.IPv6Address) -> str | None:
    embedded = _embedded_v4(ip)
    if embedded is not None:
        v4, how = embedded
        inner = _classify_v4(v4)
        if inner is not None:
            return f"{how} {v4}, {inner}"
        if ip.sixtofour is not None or ip.teredo is not None:
            return f"{how} {v4} (tunnel addresses are not fetched)"
        return None  # a mapped or NAT64 form of a public IPv4 address
    for net, what in _IPV6_RULES:
        if ip in net:
            return what
    return None if ip.is_global else "not a public address"


def check_address(ip: str, *, allow_loopback: bool) -> str | None:
    """``None`` if the fetcher may connect to ``ip``, else why not (a readable sentence).

    Refused: loopback, private (RFC 1918), link-local (incl. 169.254.169.254), CGNAT, multicast,
    reserved, unspecified, broadcast, documentation and benchmarking ranges, IPv6 ULA and
    link-local, IPv4-translated addresses (``::ffff:0:0:0/96``), and IPv6 forms of IPv4
    addresses (mapped, NAT64, 6to4, Teredo) whose IPv4 address is refused. ``allow_loopback``
    (local runs only) admits 127.0.0.0/8 and ::1 - not their IPv4-mapped forms, and nothing
    else.
    """
    address = parse_ip(ip)
    if address is None:
        return f"{ip!r} is not an IP address"
    if allow_loopback and is_loopback(address):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        what = _classify_v4(address)
    else:
        what = _classify_v6(address)
    return None if what is None else f"{address} is {what}"


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system resolver (``getaddrinfo``); raises :class:`socket.gaierror`."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def connect_form(address: str) -> str:
    """The address to connect to: an IPv4-mapped address as plain IPv4 (no dual-stack surprises)."""
    ip = parse_ip(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return address if ip is None else str(ip)


def resolve_within(resolver: Resolver, host: str, port: int, seconds: float) -> list[str]:
    """``resolver(host, port)``, given at most ``seconds``: ``getaddrinfo`` has no timeout of
    its own (a slow DNS server can hold it for the resolver's full retry cycle), so it runs in
    a daemon thread that is abandoned when the time is up. Raises :class:`TimeoutError` then;
    the resolver's own errors pass through."""
    outcome: list[list[str] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(resolver(host, port))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=run, name=f"resolve {host[:64]}", daemon=True)
    worker.start()
    worker.join(max(seconds, 0.0))
    if not outcome:
        raise TimeoutError(f"resolving {host} took longer than {max(seconds, 0.0):g} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result
