"""What `newsflow get/list/entity/dlq` read back, against moto: order, indexes, partial items."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from newsflow.errors import Reason, Stage
from newsflow.models import ArticleRecord, ArticleStatus, Failure
from newsflow.storage import (
    ARTICLE_SK,
    RETRY_SK,
    ArticleQueries,
    ArticleTable,
    article_pk,
    entity_pk,
    serialize_item,
)

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def article_id(n: int) -> str:
    return f"{n:032x}"


def fetched(n: int, *, domain: str = "news.example.com") -> ArticleRecord:
    """Article ``n``, created ``n`` days after START (a higher ``n`` is newer)."""
    at = START + timedelta(days=n)
    return ArticleRecord(
        article_id=article_id(n),
        url=f"https://{domain}/story-{n}",
        canonical_url=f"https://{domain}/story-{n}",
        domain=domain,
        status=ArticleStatus.FETCHED,
        title=f"Story {n}",
        published=at.date(),
        created_at=at,
        updated_at=at,
    )


def fail(table: ArticleTable, n: int, reason: Reason = Reason.HTTP_ERROR) -> None:
    table.save_failed(
        article_id=article_id(n),
        url=f"https://news.example.com/story-{n}",
        canonical_url=None,
        domain=None,
        failure=Failure(stage=Stage.FETCH, reason=reason, detail="HTTP 404"),
        at=START + timedelta(days=n, hours=1),
    )


@dataclass
class Calls:
    """DynamoDB operations a client made (name and parameters), in order."""

    made: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.made]


@pytest.fixture
def calls(pipeline: Any) -> Iterator[Calls]:
    recorded = Calls()

    def remember(model: Any, params: dict[str, Any], **_: Any) -> None:
        recorded.made.append((model.name, params))

    pipeline.dynamodb.meta.events.register("provide-client-params.dynamodb.*", remember)
    yield recorded
    pipeline.dynamodb.meta.events.unregister("provide-client-params.dynamodb.*", remember)


@pytest.fixture
def table(pipeline: Any) -> ArticleTable:
    return ArticleTable(pipeline.table, pipeline.dynamodb)


@pytest.fixture
def queries(pipeline: Any) -> ArticleQueries:
    return ArticleQueries(pipeline.table, pipeline.dynamodb)


def put_raw_item(pipeline: Any, attributes: dict[str, Any]) -> None:
    pipeline.dynamodb.put_item(TableName=pipeline.table, Item=serialize_item(attributes))


# --------------------------------------------------------------------------- list


def test_limit_gives_the_newest_articles_not_the_first_scanned(
    table: ArticleTable, queries: ArticleQueries
) -> None:
    # GIVEN ten articles written oldest first
    for n in range(10):
        table.save_fetched(fetched(n))

    # WHEN the newest three are asked for
    rows = queries.newest(3)

    # THEN they are the three created last, newest first
    assert [row["article_id"] for row in rows] == [article_id(9), article_id(8), article_id(7)]


def test_a_status_and_since_filter_keep_the_newest_first(
    table: ArticleTable, queries: ArticleQueries
) -> None:
    # GIVEN FETCHED articles, some older than the cut-off
    for n in range(6):
        table.save_fetched(fetched(n))

    # WHEN FETCHED articles since day 2 are listed
    rows = queries.newest(10, status="FETCHED", since=(START + timedelta(days=2)).date())

    # THEN only those, newest first
    assert [row["article_id"] for row in rows] == [article_id(n) for n in (5, 4, 3, 2)]


def test_failed_articles_come_from_the_failures_index_without_a_scan(
    table: ArticleTable, queries: ArticleQueries, calls: Calls
) -> None:
    # GIVEN fetched and failed articles
    for n in range(4):
        table.save_fetched(fetched(n))
    fail(table, 1)
    fail(table, 3, Reason.NOT_HTML)
    calls.made.clear()

    # WHEN FAILED articles are listed
    rows = queries.newest(10, status=ArticleStatus.FAILED)

    # THEN the failures index is queried, the table never scanned
    assert "Scan" not in calls.names()
    assert {params.get("IndexName") for name, params in calls.made if name == "Query"} == {
        "FailuresIndex"
    }
    # AND the rows are the failed articles, newest failure first, with their reason
    assert [row["article_id"] for row in rows] == [article_id(3), article_id(1)]
    assert {row["status"] for row in rows} == {"FAILED"}
    assert rows[0]["failure"]["reason"] == "not_html"


def test_a_domain_listing_filters_by_status_before_the_limit(
    table: ArticleTable, queries: ArticleQueries
) -> None:
    # GIVEN a domain whose two newest articles FAILED and three older ones did not
    for n in range(5):
        table.save_fetched(fetched(n))
    fail(table, 3)
    fail(table, 4)

    # WHEN two FETCHED articles of the domain are asked for
    rows = queries.by_domain("news.example.com", status="FETCHED", limit=2)

    # THEN two come back, the newest FETCHED ones
    assert [row["article_id"] for row in rows] == [article_id(2), article_id(1)]


def test_until_keeps_only_the_days_up_to_it_in_every_listing(
    table: ArticleTable, queries: ArticleQueries
) -> None:
    # GIVEN articles fetched on three days, and others failed on the same three days
    for n in range(3):
        table.save_fetched(fetched(n))
        table.save_failed(
            article_id=article_id(100 + n),
            url=f"https://news.example.com/broken-{n}",
            canonical_url=None,
            domain=None,
            failure=Failure(stage=Stage.FETCH, reason=Reason.HTTP_ERROR, detail="HTTP 404"),
            at=START + timedelta(days=n, hours=1),
        )
    middle = (START + timedelta(days=1)).date()

    # WHEN the middle day is listed, by time, by domain and as failures
    # THEN each listing holds only that day's article (the last hours of the day included)
    newest = queries.newest(10, status="FETCHED", since=middle, until=middle)
    assert [row["article_id"] for row in newest] == [article_id(1)]
    by_domain = queries.by_domain("news.example.com", since=middle, until=middle)
    assert [row["article_id"] for row in by_domain] == [article_id(1)]
    failed = queries.failures(since=middle, until=middle)
    assert [row["article_id"] for row in failed] == [article_id(101)]
    assert [
        r["article_id"] for r in queries.newest(10, status="FAILED", since=middle, until=middle)
    ] == [article_id(101)]
    # AND `until` alone keeps that day and those before it
    assert [row["article_id"] for row in queries.by_domain("news.example.com", until=middle)] == [
        article_id(1),
        article_id(0),
    ]
    assert [row["article_id"] for row in queries.failures(until=middle)] == [
        article_id(101),
        article_id(100),
    ]
    assert {r["article_id"] for r in queries.newest(10, status="FETCHED", until=middle)} == {
        article_id(1),
        article_id(0),
    }


# --------------------------------------------------------------------------- partial items


def test_a_partial_article_item_reads_as_what_it_has(
    pipeline: Any, queries: ArticleQueries
) -> None:
    # GIVEN an item with only its key and a status (written by an older version, or in part)
    partial = {"pk": article_pk(article_id(1)), "sk": ARTICLE_SK, "status": "FAILED"}
    put_raw_item(pipeline, partial)

    # WHEN it is read for `get` and listed
    row = queries.article(article_id(1))
    listed = queries.newest(10)

    # THEN both show what is there, with the article id from the key
    assert row == {"article_id": article_id(1), "status": "FAILED"}
    assert listed == [row]
    # AND it is no complete record
    assert queries.record(article_id(1)) is None


def test_the_stages_treat_a_partial_article_item_as_absent(
    pipeline: Any, table: ArticleTable
) -> None:
    # GIVEN an item with only its key and a status
    put_raw_item(
        pipeline, {"pk": article_pk(article_id(1)), "sk": ARTICLE_SK, "status": "ENRICHED"}
    )

    # WHEN a stage looks the article up, THEN it finds nothing complete (and will fetch again)
    assert table.get(article_id(1)) is None


def test_a_retry_note_without_a_failure_is_no_note(pipeline: Any, queries: ArticleQueries) -> None:
    # GIVEN a retry note that lacks its failure, and no article item
    put_raw_item(pipeline, {"pk": article_pk(article_id(1)), "sk": RETRY_SK, "at": "2026-11-01"})

    # WHEN it is read, THEN it counts as not recorded
    assert queries.retry_note(article_id(1)) is None


def test_a_partial_entity_item_still_lists_its_article(
    pipeline: Any, queries: ArticleQueries
) -> None:
    # GIVEN an entity index item with only its keys
    sk = f"2026-11-01#{article_id(1)}#PERSON"
    put_raw_item(pipeline, {"pk": entity_pk("Helen Carter"), "sk": sk})

    # WHEN the entity is queried, THEN the article and type come from the key
    [mention] = queries.mentioning("Helen Carter")
    assert (mention.article_id, mention.type, mention.count) == (article_id(1), "PERSON", 0)


# --------------------------------------------------------------------------- the commands


def test_commands_show_partial_items_without_a_traceback(pipeline: Any, run_cli: Any) -> None:
    # GIVEN partial article, retry and entity items
    partial_id = article_id(7)
    put_raw_item(pipeline, {"pk": article_pk(partial_id), "sk": ARTICLE_SK, "status": "FAILED"})
    put_raw_item(pipeline, {"pk": article_pk(partial_id), "sk": RETRY_SK})
    put_raw_item(pipeline, {"pk": entity_pk("Bristol"), "sk": f"2026-11-01#{partial_id}#LOCATION"})

    # WHEN the read commands run
    results = {
        "get": run_cli("get", partial_id),
        "get --document": run_cli("get", partial_id, "--document"),
        "list": run_cli("list"),
        "list --json": run_cli("list", "--json"),
        "list --status failed": run_cli("list", "--status", "failed"),
        "entity": run_cli("entity", "Bristol"),
    }

    # THEN none prints a traceback; the ones that can answer do
    for name, result in results.items():
        assert "Traceback" not in result.output, name
        assert result.exception is None or isinstance(result.exception, SystemExit), name
    assert results["get"].exit_code == 0 and partial_id in results["get"].stdout
    assert results["get --document"].exit_code == 1
    assert "no stored document (status FAILED)" in results["get --document"].stderr
    assert results["list --json"].exit_code == 0 and partial_id in results["list --json"].stdout
    assert results["entity"].exit_code == 0 and "LOCATION" in results["entity"].stdout


def test_list_limit_on_the_command_line_gives_the_newest(table: ArticleTable, run_cli: Any) -> None:
    # GIVEN five articles written oldest first
    for n in range(5):
        table.save_fetched(fetched(n))

    # WHEN `newsflow list --limit 2 --json` runs
    result = run_cli("list", "--limit", "2", "--json")

    # THEN the two newest come back
    assert result.exit_code == 0, result.output
    ids = [line.split('"article_id": "')[1][:32] for line in result.stdout.splitlines()]
    assert ids == [article_id(4), article_id(3)]


def test_since_is_compared_as_a_date(table: ArticleTable, queries: ArticleQueries) -> None:
    # GIVEN an article created at 08:00 on a day
    table.save_fetched(fetched(3))

    # WHEN listed since that same day, THEN it is included
    assert len(queries.newest(10, since=date(2026, 11, 4))) == 1
