"""The `newsflow` commands against a running local stack (as `newsflow local up` leaves it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from newsflow.storage import ArticleTable
from newsflow_cli.cli import app
from newsflow_cli.demo import DemoResult
from newsflow_cli.page_server import PageServer
from newsflow_cli.poller import Poller
from newsflow_cli.targets import Target, write_state

pytestmark = pytest.mark.e2e

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
# What each shipped event ends as on the local stack: exit status, and per record the status
# `newsflow invoke` reports (FETCHED may already be ENRICHED when the demo fetched that page).
EXPECTED = {
    "fetch_single": (0, [{"FETCHED", "ENRICHED"}]),
    "fetch_batch_with_bad_records": (
        1,
        [{"FETCHED", "ENRICHED"}, {"REJECTED"}, {"REJECTED", "FAILED"}, {"FETCHED", "ENRICHED"}],
    ),
    "enrich_single": (0, [{"ENRICHED"}]),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _reported_statuses(stderr: str) -> dict[str, str]:
    found = re.findall(r"^record (\S+): (\w+)", stderr, flags=re.MULTILINE)
    return dict(found)


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_invoke_runs_every_shipped_event_on_the_local_stack(
    event_file: Path, cli_workdir: Path, sample_site: PageServer, target: Target
) -> None:
    # GIVEN a shipped sample event, unchanged (its file name starts with the function it is
    # for), and a local stack whose sample pages are served by `sample_site`
    write_state(target, cli_workdir / ".newsflow", page_server_url=sample_site.base_url)
    function = event_file.stem.split("_", 1)[0]
    records = json.loads(event_file.read_text(encoding="utf-8"))["Records"]
    # WHEN `newsflow invoke` runs it
    result = run("invoke", function, str(event_file))
    # THEN the handler answered with a partial batch response about that event's records
    response = json.loads(result.stdout)
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} <= {
        r["messageId"] for r in records
    }
    # AND every record ended as expected; a record that did not succeed fails the command
    expected_exit, expected_statuses = EXPECTED[event_file.stem]
    assert result.exit_code == expected_exit, result.stderr
    reported = _reported_statuses(result.stderr)
    for record, allowed in zip(records, expected_statuses, strict=True):
        assert reported[record["messageId"]] in allowed, result.stderr
    if expected_exit:
        assert "records did not succeed" in result.stderr.strip().splitlines()[-1]
    # AND example.com URLs were served by the sample pages (loopback only)
    if function == "fetch":
        assert f"sample pages at {sample_site.base_url}" in result.stderr


def test_invoke_enrich_prepares_the_shipped_event(
    cli_workdir: Path, sample_site: PageServer, target: Target, table: ArticleTable
) -> None:
    # GIVEN the enrich event as shipped: a deployed bucket name, a key stored nowhere
    event_file = EVENTS_DIR / "enrich_single.json"
    body = json.loads(json.loads(event_file.read_text(encoding="utf-8"))["Records"][0]["body"])
    write_state(target, cli_workdir / ".newsflow", page_server_url=sample_site.base_url)
    # WHEN it is invoked
    result = run("invoke", "enrich", str(event_file))
    # THEN the local bucket was used and the article it names is ENRICHED
    assert result.exit_code == 0, result.stderr
    assert f"using {target.output('ArticlesBucketName')}" in result.stderr
    article = table.get(body["article_id"])
    assert article is not None and article.status.value == "ENRICHED"
    assert article.top_entities


def test_get_prints_the_article_record(
    cli_workdir: Path, demo_result: DemoResult, sample_site: PageServer
) -> None:
    # GIVEN an article the demo enriched, looked up by a differently spelled URL
    url = sample_site.url("/news/warehouse-fire.html?utm_source=cli#top")
    # WHEN `newsflow get` runs
    result = run("get", url)
    # THEN it prints that article's record
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "ENRICHED"
    assert record["canonical_url"] == sample_site.url("/news/warehouse-fire.html")


def test_get_document_prints_the_enriched_document(
    cli_workdir: Path, demo_result: DemoResult, sample_site: PageServer
) -> None:
    # GIVEN an enriched article / WHEN its document is asked for
    result = run("get", sample_site.url("/news/solar-ferry-trial.html"), "--document")
    # THEN the stored document with text and entities is printed
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert "solar-electric" in document["text"]
    assert document["entities"]


def test_list_filters_by_status(cli_workdir: Path, demo_result: DemoResult) -> None:
    # GIVEN the demo's FAILED articles / WHEN listed by status
    result = run("list", "--status", "failed", "--json")
    # THEN only FAILED rows come back, among them the demo's failures
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and {row["status"] for row in rows} == {"FAILED"}
    failed_ids = {
        r.article_id for r in demo_result.records if r.status == "FAILED" and r.failure
        and r.failure["stage"] != "intake"
    }  # fmt: skip
    assert failed_ids <= {row["article_id"] for row in rows}


def test_entity_lists_articles_that_mention_it(cli_workdir: Path, demo_result: DemoResult) -> None:
    # GIVEN an entity of an enriched demo article
    record = next(r for r in demo_result.records if r.status == "ENRICHED" and r.entities)
    name = str(record.entities[0]["text"])
    # WHEN `newsflow entity` runs
    result = run("entity", name, "--json")
    # THEN that article is listed
    assert result.exit_code == 0, result.stderr
    mentions = [json.loads(line) for line in result.stdout.splitlines()]
    assert record.article_id in {m["article_id"] for m in mentions}


def test_push_then_poll_enriches_a_new_url(
    cli_workdir: Path, sample_site: PageServer, poller: Poller, table: ArticleTable
) -> None:
    # GIVEN a URL not seen before
    url = sample_site.url("/tech/maintainers-summit.html?edition=pushed")
    # WHEN it is pushed with the CLI and the functions run
    pushed = run("push", url)
    assert pushed.exit_code == 0, pushed.stderr
    article_id = pushed.stdout.split()[1]
    assert poller.run_until_drained(timeout=60).drained
    # THEN its article is ENRICHED
    article = table.get(article_id)
    assert article is not None and article.status.value == "ENRICHED"


def test_a_dead_letter_is_redriven_and_then_succeeds(
    cli_workdir: Path,
    sample_site: PageServer,
    poller: Poller,
    table: ArticleTable,
    target: Target,
) -> None:
    # GIVEN a page that fails with 503 on every delivery until the DLQ takes it
    path = "/features/last-lighthouse-keepers.html?edition=outage"
    sample_site.unavailable.add(path)
    pushed = run("push", sample_site.url(path))
    article_id = pushed.stdout.split()[1]
    assert poller.run_until_drained(timeout=60).drained
    assert table.get(article_id) is None
    listing = run("dlq")
    assert listing.exit_code == 0, listing.stderr
    assert path in listing.stdout
    # AND the listing says why it died: the last error recorded before the DLQ took it
    assert "last error: fetch/http_error" in listing.stdout
    assert "503" in listing.stdout
    # WHEN the site recovers and the dead letters are redriven
    sample_site.unavailable.discard(path)
    redriven = run("dlq", "--redrive")
    assert redriven.exit_code == 0, redriven.stderr
    assert "redrove" in redriven.stdout
    assert poller.run_until_drained(timeout=60).drained
    # THEN the article is fetched and enriched after all
    article = table.get(article_id)
    assert article is not None and article.status.value == "ENRICHED"
