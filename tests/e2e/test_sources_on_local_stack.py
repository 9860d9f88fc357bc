"""Sources on the local stack: the schedule played locally, and `demo --sources` records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from newsflow.sources import Source, SourceTable, source_id_for
from newsflow_cli import sample_feeds
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import Poller
from newsflow_cli.sam_template import load_template
from newsflow_cli.sources import ScheduleTicker, run_source_demo, schedules_of
from newsflow_cli.targets import Target

from .conftest import TEMPLATE_PATH

pytestmark = pytest.mark.e2e


def test_the_local_stack_plays_the_schedule_and_the_feed_brings_its_articles_in(
    target: Target, sample_site: PageServer, poller: Poller
) -> None:
    # GIVEN a due source registered in the table
    table = SourceTable(target.output("ArticlesTableName"), target.client("dynamodb"))
    url = sample_site.url(sample_feeds.FEED_PATH) + "?schedule"
    due = datetime.now(UTC) - timedelta(minutes=1)
    table.add(Source(source_id=source_id_for(url), url=url, created_at=due, next_poll_at=due))
    # WHEN the template's schedule ticks (as `local up` plays it) and the queues drain
    ticker = ScheduleTicker(poller, schedules_of(load_template(TEMPLATE_PATH), {}))
    assert ticker.tick() == 1
    assert ticker.tick() == 0  # rate(1 minute): not again within the minute
    assert poller.run_until_drained(timeout=120).drained
    # THEN the source was polled and its entries went through the pipeline
    source = table.get(source_id_for(url))
    assert source is not None and source.last_error is None
    assert source.polls == 1 and source.entries == 3 and source.pushed == 3
    assert source.next_poll_at > datetime.now(UTC)


def test_demo_sources_records_follow_the_contract(
    target: Target, sample_site: PageServer, poller: Poller
) -> None:
    # GIVEN three sample sources of three kinds, one of them listed twice, and a dead link
    lines = [
        *sample_site.sample_feed_urls(),
        sample_site.url("/feeds/missing.xml"),
        "not a url",
    ]
    demo = run_source_demo(target, lines, poller=poller, timeout=120)
    assert demo.drained
    records = json.loads(json.dumps(demo.records()))
    sources, articles = records[: len(lines)], records[len(lines) :]
    # THEN one source record per line, in order, with the contract's fields
    assert [r["url"] for r in sources] == lines
    assert all(r["kind"] == "source" for r in sources)
    rss, json_feed, sitemap, missing, invalid = sources
    assert rss["status"] == "OK" and rss["entries"] == 3 and rss["new_urls"] == 3
    # the other feeds list the same three stories: nothing new for them... but each source
    # remembers its own entries, so they push too; the article id stores each story once
    assert json_feed["status"] == sitemap["status"] == "OK"
    assert [r["second_poll_new_urls"] for r in (rss, json_feed, sitemap)] == [0, 0, 0]
    assert missing["status"] == "FAILED" and missing["failure"]["reason"] == "http_error"
    assert invalid["failure"] == {"stage": "intake", "reason": "invalid_url"}
    # AND one article record per distinct URL, attributed to the first line that found it
    assert len(articles) == 3
    assert {a["source"] for a in articles} == {lines[0]}
    assert all(a["kind"] == "article" and a["status"] == "ENRICHED" for a in articles)
    assert {"canonical_url", "article_id", "title", "entities", "duplicate_of"} <= set(articles[0])
