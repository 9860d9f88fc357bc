"""The report's figures, computed from the rows the reader returned (pure, no AWS).

Every figure carries the command that shows where it comes from, so a reader can check it.
Fields that other features add to article items (``duplicate_of``, ``cluster_id``, ``source``,
``fetch_ms``, a ``null`` sentiment for a language the backend does not handle) are optional:
a section whose data is absent is left out, never an error.
"""

from __future__ import annotations

import heapq
import shlex
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from statistics import fmean
from typing import Any

from pydantic import BaseModel, Field

from newsflow.urls import domain_of
from newsflow_cli.report.reading import ReadStats, StreamSnapshot, days_between

TOP_ENTITIES = 15
TOP_HOSTS = 10
TOP_CLUSTERS = 10
ENTITY_LINKS = 20
_ALL = 100_000  # --limit for commands that list every row


class Figure(BaseModel):
    """One number and the command that shows where it comes from."""

    label: str
    value: int
    command: str


class Average(BaseModel):
    label: str
    articles: int
    average: float
    command: str


class FailureFigure(Figure):
    stage: str
    reason: str
    example: str = ""


class ArticleLink(BaseModel):
    title: str
    url: str
    article_id: str
    sentiment: float | None = None


class EntityFigure(BaseModel):
    name: str
    type: str
    mentions: int
    articles: int
    average_sentiment: float | None
    command: str
    links: list[ArticleLink] = Field(default_factory=list)


class HostFigure(BaseModel):
    domain: str
    articles: int
    failed: int
    median_fetch_ms: int | None = None
    slowest_fetch_ms: int | None = None
    command: str


class SourceFigure(BaseModel):
    """A feed or sitemap: what it brought in the range, and how its polling goes."""

    source_id: str
    url: str
    kind: str | None = None
    articles: int
    pushed: int = 0
    last_success_at: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    command: str


class ClusterFigure(BaseModel):
    cluster_id: str
    size: int
    titles: list[str]
    command: str


class StreamReport(BaseModel):
    """Everything the HTML page shows; also what ``newsflow report --json`` prints."""

    since: date
    until: date
    generated_at: datetime
    stack: str
    articles: int
    per_day: list[Figure]
    per_domain: list[Figure]
    outcomes: list[Figure]
    failures: list[FailureFigure]
    languages: list[Figure]
    not_analysed: Figure | None = None
    entities: list[EntityFigure]
    sentiment_by_domain: list[Average]
    sentiment_by_day: list[Average]
    clusters: list[ClusterFigure]
    duplicates: Figure | None = None
    sources: list[Figure]
    source_items: list[SourceFigure] = Field(default_factory=list)
    slowest_hosts: list[HostFigure]
    failing_hosts: list[HostFigure]
    reads: ReadStats


@dataclass(frozen=True)
class Commands:
    """The CLI commands that trace each figure back to the stack."""

    bucket: str
    since: date
    until: date | None = None  # the report's last day; None: up to now
    stack: str | None = None  # --stack for a deployed stack; None: the running local stack
    endpoint_url: str | None = None  # the local stack's endpoint, for the AWS CLI

    def _newsflow(self, *args: str) -> str:
        words = ["newsflow", *args, *(["--stack", self.stack] if self.stack else [])]
        return shlex.join(words)

    def _range(self) -> list[str]:
        """The report's days as ``newsflow list`` options, so a command counts only them."""
        return ["--since", str(self.since), *(["--until", str(self.until)] if self.until else [])]

    def listing(self, pattern: str | None = None, *, status: str | None = None) -> str:
        args = ["list", *(["--status", status] if status else [])]
        command = self._newsflow(*args, *self._range(), "--limit", str(_ALL), "--json")
        if pattern is None:
            return f"{command} | wc -l"
        return f"{command} | grep -c {shlex.quote(pattern)}"

    def day(self, day: str, prefix: str = "articles") -> str:
        endpoint = f" --endpoint-url {self.endpoint_url}" if self.endpoint_url else ""
        return f"aws s3 ls s3://{self.bucket}/{prefix}/dt={day}/{endpoint} | wc -l"

    def domain(self, domain: str) -> str:
        return self._newsflow(
            "list", "--domain", domain, *self._range(), "--limit", str(_ALL), "--json"
        )

    def status(self, status: str) -> str:
        return self.listing(status=status)

    def field(self, name: str, value: str) -> str:
        return self.listing(f'"{name}": "{value}"')

    def reason(self, reason: str) -> str:
        return self.listing(f'"reason": "{reason}"', status="FAILED")

    def entity(self, name: str) -> str:
        return self._newsflow("entity", name, "--json")

    def dead_letters(self) -> str:
        return self._newsflow("dlq")

    def cluster(self, cluster_id: str) -> str:
        return self._newsflow("list", "--cluster", cluster_id, "--json")

    def sources(self) -> str:
        return self._newsflow("sources", "list")


