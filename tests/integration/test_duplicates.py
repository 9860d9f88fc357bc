"""Exact and near duplicates through both stages on moto: links, clusters, reused enrichment.

The fetcher serves plain text and the parser takes it as the article text, so each test says
exactly which words two pages share; table, bucket and queue are the real adapters on moto.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from newsflow.duplicates import DuplicateDetector
from newsflow.errors import PipelineError, Reason, Stage, TransientError
from newsflow.fetching import FetchedPage
from newsflow.fingerprints import BANDS
from newsflow.models import (
    ArticleStatus,
    Enrichment,
    EnrichmentInfo,
    EnrichMessage,
    Entity,
    ExtractorInfo,
    IngestMessage,
    ParsedArticle,
)
from newsflow.pipeline import EnrichStage, FetchStage, Outcome
from newsflow.politeness import HostGate, HostPacer, PoliteFetcher
from newsflow.storage import ArticleTable, DocumentStore, MessageQueue
from newsflow.storage.fingerprints import FingerprintIndex
from newsflow.urls import canonicalize_url
from newsflow_cli import cli

PARAGRAPHS = [
    "The city council of Portsmouth voted on Tuesday to fund a new harbour bridge, ending a "
    "debate that had divided residents for more than a decade.",
    "Mayor Helen Carter said the decision was a great victory for commuters and local "
    "businesses, who have complained about congestion on the old crossing for years.",
    "Critics, including the Green Coast Alliance, warned that construction could harm the "
    "estuary and said they would ask the Environment Agency to review the plans.",
    "Engineers from Atlantic Structures will begin surveying the site in March, and the council "
    "expects the bridge to open to traffic in the spring of 2029.",
    "Helen Carter added that the council would publish the full budget next week and hold "
    "public meetings in every ward before any work starts on the riverbank.",
]
STORY = "\n\n".join(PARAGRAPHS)
# A wire copy: one paragraph dropped, two reordered, one added, a word changed.
SYNDICATED = "\n\n".join(
    [
        PARAGRAPHS[0].replace("Tuesday", "Tuesday evening"),
        PARAGRAPHS[2],
        PARAGRAPHS[1],
        PARAGRAPHS[3],
        "Residents can comment on the plans online until the end of the month, the council said.",
    ]
)
# The same event, written by another newsroom: same names, other sentences.
SAME_TOPIC = (
    "Ferry operators in Portsmouth fear that the harbour bridge approved by the council this week "
    "will take away their passengers. The Green Coast Alliance staged a protest on the seafront "
    "on Wednesday, where about two hundred people gathered to hear speakers criticise Mayor "
    "Helen Carter. Atlantic Structures, the engineering firm chosen for the survey, declined to "
    "comment on the timetable or on the cost of the project."
)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


class TickingClock:
    """A second later on every reading: articles fetched one after the other."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class TextFetcher:
    """Serves a text per URL (ETag: a hash of it); ``parse_text`` makes it the article text."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.conditional: list[dict[str, str]] = []

    def serve(self, url: str, text: str) -> str:
        self.pages[canonicalize_url(url)] = text.encode()
        return url

    def fetch(self, url: str, *, conditional: dict[str, str] | None = None) -> FetchedPage:
        body = self.pages[url]
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        self.conditional.append(dict(conditional or {}))
        unchanged = (conditional or {}).get("If-None-Match") == etag
        return FetchedPage(
            requested_url=url,
            final_url=url,
            status=304 if unchanged else 200,
            content_type="text/html",
            charset="utf-8",
            body=b"" if unchanged else body,
            etag=etag,
        )


def parse_text(
    html: str | bytes, url: str | None = None, *, charset: str | None = None
) -> ParsedArticle:
    text = html.decode() if isinstance(html, bytes) else html
    return ParsedArticle(
        title="Harbour bridge",
        language="en",
        published=date(2026, 11, 19),
        text=text,
        word_count=len(text.split()),
        extractor=ExtractorInfo(version="test"),
    )


NAMES = {"Helen Carter": "PERSON", "Atlantic Structures": "ORGANIZATION", "Bristol": "LOCATION"}


class CountingEnricher:
    """Finds the names of ``NAMES`` in the text; counts its calls."""

    backend = "fake"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def enrich(self, text: str, language: str | None = None) -> Enrichment:
        self.texts.append(text)
        return Enrichment(
            entities=[
                Entity(
                    text=name,
                    type=kind,
                    count=text.count(name),
                    salience=0.9,
                    mentions=[
                        {
                            "start": text.index(name),
                            "end": text.index(name) + len(name),
                            "text": name,
                        }
                    ],
                )
                for name, kind in NAMES.items()
                if name in text
            ],
            enrichment=EnrichmentInfo(
                backend="fake", model="fake-1", version="1", language_supported=True
            ),
        )


@dataclass
class Stack:
    pipeline: Any
    fetcher: TextFetcher
    enricher: CountingEnricher
    table: ArticleTable
    index: FingerprintIndex
    fetch: FetchStage
    enrich: EnrichStage
    dynamodb_calls: list[str] = field(default_factory=list)

    def ingest(self, url: str, text: str | None = None) -> str:
        if text is not None:
            self.fetcher.serve(url, text)
        result = self.fetch.run(IngestMessage(url=url))
        assert result.outcome is Outcome.FETCHED, result
        return result.article_id

    def handoffs(self) -> dict[str, EnrichMessage]:
        return {
            message.article_id: message
            for message in (
                EnrichMessage.model_validate_json(m["Body"])
                for m in self.pipeline.receive_all(self.pipeline.enrich_queue_url)
            )
        }


@pytest.fixture
def stack(pipeline: Any) -> Stack:
    documents = DocumentStore(pipeline.bucket, pipeline.s3)
    table = ArticleTable(pipeline.table, pipeline.dynamodb)
    index = FingerprintIndex(pipeline.table, pipeline.dynamodb)
    fetcher, enricher = TextFetcher(), CountingEnricher()
    fetch = FetchStage(
        fetcher=fetcher,
        parse=parse_text,
        documents=documents,
        table=table,
        enrich_queue=MessageQueue(pipeline.enrich_queue_url, pipeline.sqs),
        clock=TickingClock(),
        duplicates=DuplicateDetector(index, documents),
    )
    enrich = EnrichStage(enricher=enricher, documents=documents, table=table, clock=lambda: NOW)
    stack = Stack(pipeline, fetcher, enricher, table, index, fetch, enrich)
    pipeline.dynamodb.meta.events.register(
        "before-call.dynamodb.*",
        lambda model, **_: stack.dynamodb_calls.append(model.name),
    )
    return stack


def test_identical_text_under_two_urls_links_the_copy_and_reuses_the_enrichment(
    stack: Stack,
) -> None:
    # GIVEN a story, then the same text (other line breaks) under another URL
    original = stack.ingest("https://gazette.example/bridge", STORY)
    copy = stack.ingest("https://wire.example/portsmouth-bridge", " ".join(PARAGRAPHS))
    # THEN the copy points to the original, in the original's cluster
    record = stack.table.get(copy)
    assert record is not None
    assert (record.duplicate_of, record.duplicate_kind, record.cluster_id) == (
        original,
        "exact",
        original,
    )
    assert stack.table.get(original).cluster_id == original  # type: ignore[union-attr]
    # AND its enrich message asks to reuse the original's enrichment
    handoffs = stack.handoffs()
    assert handoffs[copy].reuse_enrichment_of == original
    assert handoffs[original].reuse_enrichment_of is None
    # WHEN both are enriched, the original first
    assert stack.enrich.run(handoffs[original]).outcome is Outcome.ENRICHED
    result = stack.enrich.run(handoffs[copy])
    # THEN the enricher ran once, and the copy ends ENRICHED with the original's entities
    assert result.outcome is Outcome.ENRICHED
    assert len(stack.enricher.texts) == 1
    enriched = stack.table.get(copy)
    assert enriched is not None and enriched.status is ArticleStatus.ENRICHED
    assert [e.text for e in enriched.top_entities] == ["Helen Carter", "Atlantic Structures"]
    # AND its own enriched document is stored (the text differs in spacing: no stale offsets)
    document = json.loads(
        stack.pipeline.s3.get_object(Bucket=stack.pipeline.bucket, Key=result.keys["enriched"])[
            "Body"
        ].read()
    )
    assert document["article_id"] == copy and document["duplicate_of"] == original
    assert document["entities"][0]["mentions"] == []


def test_an_exact_copy_enriched_before_its_original_is_enriched_itself(stack: Stack) -> None:
    # GIVEN an original and its exact copy, fetched but not enriched
    original = stack.ingest("https://gazette.example/bridge", STORY)
    copy = stack.ingest("https://wire.example/portsmouth-bridge", STORY)
    handoffs = stack.handoffs()
    # WHEN the copy's enrich message comes first
    result = stack.enrich.run(handoffs[copy])
    # THEN there is nothing to reuse yet: it is enriched itself and still ends ENRICHED
    assert result.outcome is Outcome.ENRICHED
    assert stack.enricher.texts == [STORY]
    assert stack.table.get(copy).status is ArticleStatus.ENRICHED  # type: ignore[union-attr]
    assert stack.table.get(original).status is ArticleStatus.FETCHED  # type: ignore[union-attr]


def test_a_syndicated_copy_with_edits_is_a_near_duplicate_in_the_same_cluster(
    stack: Stack,
) -> None:
    # GIVEN a story, then a wire copy with edits, then a copy of that copy
    original = stack.ingest("https://gazette.example/bridge", STORY)
    stack.dynamodb_calls.clear()
    near = stack.ingest("https://wire.example/bridge-vote", SYNDICATED)
    calls_of_the_copy = list(stack.dynamodb_calls)
    third = stack.ingest("https://other.example/bridge", SYNDICATED + " Updated at noon.")
    # THEN the copy is a near duplicate of the original, with its similarity
    record = stack.table.get(near)
    assert record is not None
    assert (record.duplicate_of, record.duplicate_kind) == (original, "near")
    assert record.similarity is not None and 0.5 <= record.similarity < 1.0
    # AND every member shares the first article's cluster id
    assert stack.table.get(third).cluster_id == original  # type: ignore[union-attr]
    members = stack.index.cluster(original)
    assert [m.article_id for m in members] == [original, near, third]
    # AND the candidates came from key lookups, never a scan or a query
    assert "BatchGetItem" in calls_of_the_copy
    assert not {"Scan", "Query"} & set(calls_of_the_copy)
    # AND a near duplicate is enriched (its edits may matter)
    handoffs = stack.handoffs()
    assert handoffs[near].reuse_enrichment_of is None
    assert stack.enrich.run(handoffs[near]).outcome is Outcome.ENRICHED
    assert stack.enricher.texts == [SYNDICATED]


def _index_items(stack: Stack) -> dict[str, list[str]]:
    """The table's fingerprint and cluster item keys, by kind (CONTENT, BAND, CLUSTER)."""
    items = stack.pipeline.dynamodb.scan(TableName=stack.pipeline.table)["Items"]
    kinds: dict[str, list[str]] = {}
    for item in items:
        pk = item["pk"]["S"]
        kind = pk.split("#", 1)[0]
        if kind in ("CONTENT", "BAND", "CLUSTER"):
            kinds.setdefault(kind, []).append(f"{pk}|{item['sk']['S']}")
    return kinds


