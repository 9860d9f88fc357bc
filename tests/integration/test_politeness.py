"""Politeness against a loopback site and moto's DynamoDB: the per-host pace shared by every
container, robots.txt (RFC 9309) and 429/503 back-off."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from newsflow.errors import PermanentError, Reason, TransientError
from newsflow.fetching import SafeFetcher
from newsflow.politeness import (
    GateDecision,
    HostGate,
    HostNotReadyError,
    HostPacer,
    PoliteFetcher,
    RobotsCache,
    RobotsPolicy,
)
from newsflow.politeness.gate import SEND_JITTER_GUARD_SECONDS
from newsflow.politeness.polite import HOST_BACKOFF, RATE_LIMITED, ROBOTS_UNAVAILABLE
from newsflow.settings import FetchPolicy

USER_AGENT = "newsflow-test/1.0 (+https://example.org/bot)"
PAGE = b"<!DOCTYPE html><html><head><title>t</title></head><body><p>story</p></body></html>"


@dataclass
class Reply:
    status: int = 200
    body: bytes = PAGE
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})


@dataclass
class TimedSite:
    """A loopback site that notes when each request arrived."""

    port: int = 0
    replies: dict[str, Reply] = field(default_factory=dict)
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def robots(self, text: str, status: int = 200) -> None:
        self.replies["/robots.txt"] = Reply(status, text.encode(), {"Content-Type": "text/plain"})

    def hits(self, path: str) -> int:
        return sum(1 for _, seen in self.arrivals if seen == path)


@pytest.fixture
def site() -> Iterator[TimedSite]:
    state = TimedSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.arrivals.append((time.monotonic(), self.path))
            reply = state.replies.get(self.path, Reply())
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class AtomicDynamoDB:
    """A DynamoDB client whose calls run one at a time.

    DynamoDB applies a conditional write atomically; moto's in-process backend checks the
    condition and writes in separate Python steps, so two threads can both pass the same
    condition. Serialising the calls gives the gate the atomicity the real service has.
    """

    _lock = threading.Lock()

    def __init__(self) -> None:
        self._client = boto3.client("dynamodb", region_name="us-east-1")

    @property
    def meta(self) -> Any:
        return self._client.meta

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return call(*args, **kwargs)

        return locked


POLICY = FetchPolicy(NEWSFLOW_ALLOW_LOOPBACK=True, USER_AGENT=USER_AGENT, FETCH_TIMEOUT_SECONDS=5)


def container(
    table: str,
    rps: float,
    *,
    robots: bool = True,
    clock: Any = time.time,
    dynamodb: AtomicDynamoDB | None = None,
) -> Any:
    """What one FetchFunction container builds: its own clients, gate, robots policy, fetcher."""
    client: Any = dynamodb or AtomicDynamoDB()
    gate = HostGate(table, client, requests_per_second=rps, clock=clock)
    pacer = HostPacer(gate, max_wait_seconds=10.0)
    policy = (
        RobotsPolicy(
            fetcher=SafeFetcher(POLICY),
            cache=RobotsCache(table, client),
            user_agent=USER_AGENT,
            before_fetch=pacer.wait_for_url,
            clock=clock,
        )
        if robots
        else None
    )
    return PoliteFetcher(fetcher=SafeFetcher(POLICY), pacer=pacer, robots=policy), gate, policy


def gaps(site: TimedSite, paths: set[str] | None = None) -> list[float]:
    times = sorted(t for t, path in site.arrivals if paths is None or path in paths)
    return [later - earlier for earlier, later in itertools.pairwise(times)]


# Strict: the gate itself guards against a worker sending a few ms after its slot.
SCHEDULING_SLACK = 0.0


def test_ten_concurrent_fetchers_in_two_containers_keep_the_host_spacing(
    pipeline: Any, site: TimedSite
) -> None:
    # GIVEN two containers allowed 4 requests per second to a host, with ten workers between them
    rps = 4.0
    containers = [container(pipeline.table, rps, robots=False)[0] for _ in range(2)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            containers[index % 2].fetch(site.url(f"/story-{index}"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    # WHEN all ten fetch from the same host at once
    workers = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # THEN every page was fetched, and the requests reached the host at least 1/rps apart
    assert errors == []
    assert len(site.arrivals) == 10
    assert min(gaps(site)) >= 1 / rps - SCHEDULING_SLACK, gaps(site)


def test_a_slot_too_far_away_is_a_deferral_not_a_wait(pipeline: Any) -> None:
    # GIVEN a host paced at one request per 100 s whose slot was just taken
    gate = HostGate(pipeline.table, pipeline.dynamodb, requests_per_second=0.01)
    assert gate.acquire("news.example.com", max_wait=5).granted
    # WHEN another container asks for it, able to wait 5 s at most
    decision = HostGate(pipeline.table, pipeline.dynamodb, requests_per_second=0.01).acquire(
        "news.example.com", max_wait=5
    )
    # THEN it is told to defer for about the rest of the interval; another host is free
    assert decision.defer_seconds is not None and 95 < decision.defer_seconds <= 100.1
    assert gate.acquire("other.example.com", max_wait=5).wait_seconds == 0


def dynamodb_calls(client: Any) -> list[str]:
    """The names of the DynamoDB operations ``client`` makes from now on."""
    calls: list[str] = []
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    return calls


def test_a_free_host_takes_its_slot_in_one_write(pipeline: Any) -> None:
    # GIVEN a host nobody has asked for, and one whose last slot is long past
    now = [1_000_000.0]
    gate = HostGate(pipeline.table, pipeline.dynamodb, requests_per_second=1, clock=lambda: now[0])
    assert gate.acquire("old.example.com", max_wait=5).granted
    now[0] += 60
    calls = dynamodb_calls(pipeline.dynamodb)
    # WHEN each is asked for
    fresh = gate.acquire("new.example.com", max_wait=5)
    again = gate.acquire("old.example.com", max_wait=5)
    # THEN both start now, each after one conditional UpdateItem and no read
    assert fresh == again == GateDecision(wait_seconds=0.0)
    assert calls == ["UpdateItem", "UpdateItem"]


def test_a_busy_host_learns_its_next_slot_from_the_failed_write(pipeline: Any) -> None:
    # GIVEN two containers' gates on a host paced at 1 request per second; the first has just
    # taken its slot
    now = [1_000_000.0]
    first, second = (
        HostGate(pipeline.table, pipeline.dynamodb, requests_per_second=1, clock=lambda: now[0])
        for _ in range(2)
    )
    assert first.acquire("news.example.com", max_wait=5).granted
    calls = dynamodb_calls(pipeline.dynamodb)
    interval = round(1 + SEND_JITTER_GUARD_SECONDS, 3)

    def asking(gate: HostGate, max_wait: float) -> tuple[float, float | None, int]:
        """(wait, defer, DynamoDB calls made)"""
        before = len(calls)
        decision = gate.acquire("news.example.com", max_wait=max_wait)
        defer = decision.defer_seconds
        return round(decision.wait_seconds, 3), defer and round(defer, 3), len(calls) - before

    # WHEN the second container asks: its "free by now" write fails and returns the item, so
    # a second write takes the next slot (no read)
    assert asking(second, 5) == (interval, None, 2)
    # THEN asking again it knows the slot after that is too far for half a second: no call
    assert asking(second, 0.5) == (0.0, round(2 * interval, 3), 0)
    # AND able to wait, it takes that slot in one write
    assert asking(second, 5) == (round(2 * interval, 3), None, 1)
    # AND the first container, whose view is stale, learns the next slot from its failed write
    assert asking(first, 5) == (round(3 * interval, 3), None, 2)
    assert set(calls) == {"UpdateItem"}


def test_a_back_off_set_elsewhere_stops_a_container_that_knows_the_next_slot(
    pipeline: Any,
) -> None:
    # GIVEN a container that knows a host's next slot, and another that backs the host off
    now = [1_000_000.0]
    gate = HostGate(pipeline.table, pipeline.dynamodb, requests_per_second=1, clock=lambda: now[0])
    assert gate.acquire("news.example.com", max_wait=5).granted
    HostGate(pipeline.table, pipeline.dynamodb, clock=lambda: now[0]).back_off(
        "news.example.com", 120
    )
    # WHEN / THEN the first container asks for the slot it knows, and is told to defer
    decision = gate.acquire("news.example.com", max_wait=5)
    assert decision.defer_seconds is not None and round(decision.defer_seconds, 3) == 120


def test_a_backed_off_host_is_not_taken_even_when_its_slot_is_free(pipeline: Any) -> None:
    # GIVEN a host that asked to be left alone for 60 s, with no request slot taken yet
    now = [1_000_000.0]
    gate = HostGate(pipeline.table, pipeline.dynamodb, requests_per_second=1, clock=lambda: now[0])
    gate.back_off("busy.example.com", 60)
    # WHEN / THEN a request is deferred until the back-off ends, and one after it goes
    deferred = gate.acquire("busy.example.com", max_wait=5).defer_seconds
    assert deferred is not None and round(deferred, 3) == 60
    now[0] += 61
    assert gate.acquire("busy.example.com", max_wait=5) == GateDecision(wait_seconds=0.0)


def test_robots_disallow_fails_the_url_for_good_and_allows_the_rest(
    pipeline: Any, site: TimedSite
) -> None:
    # GIVEN a robots.txt that keeps our agent (by its product token) out of /private
    site.robots(
        "User-agent: *\nDisallow: /\n\nUser-agent: newsflow-test\nDisallow: /private\nAllow: /\n"
    )
    fetcher, _, _ = container(pipeline.table, 100)
    # WHEN a public and a private page are fetched
    page = fetcher.fetch(site.url("/news/a"))
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(site.url("/private/b"))
    # THEN the public page came back, the private one is robots_disallowed and was never asked for
    assert page.status == 200
    assert caught.value.reason == Reason.ROBOTS_DISALLOWED
    assert site.hits("/private/b") == 0
    # AND robots.txt was asked for once
    assert site.hits("/robots.txt") == 1


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_robots_txt_answering_4xx_allows_everything(
    pipeline: Any, site: TimedSite, status: int
) -> None:
    # GIVEN robots.txt answers 4xx (RFC 9309 2.3.1.3: unavailable, crawl freely)
    site.robots("User-agent: *\nDisallow: /\n", status=status)
    fetcher, _, _ = container(pipeline.table, 100)
    # WHEN / THEN any page may be fetched
    assert fetcher.fetch(site.url("/news/a")).status == 200


@pytest.mark.parametrize("status", [500, 503])
def test_a_robots_txt_answering_5xx_makes_the_host_wait(
    pipeline: Any, site: TimedSite, status: int
) -> None:
    # GIVEN robots.txt answers 5xx (RFC 9309 2.3.1.4: unreachable, do not crawl for now)
    site.robots("oops", status=status)
    fetcher, _, _ = container(pipeline.table, 100)
    # WHEN a page is asked for
    with pytest.raises(HostNotReadyError) as caught:
        fetcher.fetch(site.url("/news/a"))
    # THEN it is not fetched: the record is to be deferred, not failed
    assert caught.value.kind == ROBOTS_UNAVAILABLE
    assert site.hits("/news/a") == 0


def test_an_unreachable_robots_txt_makes_the_host_wait(pipeline: Any) -> None:
    # GIVEN a host where nothing listens
    port = free_loopback_port()
    fetcher, _, _ = container(pipeline.table, 100)
    with pytest.raises(HostNotReadyError) as caught:
        fetcher.fetch(f"http://127.0.0.1:{port}/news/a")
    assert caught.value.kind == ROBOTS_UNAVAILABLE


def test_robots_txt_is_followed_through_a_redirect(pipeline: Any, site: TimedSite) -> None:
    # GIVEN /robots.txt redirects to the real file
    site.replies["/robots.txt"] = Reply(301, b"", {"Location": "/real-robots.txt"})
    site.replies["/real-robots.txt"] = Reply(
        200, b"User-agent: *\nDisallow: /private\n", {"Content-Type": "text/plain"}
    )
    fetcher, _, _ = container(pipeline.table, 100)
    # WHEN / THEN its rules apply
    with pytest.raises(PermanentError) as caught:
        fetcher.fetch(site.url("/private/a"))
    assert caught.value.reason == Reason.ROBOTS_DISALLOWED


def test_crawl_delay_slows_the_host_beyond_its_rate(pipeline: Any, site: TimedSite) -> None:
    # GIVEN a host allowed 100 requests per second whose robots.txt asks for 0.5 s between
    site.robots("User-agent: *\nCrawl-delay: 0.5\n")
    fetcher, _, _ = container(pipeline.table, 100)
    # WHEN three pages are fetched one after the other
    for index in range(3):
        fetcher.fetch(site.url(f"/story-{index}"))
    # THEN the pages arrived at least half a second apart
    pages = {f"/story-{index}" for index in range(3)}
    assert min(gaps(site, pages)) >= 0.5 - SCHEDULING_SLACK


def test_robots_txt_is_cached_in_the_table_for_other_containers_until_it_expires(
    pipeline: Any, site: TimedSite
) -> None:
    # GIVEN a clock we can move and a robots.txt read by one container
    now = [time.time()]
    site.robots("User-agent: *\nDisallow: /private\n")
    _, _, first = container(pipeline.table, 100, clock=lambda: now[0])
    assert not first.check(site.url("/private/a")).allowed
    # WHEN another container checks the same origin
    _, _, second = container(pipeline.table, 100, clock=lambda: now[0])
    assert not second.check(site.url("/private/a")).allowed
    # THEN robots.txt was fetched once
    assert site.hits("/robots.txt") == 1
    # AND after 24 h (the item is still there: TTL deletion is lazy) it is fetched again
    site.robots("User-agent: *\nAllow: /\n")
    now[0] += 24 * 3600 + 1
    _, _, third = container(pipeline.table, 100, clock=lambda: now[0])
    assert third.check(site.url("/private/a")).allowed
    assert site.hits("/robots.txt") == 2


def test_a_warm_container_checks_robots_txt_without_a_call_until_its_copy_expires(
    pipeline: Any, site: TimedSite
) -> None:
    # GIVEN a container that has read a host's robots.txt once
    now = [time.time()]
    site.robots("User-agent: *\nDisallow: /private\n")
    dynamodb = AtomicDynamoDB()
    _, _, policy = container(pipeline.table, 100, clock=lambda: now[0], dynamodb=dynamodb)
    assert not policy.check(site.url("/private/a")).allowed
    calls = dynamodb_calls(dynamodb)
    # WHEN it checks more URLs of that host within 24 h
    now[0] += 24 * 3600 - 60
    verdicts = [policy.check(site.url(path)).allowed for path in ("/private/b", "/news/c")]
    # THEN its own copy answers: no DynamoDB call, no download
    assert verdicts == [False, True]
    assert calls == [] and site.hits("/robots.txt") == 1
    # AND once the copy is 24 h old it reads the table (expired there too) and downloads again
    site.robots("User-agent: *\nAllow: /\n")
    now[0] += 61
    assert policy.check(site.url("/private/a")).allowed
    assert site.hits("/robots.txt") == 2
    assert calls == ["GetItem", "UpdateItem", "PutItem"]  # cache read, host slot, cache write


@pytest.mark.parametrize(("status", "retry_after"), [(429, "120"), (503, "120"), (429, None)])
def test_a_host_that_asks_us_to_slow_down_is_backed_off_in_every_container(
    pipeline: Any, site: TimedSite, status: int, retry_after: str | None
) -> None:
    # GIVEN a page answering 429/503, maybe with Retry-After
    headers = {"Content-Type": "text/html", **({"Retry-After": retry_after} if retry_after else {})}
    site.replies["/busy"] = Reply(status, b"slow down", headers)
    fetcher, _, _ = container(pipeline.table, 100, robots=False)
    # WHEN it is fetched
    with pytest.raises(HostNotReadyError) as caught:
        fetcher.fetch(site.url("/busy"))
    # THEN the record is to wait Retry-After (30 s without one), not to fail
    expected = float(retry_after) if retry_after else 30.0
    assert caught.value.kind == HOST_BACKOFF and caught.value.delay_seconds == expected
    # AND another container is kept off the whole host for that long
    other, _, _ = container(pipeline.table, 100, robots=False)
    with pytest.raises(HostNotReadyError) as deferred:
        other.fetch(site.url("/another-page"))
    assert deferred.value.kind == RATE_LIMITED
    assert expected - 5 < deferred.value.delay_seconds <= expected
    assert site.hits("/another-page") == 0


def test_a_503_without_retry_after_is_an_ordinary_transient_failure(
    pipeline: Any, site: TimedSite
) -> None:
    # GIVEN a page that is down with no word on when it is back
    site.replies["/down"] = Reply(503, b"down", {"Content-Type": "text/html"})
    fetcher, _, _ = container(pipeline.table, 100, robots=False)
    # WHEN / THEN the record is retried by SQS as before (toward the DLQ if it stays down)
    with pytest.raises(TransientError) as caught:
        fetcher.fetch(site.url("/down"))
    assert not isinstance(caught.value, HostNotReadyError) and caught.value.http_status == 503


def free_loopback_port() -> int:
    """A loopback port that was just free: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
