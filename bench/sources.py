"""One poll cycle of many sources: wall time, requests, table writes, cost per million polls.

    python -m bench.sources [--sources 1000] [--entries 50]

A loopback server serves ``--sources`` RSS feeds of ``--entries`` entries each, with ETag and
Last-Modified; the table is moto in-process (the template's key schema). Three cycles, one
process, one source after another (PollFunction fans them out in the cloud):

1. first poll of every source: at most ``FirstPollMaxEntries`` (20) pushed, the rest remembered;
2. nothing changed: a conditional GET answered 304 - the goal is no table write per entry;
3. one new entry in every feed: only that entry is pushed and written.

Before them the schedule tick lists the sources and claims and queues each one. Table writes
are counted per item from the calls the code makes (PutItem, UpdateItem, each BatchWriteItem
request). Ingest messages are counted, not sent (moto's SQS slows down as a queue fills).
Durations are moto's, not DynamoDB's: the AWS side dominates them here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.costs import MILLION, PollUsage, Prices, dynamodb_item_bytes, poll_cost
from newsflow.fetching import SafeFetcher
from newsflow.settings import FetchPolicy
from newsflow.sources import (
    BatchQueue,
    PollLimits,
    Source,
    SourcePoller,
    SourceTable,
    queue_due_sources,
    source_id_for,
)
from newsflow_cli.sam_template import load_template

ROOT = Path(__file__).resolve().parent.parent
TABLE = "bench-sources"
BASE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class _Feeds:
    """Feed documents by path; ``version`` bumps add one new entry to every feed."""

    def __init__(self, sources: int, entries: int) -> None:
        self.sources = sources
        self.entries = entries
        self.version = 0
        self.requests: Counter[int] = Counter()  # status -> count
        self.lock = threading.Lock()
        self._cache: dict[tuple[int, int], tuple[bytes, str]] = {}

    def document(self, feed: int) -> tuple[bytes, str]:
        key = (feed, self.version)
        if key not in self._cache:
            first = self.version  # each version adds a newer entry on top
            items = "".join(
                f"<item><title>Story {n} of feed {feed}</title>"
                f"<link>https://site{feed}.example/story/{n}</link>"
                f"<pubDate>{format_datetime(BASE + timedelta(minutes=n), usegmt=True)}</pubDate>"
                "</item>"
                for n in range(first + self.entries - 1, first - 1, -1)
            )
            body = (
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
                f"{items}</channel></rss>"
            ).encode()
            self._cache[key] = (body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
        return self._cache[key]


def _serve(feeds: _Feeds) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            feed = int(self.path.rsplit("/", 1)[1].removesuffix(".xml"))
            body, etag = feeds.document(feed)
            status = 304 if self.headers.get("If-None-Match") == etag else 200
            with feeds.lock:
                feeds.requests[status] += 1
            self.send_response(status)
            self.send_header("ETag", etag)
            if status == 200:
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status == 200:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


class _CountingSender:
    """IngestQueue stand-in: counts SendMessageBatch requests (moto's SQS slows down as a queue
    fills with tens of thousands of messages, which would measure moto, not the poller)."""

    def __init__(self) -> None:
        self.requests = 0

    def send_all(self, bodies: Sequence[str]) -> int:
        self.requests += -(-len(bodies) // 10)
        return len(bodies)


class _WriteCounter:
    """Items written to the table, by operation, from the calls the code makes."""

    def __init__(self) -> None:
        self.items: Counter[str] = Counter()

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.items[name] += 1
        elif name == "BatchWriteItem":
            self.items[name] += sum(len(v) for v in params["RequestItems"].values())

    def total(self) -> int:
        return sum(self.items.values())


def run(sources: int = 1000, entries: int = 50, progress: Any = None) -> dict[str, Any]:
    feeds = _Feeds(sources, entries)
    server = _serve(feeds)
    port = server.server_address[1]
    limits = PollLimits(first_poll_max_entries=20)
    try:
        with mock_aws():
            props = load_template(ROOT / "template.yaml")["Resources"]["ArticlesTable"]
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            sqs = boto3.client("sqs", region_name="us-east-1")
            dynamodb.create_table(
                TableName=TABLE,
                KeySchema=props["Properties"]["KeySchema"],
                AttributeDefinitions=props["Properties"]["AttributeDefinitions"],
                GlobalSecondaryIndexes=props["Properties"]["GlobalSecondaryIndexes"],
                BillingMode="PAY_PER_REQUEST",
            )
            counter = _WriteCounter()
            dynamodb.meta.events.register("before-parameter-build.dynamodb.*", counter)
            polls = sqs.create_queue(QueueName="bench-polls")["QueueUrl"]
            table = SourceTable(TABLE, dynamodb)
            clock = [BASE]
            for n in range(sources):
                url = f"http://127.0.0.1:{port}/feeds/{n}.xml"
                source_id = source_id_for(url)
                table.add(Source(source_id=source_id, url=url, created_at=BASE, next_poll_at=BASE))
            policy = FetchPolicy.model_validate({"NEWSFLOW_ALLOW_LOOPBACK": True})
            ingest_queue = _CountingSender()
            poller = SourcePoller(
                fetcher=SafeFetcher(policy),
                table=table,
                ingest=ingest_queue,
                limits=limits,
                clock=lambda: clock[0],
            )
            counter.items.clear()
            started = time.perf_counter()
            queued = queue_due_sources(
                table, BatchQueue(polls, sqs), now=BASE, lease=timedelta(minutes=30)
            )
            tick = {
                "sources_queued": len(queued),
                "seconds": round(time.perf_counter() - started, 2),
                "table_writes": counter.total(),
            }
            cycles: list[dict[str, Any]] = []
            for name in ("first poll", "nothing changed (304)", "one new entry per feed"):
                if name == "one new entry per feed":
                    feeds.version += 1
                clock[0] += timedelta(minutes=10)
                counter.items.clear()
                feeds.requests.clear()
                pushed = 0
                started = time.perf_counter()
                for source in table.all():
                    pushed += len(poller.poll(source).pushed)
                seconds = time.perf_counter() - started
                writes = dict(counter.items)
                cycles.append(
                    {
                        "cycle": name,
                        "sources": sources,
                        "seconds": round(seconds, 2),
                        "ms_per_poll": round(seconds * 1000 / sources, 2),
                        "requests": sum(feeds.requests.values()),
                        "not_modified": feeds.requests[304],
                        "pushed": pushed,
                        "table_writes": counter.total(),
                        "seen_item_writes": writes.get("BatchWriteItem", 0),
                        "source_item_writes": writes.get("PutItem", 0),
                    }
                )
                if progress:
                    progress(f"sources: {name} in {seconds:.1f} s")
                cycles[-1]["ingest_send_requests"] = ingest_queue.requests
                ingest_queue.requests = 0
            sample = table.all()[0].model_dump(mode="json", exclude_none=True)
            source_bytes = dynamodb_item_bytes({**sample, "pk": "SOURCES", "sk": "SOURCE#x"})
    finally:
        server.shutdown()
        server.server_close()
    unchanged = cycles[1]
    new_entry = cycles[2]
    prices = Prices()
    costs = {
        "nothing_changed": poll_cost(
            MILLION,
            PollUsage(duration_ms=unchanged["ms_per_poll"], source_item_bytes=source_bytes),
            prices,
        ).as_dict(),
        "one_new_entry": poll_cost(
            MILLION,
            PollUsage(
                duration_ms=new_entry["ms_per_poll"],
                source_item_bytes=source_bytes,
                entries_read=entries,
                entries_written=1,
                messages_pushed=1,
            ),
            prices,
        ).as_dict(),
    }
    return {
        "sources": sources,
        "entries_per_source": entries,
        "first_poll_max_entries": limits.first_poll_max_entries,
        "source_item_bytes": source_bytes,
        "tick": tick,
        "cycles": cycles,
        "cost_per_million_polls": costs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(run(args.sources, args.entries, progress=print), indent=2))


if __name__ == "__main__":
    main()