def test_a_new_story_writes_its_keys_and_only_a_copy_writes_a_cluster_member(
    stack: Stack,
) -> None:
    # GIVEN a new story
    original = stack.ingest("https://gazette.example/bridge", STORY)
    # THEN it claims its exact-text key and one key per band, and writes no cluster member
    # item (it is its cluster's id: every item is a write unit per new story)
    written = _index_items(stack)
    assert len(written["CONTENT"]) == 1
    assert len(written["BAND"]) == BANDS
    assert "CLUSTER" not in written
    # WHEN a near copy arrives
    near = stack.ingest("https://wire.example/bridge-vote", SYNDICATED)
    # THEN only the copy has a member item, and the cluster still lists the original first
    assert _index_items(stack)["CLUSTER"] == [f"CLUSTER#{original}|{near}"]
    members = stack.index.cluster(original)
    assert [(m.article_id, m.duplicate_kind) for m in members] == [
        (original, None),
        (near, "near"),
    ]
    assert members[0].url == "https://gazette.example/bridge"


def test_an_unrelated_article_on_the_same_topic_is_not_clustered(stack: Stack) -> None:
    # GIVEN a story and another newsroom's article on the same event
    original = stack.ingest("https://gazette.example/bridge", STORY)
    other = stack.ingest("https://ferries.example/bridge-fears", SAME_TOPIC)
    # THEN the second is its own story
    record = stack.table.get(other)
    assert record is not None
    assert (record.duplicate_of, record.duplicate_kind, record.cluster_id) == (None, None, other)
    assert [m.article_id for m in stack.index.cluster(original)] == [original]