def summarise(
    snapshot: StreamSnapshot,
    commands: Commands,
    *,
    stack: str,
    entity_reader: Callable[[str], list[dict[str, Any]]] | None = None,
    now: datetime | None = None,
) -> StreamReport:
    """All figures of one snapshot; ``entity_reader`` reads the top entities' index rows."""
    articles = {row["article_id"]: row for row in snapshot.articles}
    failures = {row["article_id"]: row for row in snapshot.failures}
    everything = _merged(articles, failures)
    scored = [row for row in everything if _score(row) is not None]
    entities = _entities(articles.values(), commands, entity_reader)
    hosts = _hosts(everything, commands)
    clusters, duplicates = _clusters(everything, commands)
    not_analysed = sum(1 for row in articles.values() if _not_analysed(row))
    return StreamReport(
        since=snapshot.since,
        until=snapshot.until,
        generated_at=now or datetime.now(UTC),
        stack=stack,
        articles=len(everything),
        per_day=_per_day(snapshot, articles.values(), commands),
        per_domain=_counted(everything, "domain", commands.domain),
        outcomes=_outcomes(everything, snapshot, commands),
        failures=_failures(failures.values(), commands),
        languages=_counted(everything, "language", lambda v: commands.field("language", v)),
        not_analysed=Figure(
            label="ENRICHED without sentiment (language not handled by the backend)",
            value=not_analysed,
            command=commands.listing('"language_supported": false', status="ENRICHED"),
        )
        if not_analysed
        else None,
        entities=entities,
        sentiment_by_domain=_averages(
            scored, lambda row: row.get("domain"), lambda v: commands.field("domain", v)
        ),
        sentiment_by_day=sorted(
            _averages(scored, _day_of, commands.day, top=None), key=lambda a: a.label
        ),
        clusters=clusters,
        duplicates=duplicates,
        sources=_counted(everything, "source", lambda v: commands.field("source", v)),
        source_items=_source_items(snapshot.sources, everything, commands),
        slowest_hosts=heapq.nlargest(
            TOP_HOSTS,
            (h for h in hosts if h.median_fetch_ms is not None),
            key=lambda h: h.median_fetch_ms or 0,
        ),
        failing_hosts=heapq.nlargest(
            TOP_HOSTS, (h for h in hosts if h.failed), key=lambda h: (h.failed, h.articles)
        ),
        reads=snapshot.stats,
    )


