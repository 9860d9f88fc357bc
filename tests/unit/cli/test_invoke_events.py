"""`newsflow invoke`: sample events made runnable on a local stack, each outcome read back."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from newsflow.errors import Reason, Stage
from newsflow.models import ArticleRecord, ArticleStatus, Failure
from newsflow.storage import ArticleTable, RetryNote
from newsflow.urls import article_id_for, canonicalize_url
from newsflow_cli import cli, invoke_events
from newsflow_cli.cli import app
from newsflow_cli.lambda_runtime import Invocation
from newsflow_cli.stacks import StackDescription
from newsflow_cli.targets import Target

EVENTS_DIR = Path(__file__).resolve().parents[3] / "events"
PAGES = "http://127.0.0.1:8123"
REGION = "us-east-1"


def _event(*bodies: str) -> dict[str, Any]:
    sample = json.loads((EVENTS_DIR / "fetch_single.json").read_text(encoding="utf-8"))
    template = sample["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = dict(template, body=body, messageId=f"m-{index}")
        record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()
        records.append(record)
    return {"Records": records}


@pytest.fixture
def target(pipeline: Any) -> Target:
    description = StackDescription(
        stack_name="newsflow-local",
        status="CREATE_COMPLETE",
        outputs={"ArticlesBucketName": pipeline.bucket, "ArticlesTableName": pipeline.table},
    )
    return Target(kind="local", description=description, region=REGION, session=boto3.Session())


def _failure(reason: Reason, detail: str, stage: Stage = Stage.FETCH) -> Failure:
    return Failure(stage=stage, reason=reason, detail=detail)


def _save_failed(pipeline: Any, article_id: str, failure: Failure) -> None:
    ArticleTable(pipeline.table, pipeline.dynamodb).save_failed(
        article_id=article_id,
        url="https://news.example/a",
        canonical_url="https://news.example/a",
        domain="news.example",
        failure=failure,
        at=datetime(2026, 11, 20, tzinfo=UTC),
    )


# --------------------------------------------------------------------------- prepare


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/news/a.html?x=1", f"{PAGES}/news/a.html?x=1"),
        ("http://example.org/b", f"{PAGES}/b"),
        ("https://news.example.net:8443/c#top", f"{PAGES}/c#top"),
        ("https://example.com", PAGES),
        ("https://news.example.com.evil.test/d", "https://news.example.com.evil.test/d"),
        ("https://notexample.com/e", "https://notexample.com/e"),
        ("ftp://files.example.com/f.pdf", "ftp://files.example.com/f.pdf"),
    ],
)
def test_urls_on_documentation_domains_move_to_the_sample_pages(
    target: Target, url: str, expected: str
) -> None:
    # GIVEN a fetch record with a URL / WHEN prepared for the local stack
    event = _event(json.dumps({"url": url}))
    prepared = invoke_events.prepare(event, target, page_server_url=PAGES)
    record = prepared.event["Records"][0]
    # THEN only example.com/.org/.net hosts point at the page server, the MD5 follows the body
    assert json.loads(record["body"])["url"] == expected
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert bool(prepared.notes) == (expected != url)
    assert json.loads(event["Records"][0]["body"])["url"] == url  # the input is not changed


def test_the_shipped_fetch_events_stay_on_loopback(target: Target) -> None:
    # GIVEN every shipped fetch event / WHEN prepared for the local stack
    for path in EVENTS_DIR.glob("fetch_*.json"):
        event = json.loads(path.read_text(encoding="utf-8"))
        prepared = invoke_events.prepare(event, target, page_server_url=PAGES)
        # THEN every http(s) URL in a body is on the page server
        for record in prepared.event["Records"]:
            for url in re.findall(r"https?://[^\s\"]+", record["body"]):
                assert url.startswith(f"{PAGES}/"), (path.name, url)


def test_an_enrich_event_gets_the_local_bucket_and_a_stored_document(
    target: Target, pipeline: Any
) -> None:
    # GIVEN the shipped enrich event, which names a deployed bucket and a key stored nowhere
    event = json.loads((EVENTS_DIR / "enrich_single.json").read_text(encoding="utf-8"))
    original = json.loads(event["Records"][0]["body"])
    # WHEN prepared for the local stack
    prepared = invoke_events.prepare(event, target, page_server_url=PAGES)
    body = json.loads(prepared.event["Records"][0]["body"])
    # THEN it names the local bucket and the same article and key
    assert body == {**original, "bucket": pipeline.bucket}
    # AND a parsed document of that article is stored there, with its FETCHED item
    stored = json.loads(
        pipeline.s3.get_object(Bucket=pipeline.bucket, Key=body["key"])["Body"].read()
    )
    assert stored["article_id"] == body["article_id"]
    assert len(stored["text"].split()) > 50
    article = ArticleTable(pipeline.table, pipeline.dynamodb).get(body["article_id"])
    assert article is not None and article.status.value == "FETCHED"
    assert article.article_key == body["key"]
    assert any("bucket" in note for note in prepared.notes)
    assert any("stored a parsed document" in note for note in prepared.notes)


def test_an_enrich_document_already_stored_is_left_alone(target: Target, pipeline: Any) -> None:
    # GIVEN the enrich event's document already in the local bucket
    event = json.loads((EVENTS_DIR / "enrich_single.json").read_text(encoding="utf-8"))
    key = json.loads(event["Records"][0]["body"])["key"]
    pipeline.s3.put_object(Bucket=pipeline.bucket, Key=key, Body=b'{"mine": true}')
    # WHEN prepared
    prepared = invoke_events.prepare(event, target, page_server_url=PAGES)
    # THEN the stored object is not replaced
    assert pipeline.s3.get_object(Bucket=pipeline.bucket, Key=key)["Body"].read() == (
        b'{"mine": true}'
    )
    assert not any("stored" in note for note in prepared.notes)


# --------------------------------------------------------------------------- outcomes


def test_outcomes_say_why_each_record_did_not_succeed(target: Target, pipeline: Any) -> None:
    # GIVEN a batch: one fetched, one FAILED, one left for retry (with a note), one bad body
    fetched, failed, retried = (
        "https://news.example/ok",
        "https://news.example/gone",
        "https://news.example/busy",
    )
    table = ArticleTable(pipeline.table, pipeline.dynamodb)
    ids = {url: article_id_for(canonicalize_url(url)) for url in (fetched, failed, retried)}
    _save_failed(pipeline, ids[failed], _failure(Reason.HTTP_ERROR, "HTTP 404"))
    table.save_retry_note(
        RetryNote(
            article_id=ids[retried],
            failure=_failure(Reason.TIMEOUT, "read timed out"),
            at=datetime(2026, 11, 20, tzinfo=UTC),
        )
    )
    now = datetime(2026, 11, 21, tzinfo=UTC)
    table.save_fetched(
        ArticleRecord(
            article_id=ids[fetched], url=fetched, status=ArticleStatus.FETCHED,
            created_at=now, updated_at=now,
        )
    )  # fmt: skip
    event = _event(fetched, failed, retried, '{"url": ')
    response = {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    # WHEN the outcomes are read
    found = invoke_events.outcomes(target, "FetchFunction", event, response)
    # THEN each record says how it ended, and why when it did not succeed
    assert [(o.status, o.ok) for o in found] == [
        ("FETCHED", True),
        ("FAILED", False),
        ("RETRY", False),
        ("REJECTED", False),
    ]
    assert (found[1].stage, found[1].reason, found[1].detail) == ("fetch", "http_error", "HTTP 404")
    assert (found[2].reason, found[2].detail) == ("timeout", "read timed out")
    assert found[3].reason == "invalid_message"
    assert "FAILED (article" in found[1].describe() and "HTTP 404" in found[1].describe()


# --------------------------------------------------------------------------- the command


class _FailingEnrichPoller:
    """Stands in for the enrich handler as it behaved on the shipped event before: the record
    is recorded FAILED and the batch response reports nothing to retry."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.events: list[Any] = []

    def invoke(self, function: str, event: Any) -> Invocation:
        self.events.append(event)
        body = json.loads(event["Records"][0]["body"])
        failure = _failure(
            Reason.INVALID_MESSAGE,
            f"bucket '{body['bucket']}' is not this pipeline's bucket",
            stage=Stage.ENRICH,
        )
        _save_failed(self.pipeline, body["article_id"], failure)
        return Invocation(
            function="EnrichFunction", request_id="r-1", result={"batchItemFailures": []}
        )


def test_invoke_exits_1_and_says_why_when_the_article_ended_failed(
    target: Target, pipeline: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a handler that answers "nothing to retry" while it recorded the article FAILED
    poller = _FailingEnrichPoller(pipeline)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_target", lambda *args, **kwargs: target)
    monkeypatch.setattr(Target, "poller", lambda self, echo=None, **kwargs: poller)
    # WHEN the shipped enrich event is invoked
    result = CliRunner().invoke(
        app, ["invoke", "enrich", str(EVENTS_DIR / "enrich_single.json"), "--stack", "s"]
    )
    # THEN the response is printed, but the exit status is 1 and stderr says why
    assert json.loads(result.stdout) == {"batchItemFailures": []}
    assert result.exit_code == 1
    assert "FAILED" in result.stderr and "enrich/invalid_message" in result.stderr
    assert "not this pipeline's bucket" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "error: 1 of 1 records did not succeed"
    # AND the handler got the event prepared for the local stack: the local bucket
    assert json.loads(poller.events[0]["Records"][0]["body"])["bucket"] == pipeline.bucket