class FailOnce:
    """Raises a transient error on the first call of one DynamoDB operation."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.armed = True

    def __call__(self, model: Any, **_: Any) -> None:
        if self.armed and model.name == self.operation:
            self.armed = False
            raise TransientError(Reason.THROTTLED, "injected", stage=Stage.STORE)


# The copy's article item is new: its FETCHED write is a conditional PutItem.
@pytest.mark.parametrize("operation", ["BatchWriteItem", "PutItem"])
def test_a_retry_in_the_middle_of_registering_a_copy_converges(
    stack: Stack, operation: str
) -> None:
    # GIVEN an original, and its wire copy whose fetch fails once while registering
    # (fingerprint items not written yet) or just after (items written, article item not)
    original = stack.ingest("https://gazette.example/bridge", STORY)
    stack.fetcher.serve("https://wire.example/bridge-vote", SYNDICATED)
    fail = FailOnce(operation)
    stack.pipeline.dynamodb.meta.events.register("before-call.dynamodb.*", fail)
    with pytest.raises(PipelineError):
        stack.fetch.run(IngestMessage(url="https://wire.example/bridge-vote"))
    # WHEN the message is delivered again
    copy = stack.ingest("https://wire.example/bridge-vote")
    # THEN the copy is linked to the original, not to its own half-written items
    record = stack.table.get(copy)
    assert record is not None
    assert (record.duplicate_of, record.cluster_id) == (original, original)
    assert [m.article_id for m in stack.index.cluster(original)] == [original, copy]
    # AND a later exact copy of it still finds the first owner of the text
    third = stack.ingest("https://third.example/bridge", SYNDICATED)
    assert stack.table.get(third).duplicate_of == copy  # type: ignore[union-attr]
    assert stack.table.get(third).cluster_id == original  # type: ignore[union-attr]


# --------------------------------------------------------------------------- versions

REVISED = STORY.replace("Atlantic Structures", "Bristol Marine Works of Bristol")
URL = "https://gazette.example/bridge"


def enrich_all(stack: Stack) -> dict[str, EnrichMessage]:
    handoffs = stack.handoffs()
    for message in handoffs.values():
        assert stack.enrich.run(message).outcome is Outcome.ENRICHED
    return handoffs


def entity_articles(stack: Stack, name: str) -> list[str]:
    response = stack.pipeline.dynamodb.query(
        TableName=stack.pipeline.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ENTITY#{name.casefold()}"}},
    )
    return [item["article_id"]["S"] for item in response["Items"]]


def test_an_unchanged_refetch_sends_the_validators_and_only_notes_the_check(stack: Stack) -> None:
    # GIVEN an enriched article
    article = stack.ingest(URL, STORY)
    enrich_all(stack)
    # WHEN it is re-fetched with force and the server answers 304 to the stored ETag
    result = stack.fetch.run(IngestMessage(url=URL, force=True))
    # THEN the GET was conditional, nothing new is stored, the item only gained checked_at
    assert stack.fetcher.conditional[-1]["If-None-Match"].startswith('"')
    assert result.outcome is Outcome.UNCHANGED
    record = stack.table.get(article)
    assert record is not None
    assert (record.status, record.version, record.checked_at is not None) == (
        ArticleStatus.ENRICHED,
        1,
        True,
    )
    assert len(stack.pipeline.keys("articles/")) == 1
    assert stack.handoffs() == {}


def test_a_changed_refetch_is_a_new_version_and_every_version_stays_in_s3(stack: Stack) -> None:
    # GIVEN an enriched article naming Atlantic Structures
    article = stack.ingest(URL, STORY)
    enrich_all(stack)
    assert entity_articles(stack, "Atlantic Structures") == [article]
    # WHEN the page changes (the firm is now Bristol Marine Works) and it is re-fetched
    stack.fetcher.serve(URL, REVISED)
    result = stack.fetch.run(IngestMessage(url=URL, force=True))
    enrich_all(stack)
    # THEN it is version 2, stored beside version 1 (parsed and enriched), the item on v2
    assert result.outcome is Outcome.FETCHED
    day = "dt=2026-11-20"
    assert stack.pipeline.keys("articles/") == [
        f"articles/{day}/{article}.json",
        f"articles/{day}/{article}.v2.json",
    ]
    assert stack.pipeline.keys("enriched/") == [
        f"enriched/{day}/{article}.json",
        f"enriched/{day}/{article}.v2.json",
    ]
    record = stack.table.get(article)
    assert record is not None
    assert (record.status, record.version) == (ArticleStatus.ENRICHED, 2)
    assert record.enriched_key == f"enriched/{day}/{article}.v2.json"
    assert [(v.version, v.enriched_key) for v in record.versions] == [
        (1, f"enriched/{day}/{article}.json"),
        (2, f"enriched/{day}/{article}.v2.json"),
    ]
    # AND the entity index follows the latest version
    assert entity_articles(stack, "Atlantic Structures") == []
    assert entity_articles(stack, "Bristol") == [article]


@pytest.mark.parametrize("operation", ["UpdateItem", "SendMessage"])
def test_a_retry_in_the_middle_of_a_version_write_converges(stack: Stack, operation: str) -> None:
    # GIVEN an enriched article whose page changed
    article = stack.ingest(URL, STORY)
    enrich_all(stack)
    stack.fetcher.serve(URL, REVISED)
    # WHEN the version write fails once: recording the item, or handing it to enrichment
    fail = FailOnce(operation)
    client = stack.pipeline.dynamodb if operation == "UpdateItem" else stack.pipeline.sqs
    service = "dynamodb" if operation == "UpdateItem" else "sqs"
    client.meta.events.register(f"before-call.{service}.*", fail)
    with pytest.raises(PipelineError):
        stack.fetch.run(IngestMessage(url=URL, force=True))
    # AND the message is delivered again
    stack.fetch.run(IngestMessage(url=URL, force=True))
    enrich_all(stack)
    # THEN there is one version 2 (not 3), enriched, with its history
    record = stack.table.get(article)
    assert record is not None
    assert (record.status, record.version) == (ArticleStatus.ENRICHED, 2)
    assert [v.version for v in record.versions] == [1, 2]
    assert len(stack.pipeline.keys("articles/")) == 2


def test_a_late_enrichment_of_an_old_version_leaves_the_item_on_the_newest(stack: Stack) -> None:
    # GIVEN version 1 fetched (its enrich message pending) and version 2 fetched and enriched
    article = stack.ingest(URL, STORY)
    first = stack.handoffs()[article]
    stack.fetcher.serve(URL, REVISED)
    stack.fetch.run(IngestMessage(url=URL, force=True))
    enrich_all(stack)
    # WHEN version 1's enrich message arrives late
    result = stack.enrich.run(first)
    # THEN its document is stored, and the item and entity index stay on version 2
    assert result.outcome is Outcome.ENRICHED
    record = stack.table.get(article)
    assert record is not None and record.version == 2
    assert record.enriched_key is not None and record.enriched_key.endswith(".v2.json")
    assert entity_articles(stack, "Atlantic Structures") == []


# --------------------------------------------------------------------------- reading it back


@pytest.fixture
def run_cli(stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """`newsflow ...` against the moto table (the target is the only thing replaced)."""
    pipeline = stack.pipeline
    target = SimpleNamespace(
        output={"ArticlesTableName": pipeline.table, "ArticlesBucketName": pipeline.bucket}.get,
        client={"dynamodb": pipeline.dynamodb, "s3": pipeline.s3}.get,
        description=SimpleNamespace(stack_name="test-stack", functions=[]),
    )
    monkeypatch.setattr(cli, "_target", lambda *args, **kwargs: target)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> list[dict[str, Any]]:
        result = CliRunner().invoke(cli.app, list(args))
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

    return run


def test_duplicates_and_list_cluster_show_every_member(stack: Stack, run_cli: Any) -> None:
    # GIVEN a story, its wire copy and an unrelated article on the same topic
    original = stack.ingest(URL, STORY)
    near = stack.ingest("https://wire.example/bridge-vote", SYNDICATED)
    stack.ingest("https://ferries.example/bridge-fears", SAME_TOPIC)
    # WHEN the cluster is asked for by the copy's URL, and listed by its id
    by_url = run_cli("duplicates", "https://wire.example/bridge-vote", "--json")
    listed = run_cli("list", "--cluster", original, "--json")
    # THEN both give the original first, then the copy with its similarity
    for rows in (by_url, listed):
        assert [row["article_id"] for row in rows] == [original, near]
        assert rows[1]["duplicate_kind"] == "near" and rows[1]["similarity"] >= 0.5
        assert {row["cluster_id"] for row in rows} == {original}
    # AND the table view names the kind of copy
    result = CliRunner().invoke(cli.app, ["duplicates", original])
    assert result.exit_code == 0 and "near" in result.stdout and "original" in result.stdout


def test_get_versions_lists_every_stored_version(stack: Stack, run_cli: Any) -> None:
    # GIVEN an article fetched, then changed and re-fetched
    article = stack.ingest(URL, STORY)
    stack.fetcher.serve(URL, REVISED)
    stack.fetch.run(IngestMessage(url=URL, force=True))
    # WHEN its versions are asked for
    result = CliRunner().invoke(cli.app, ["get", URL, "--versions"])
    # THEN both are listed, oldest first, each with its own documents
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout)
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["article_key"].endswith(f"{article}.json")
    assert history[1]["article_key"].endswith(f"{article}.v2.json")


def test_the_polite_fetcher_passes_the_validators_through(stack: Stack) -> None:
    # GIVEN the fetch stage behind the politeness wrapper the function uses
    polite = PoliteFetcher(
        fetcher=stack.fetcher,
        pacer=HostPacer(HostGate(stack.pipeline.table, stack.pipeline.dynamodb)),
        robots=None,
    )
    stage = FetchStage(
        fetcher=polite,
        parse=parse_text,
        documents=DocumentStore(stack.pipeline.bucket, stack.pipeline.s3),
        table=stack.table,
        enrich_queue=MessageQueue(stack.pipeline.enrich_queue_url, stack.pipeline.sqs),
        clock=TickingClock(),
    )
    stack.fetcher.serve(URL, STORY)
    stage.run(IngestMessage(url=URL))
    # WHEN the article is re-fetched
    result = stage.run(IngestMessage(url=URL, force=True))
    # THEN the GET carried the stored ETag and the 304 left the article as it was
    assert stack.fetcher.conditional[-1].get("If-None-Match")
    assert result.outcome is Outcome.UNCHANGED