def _merged(
    articles: dict[str, dict[str, Any]], failures: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Article items plus failures that never got a document (their domain from the URL)."""
    rows = list(articles.values())
    for article_id, failure in failures.items():
        if article_id in articles:
            continue
        row = {**failure, "status": "FAILED"}
        if not row.get("domain") and row.get("url"):
            row["domain"] = domain_of(str(row["url"]))
        rows.append(row)
    return rows


def _not_analysed(row: dict[str, Any]) -> bool:
    """Enriched without analysis: no backend handles its language (older items: no sentiment)."""
    if row.get("status") != "ENRICHED":
        return False
    if "language_supported" in row:
        return row["language_supported"] is False
    return not row.get("sentiment")


def _score(row: dict[str, Any]) -> float | None:
    sentiment = row.get("sentiment")
    if isinstance(sentiment, dict) and isinstance(sentiment.get("score"), int | float):
        return float(sentiment["score"])
    return None


def _day_of(row: dict[str, Any]) -> str | None:
    key = str(row.get("article_key") or "")
    if "/dt=" in key:
        return key.split("/dt=", 1)[1][:10]
    stamp = str(row.get("created_at") or row.get("failed_at") or "")
    return stamp[:10] or None


def _per_day(
    snapshot: StreamSnapshot, articles: Iterable[dict[str, Any]], commands: Commands
) -> list[Figure]:
    counts = Counter(_day_of(row) for row in articles)
    return [
        Figure(label=day, value=counts.get(day, 0), command=commands.day(day))
        for day in (d.isoformat() for d in days_between(snapshot.since, snapshot.until))
    ]


def _counted(
    rows: Iterable[dict[str, Any]],
    attribute: str,
    command: Callable[[str], str],
    top: int | None = 20,
) -> list[Figure]:
    counts = Counter(str(row[attribute]) for row in rows if row.get(attribute))
    return [
        Figure(label=value, value=count, command=command(value))
        for value, count in counts.most_common(top)
    ]


def _outcomes(
    rows: list[dict[str, Any]], snapshot: StreamSnapshot, commands: Commands
) -> list[Figure]:
    statuses = Counter(str(row.get("status") or "unknown") for row in rows)
    figures = [
        Figure(label=status, value=statuses.get(status, 0), command=commands.status(status))
        for status in ("ENRICHED", "FAILED", "FETCHED")
        if statuses.get(status) or status != "FETCHED"
    ]
    dead = sum(snapshot.dead_letters.values())
    figures.append(Figure(label="dead letters (now)", value=dead, command=commands.dead_letters()))
    for day, count in sorted(snapshot.rejected_by_day.items()):
        figures.append(
            Figure(
                label=f"rejected bodies {day}", value=count, command=commands.day(day, "rejected")
            )
        )
    return figures


def _failures(rows: Iterable[dict[str, Any]], commands: Commands) -> list[FailureFigure]:
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    for row in rows:
        stored = row.get("failure")
        failure: dict[str, Any] = stored if isinstance(stored, dict) else {}
        key = (str(failure.get("stage") or "?"), str(failure.get("reason") or "?"))
        counts[key] += 1
        examples.setdefault(key, str(failure.get("detail") or "")[:160])
    return [
        FailureFigure(
            label=f"{stage} / {reason}",
            value=count,
            stage=stage,
            reason=reason,
            example=examples[(stage, reason)],
            command=commands.reason(reason),
        )
        for (stage, reason), count in counts.most_common()
    ]


def _entities(
    articles: Iterable[dict[str, Any]],
    commands: Commands,
    entity_reader: Callable[[str], list[dict[str, Any]]] | None,
) -> list[EntityFigure]:
    """Top entities by mentions and the average tone of the articles that mention them.

    Both come from the article items already read; the entity index is asked only for the
    newest articles to link to (a bounded read, however often the entity is mentioned).
    """
    mentions: Counter[str] = Counter()
    in_articles: Counter[str] = Counter()
    types: dict[str, str] = {}
    tones: dict[str, list[float]] = defaultdict(list)
    for row in articles:
        tone = _score(row)
        for entity in row.get("top_entities") or []:
            if not isinstance(entity, dict) or not entity.get("text"):
                continue
            name = str(entity["text"])
            mentions[name] += int(entity.get("count") or 1)
            in_articles[name] += 1
            types.setdefault(name, str(entity.get("type") or ""))
            if tone is not None:
                tones[name].append(tone)
    figures = []
    for name, count in mentions.most_common(TOP_ENTITIES):
        rows = entity_reader(name) if entity_reader else []
        links = [
            ArticleLink(
                title=str(row.get("title") or row.get("url") or row.get("article_id") or ""),
                url=str(row.get("url") or ""),
                article_id=str(row.get("article_id") or ""),
                sentiment=_score(row),
            )
            for row in rows
        ]
        scores = tones.get(name, [])
        figures.append(
            EntityFigure(
                name=name,
                type=types[name],
                mentions=count,
                articles=in_articles[name],
                average_sentiment=round(fmean(scores), 3) if scores else None,
                command=commands.entity(name),
                links=links[:ENTITY_LINKS],
            )
        )
    return figures


def _averages(
    rows: Iterable[dict[str, Any]],
    group: Callable[[dict[str, Any]], Any],
    command: Callable[[str], str],
    top: int | None = 20,
) -> list[Average]:
    scores: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        label, score = group(row), _score(row)
        if label and score is not None:
            scores[str(label)].append(score)
    ordered = sorted(scores.items(), key=lambda item: -len(item[1]))
    return [
        Average(
            label=label,
            articles=len(values),
            average=round(fmean(values), 3),
            command=command(label),
        )
        for label, values in (ordered if top is None else ordered[:top])
    ]


def _hosts(rows: Iterable[dict[str, Any]], commands: Commands) -> list[HostFigure]:
    totals: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    timings: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        domain = str(row.get("domain") or "")
        if not domain:
            continue
        totals[domain] += 1
        if row.get("status") == "FAILED":
            failed[domain] += 1
        if isinstance(row.get("fetch_ms"), int | float):
            timings[domain].append(int(row["fetch_ms"]))
    hosts = []
    for domain, count in totals.items():
        times = sorted(timings.get(domain, []))
        hosts.append(
            HostFigure(
                domain=domain,
                articles=count,
                failed=failed[domain],
                median_fetch_ms=times[len(times) // 2] if times else None,
                slowest_fetch_ms=times[-1] if times else None,
                command=commands.field("domain", domain),
            )
        )
    return hosts


def _clusters(
    rows: Iterable[dict[str, Any]], commands: Commands
) -> tuple[list[ClusterFigure], Figure | None]:
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    duplicates = 0
    for row in rows:
        if row.get("duplicate_of"):
            duplicates += 1
        if row.get("cluster_id"):
            members[str(row["cluster_id"])].append(row)
    shared = [(cid, group) for cid, group in members.items() if len(group) > 1]
    clusters = [
        ClusterFigure(
            cluster_id=cid,
            size=len(group),
            titles=[str(r.get("title") or r.get("url") or "") for r in group[:5]],
            command=commands.cluster(cid),
        )
        for cid, group in heapq.nlargest(TOP_CLUSTERS, shared, key=lambda item: len(item[1]))
    ]
    figure = (
        Figure(
            label="articles marked as a duplicate of another",
            value=duplicates,
            command=commands.listing('"duplicate_of": "'),
        )
        if duplicates
        else None
    )
    return clusters, figure


def _source_items(
    sources: list[dict[str, Any]], rows: list[dict[str, Any]], commands: Commands
) -> list[SourceFigure]:
    in_range = Counter(str(row["source"]) for row in rows if row.get("source"))
    figures = []
    for source in sources:
        error = source.get("last_error") if isinstance(source.get("last_error"), dict) else None
        figures.append(
            SourceFigure(
                source_id=str(source.get("source_id")),
                url=str(source.get("url")),
                kind=source.get("kind"),
                articles=in_range.get(str(source.get("source_id")), 0),
                pushed=int(source.get("pushed") or 0),
                last_success_at=source.get("last_success_at"),
                consecutive_failures=int(source.get("consecutive_failures") or 0),
                last_error=f"{error.get('reason')}: {error.get('detail')}" if error else None,
                command=commands.sources(),
            )
        )
    return sorted(figures, key=lambda f: (-f.articles, f.source_id))
