"""Sources and seen entries in the template's table (moto): one partition of sources, seen items
whose TTL is checked on read, claims that keep a source from being queued twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsflow.sources.models import Source, SourceError, SourceKind, source_id_for
from newsflow.sources.store import BatchQueue, SourceTable

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def _source(url: str) -> Source:
    return Source(source_id=source_id_for(url), url=url, created_at=NOW, next_poll_at=NOW)


def test_sources_are_added_once_listed_read_and_removed(pipeline) -> None:
    table = SourceTable(pipeline.table, pipeline.dynamodb)
    one, two = _source("https://a.example/rss"), _source("https://b.example/sitemap.xml")
    assert table.add(one) and table.add(two)
    # the same feed under another spelling is the same source
    assert not table.add(_source("HTTPS://A.example:443/rss#top"))
    assert sorted(s.url for s in table.all()) == [one.url, two.url]
    failed = one.model_copy(
        update={
            "kind": SourceKind.RSS,
            "consecutive_failures": 2,
            "last_error": SourceError(stage="fetch", reason="timeout", detail="slow", at=NOW),
        }
    )
    table.save(failed)
    assert table.get(one.source_id) == failed
    assert table.remove(one.source_id) and not table.remove(one.source_id)
    assert table.get(one.source_id) is None


def test_a_claim_succeeds_once_per_due_time(pipeline) -> None:
    table = SourceTable(pipeline.table, pipeline.dynamodb)
    source = _source("https://a.example/rss")
    table.add(source)
    assert table.claim(source, NOW + timedelta(minutes=15))
    assert not table.claim(source, NOW + timedelta(minutes=15))
    assert table.get(source.source_id).next_poll_at == NOW + timedelta(minutes=15)


def test_seen_entries_expire_when_read_even_if_the_item_is_still_there(pipeline) -> None:
    table = SourceTable(pipeline.table, pipeline.dynamodb)
    ids = [f"{i:032x}" for i in range(130)]  # more than one BatchGetItem and BatchWriteItem
    links = {article_id: f"https://a.example/{article_id}" for article_id in ids}
    assert table.mark_seen("src-1", links, NOW + timedelta(days=30), pushed=ids[:3]) == 130
    assert table.seen("src-1", ids, NOW) == set(ids)
    assert table.seen("src-2", ids, NOW) == set()  # seen items are per source
    # after the TTL the items still exist (DynamoDB deletes lazily, moto never) but count unseen
    assert table.seen("src-1", ids, NOW + timedelta(days=31)) == set()
    # the CLI reads them back with their links and whether they were pushed
    entries = table.seen_entries("src-1", NOW)
    assert len(entries) == 130
    assert {e.url for e in entries if e.pushed} == {links[a] for a in ids[:3]}
    assert table.seen_entries("src-1", NOW + timedelta(days=31)) == []


def test_the_batch_queue_sends_in_tens(pipeline) -> None:
    queue = BatchQueue(pipeline.ingest_queue_url, pipeline.sqs)
    assert queue.send_all([f"https://a.example/{i}" for i in range(23)]) == 23
    assert len(pipeline.receive_all(pipeline.ingest_queue_url)) == 23
