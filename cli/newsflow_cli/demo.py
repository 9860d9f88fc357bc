"""`newsflow demo`: the whole pipeline on the local stack, end to end, and its account.

Every input line ends as exactly one record: ``ENRICHED``, ``FAILED`` (including lines rejected
at intake, which never reach the queue) or ``DEAD_LETTER`` (still in a DLQ after the queues
drained; its failure is the article's retry note, the answer ``newsflow dlq`` gives too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from newsflow.errors import Stage
from newsflow.models import ArticleRecord, ArticleStatus
from newsflow.storage import ArticleQueries
from newsflow_cli import dead_letters, intake
from newsflow_cli.poller import BatchOutcome, DrainReport, Poller
from newsflow_cli.targets import Target

DEAD_LETTER = "DEAD_LETTER"
DRAIN_TIMEOUT_SECONDS = 300.0


@dataclass
class DemoRecord:
    url: str
    canonical_url: str | None
    article_id: str | None
    status: str
    failure: dict[str, str] | None = None
    title: str | None = None
    language: str | None = None
    sentiment: dict[str, Any] | None = None
    language_supported: bool | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    duplicate_of: str | None = None  # article_id of the original it copies
    cluster_id: str | None = None  # shared by every copy of one story

    def as_json(self) -> dict[str, Any]:
        """The record shape scripts rely on (docs/CLI.md: `newsflow demo --json`)."""
        return {
            "url": self.url,
            "canonical_url": self.canonical_url,
            "article_id": self.article_id,
            "status": self.status,
            "failure": self.failure,
            "title": self.title,
            "language": self.language,
            "sentiment": self.sentiment,
            "language_supported": self.language_supported,
            "entities": self.entities,
            "duplicate_of": self.duplicate_of,
            "cluster_id": self.cluster_id,
        }


@dataclass
class DemoResult:
    records: list[DemoRecord]
    drain: DrainReport
    pushed: int
    rejected: int
    dead_letters: dict[str, int]  # DLQ url -> messages

    def counts(self) -> dict[str, int]:
        totals = {ArticleStatus.ENRICHED.value: 0, ArticleStatus.FAILED.value: 0, DEAD_LETTER: 0}
        for record in self.records:
            totals[record.status] = totals.get(record.status, 0) + 1
        return totals


def _from_article(line: intake.IntakeLine, article: ArticleRecord) -> DemoRecord:
    keys = {
        name: value
        for name, value in (
            ("raw", article.raw_key),
            ("article", article.article_key),
            ("enriched", article.enriched_key),
        )
        if value
    }
    return DemoRecord(
        url=line.line,
        canonical_url=line.canonical_url,
        article_id=line.article_id,
        status=article.status.value,
        failure=(
            {"stage": article.failure.stage.value, "reason": article.failure.reason.value}
            if article.failure
            else None
        ),
        title=article.title,
        language=article.language,
        sentiment=article.sentiment.model_dump(mode="json") if article.sentiment else None,
        language_supported=article.language_supported,
        entities=[entity.model_dump(mode="json") for entity in article.top_entities],
        keys=keys,
        duplicate_of=article.duplicate_of,
        cluster_id=article.cluster_id,
    )


def _dead_letters(target: Target) -> tuple[dict[str, tuple[str, str]], dict[str, int]]:
    """DLQ messages by id as (body, function), and how many messages each DLQ holds."""
    sqs = target.client("sqs")
    messages: dict[str, tuple[str, str]] = {}
    counts: dict[str, int] = {}
    for queue in dead_letters.dead_letter_queues(sqs, target.description):
        report = dead_letters.peek(sqs, queue, limit=1000)
        counts[queue.dlq_url] = report.approximate_count
        for message in report.messages:
            messages[message.message_id] = (message.body, queue.function)
    return messages, counts


def _stage_of(function: str, target: Target) -> str:
    try:
        return target.description.function(function).short_name
    except KeyError:
        return function


def account(
    target: Target, lines: list[intake.IntakeLine]
) -> tuple[list[DemoRecord], dict[str, int]]:
    """One record per input line, read back from the table and the DLQs."""
    table = ArticleQueries(target.output("ArticlesTableName"), target.client("dynamodb"))
    dlq_messages, dlq_counts = _dead_letters(target)
    records = []
    for line in lines:
        if not line.accepted:
            records.append(_failed_line(line, Stage.INTAKE, str(line.reason)))
            continue
        assert line.article_id is not None
        article = table.record(line.article_id)
        # The pushed message itself, or a later stage's message about this article.
        dead_id = line.message_id if line.message_id in dlq_messages else None
        if dead_id is None and (article is None or article.status == ArticleStatus.FETCHED):
            dead_id = next(
                (
                    mid
                    for mid, (body, _) in dlq_messages.items()
                    if _is_about(body, line.article_id)
                ),
                None,
            )
        if dead_id is not None:
            note = table.retry_note(line.article_id)
            failure = (
                {"stage": note.failure.stage.value, "reason": note.failure.reason.value}
                if note
                else {"stage": _stage_of(dlq_messages[dead_id][1], target), "reason": "unknown"}
            )
            records.append(_dead(line, article, failure))
        elif article is not None:
            records.append(_from_article(line, article))
        else:
            # Drained, not stored, not dead-lettered: say so rather than invent a status.
            records.append(_failed_line(line, Stage.FETCH, "not_processed"))
    return records, dlq_counts


def _failed_line(line: intake.IntakeLine, stage: Stage, reason: str) -> DemoRecord:
    """A line that never became an article item: FAILED at ``stage`` for ``reason``."""
    return DemoRecord(
        url=line.line,
        canonical_url=line.canonical_url,
        article_id=line.article_id,
        status=ArticleStatus.FAILED.value,
        failure={"stage": stage.value, "reason": reason},
    )


def _is_about(body: str, article_id: str) -> bool:
    """Whether a dead letter concerns this article: an enrich message names it; an ingest
    message re-sent by the fetch stage (a deferral) carries its URL instead."""
    return dead_letters.article_id_of(body) == article_id


def _dead(
    line: intake.IntakeLine, article: ArticleRecord | None, failure: dict[str, str]
) -> DemoRecord:
    if article is not None:
        record = _from_article(line, article)
    else:
        record = DemoRecord(
            url=line.line,
            canonical_url=line.canonical_url,
            article_id=line.article_id,
            status=DEAD_LETTER,
        )
    record.status = DEAD_LETTER
    record.failure = failure
    return record


def run_demo(
    target: Target,
    lines: list[str],
    *,
    on_batch: Callable[[BatchOutcome], None] | None = None,
    poller: Poller | None = None,
    timeout: float = DRAIN_TIMEOUT_SECONDS,
) -> DemoResult:
    """Push ``lines`` to the stack's IngestQueue, run the functions until drained, account."""
    checked = intake.push(target.client("sqs"), target.output("IngestQueueUrl"), lines)
    poller = poller or target.poller()
    previous = poller.on_batch
    poller.on_batch = on_batch or previous
    try:
        drain = poller.run_until_drained(timeout=timeout)
    finally:
        poller.on_batch = previous
    records, dlq_counts = account(target, checked)
    return DemoResult(
        records=records,
        drain=drain,
        pushed=sum(1 for line in checked if line.accepted),
        rejected=sum(1 for line in checked if not line.accepted),
        dead_letters=dlq_counts,
    )


def records_json(records: list[DemoRecord]) -> str:
    return json.dumps([record.as_json() for record in records], indent=2, ensure_ascii=False)
