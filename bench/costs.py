"""Cost model: AWS list prices times what one article uses, scaled to a million articles.

Pure arithmetic, standard library only, so it can be tested on made-up numbers. The bench
measures the inputs (durations, calls, bytes, Comprehend units) and this module prices them.

Assumptions, stated where they are used:

* Lambda bills GB-seconds (memory x duration) plus requests; one invocation handles one SQS
  batch (``BatchSize`` records). The fetch function runs ``FETCH_CONCURRENCY`` records at once:
  their network waits overlap and their CPU work still adds up (``concurrent_duration_ms``);
  the enrich function runs its records one after another (batch duration = the sum). Lambda
  gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB; the CPU work is
  single-threaded (the GIL), so CPU-bound time measured on one full core is stretched by
  ``1769 / memory`` below that size and not shortened above it.
* SQS bills every API action (a batch of up to ten is one request). DynamoDB on-demand bills a
  write request unit per started KB of the item written (the larger of old and new image for an
  update, :func:`update_write_units`) plus one more write per global secondary index whose copy
  of the item appears, changes or goes (:class:`IndexShape`), and a read unit per started 4 KB
  of the whole item, half of it when eventually consistent (:func:`read_units`).
  ``bench.billing`` applies these rules to every call the stages make on moto.
* Amazon Comprehend bills entity and sentiment detection in units of 100 characters with a
  minimum of 3 units per document; every chunk of a batch call is one document. Volume tiers
  are counted per API (entities, sentiment) and per month, the cautious reading.
* ``EnrichBackend=auto`` sends English to the local model and the other languages Comprehend
  analyses to Comprehend (the rest is stored unanalysed, at most the local model's cost): its
  per-article usage and duration are the two backends' weighted by the stream's share of
  articles routed to Comprehend, and the Comprehend tiers apply to the units that share uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

MILLION = 1_000_000
FULL_VCPU_MEMORY_MB = 1769
COMPREHEND_UNIT_CHARS = 100
COMPREHEND_MIN_UNITS = 3
GB = 1024**3


@dataclass(frozen=True)
class Prices:
    """us-east-1 list prices in USD (assumptions: check the AWS pricing pages before use)."""

    taken: str = (
        "AWS public pricing pages for us-east-1 as published in 2025 (DynamoDB on-demand after "
        "its 1 November 2024 price reduction); free tiers ignored"
    )
    lambda_gb_second: float = 0.0000166667  # x86_64, first pricing tier
    lambda_request: float = 0.20 / MILLION
    sqs_request: float = 0.40 / MILLION  # standard queue, per 64 KB request
    s3_put: float = 0.005 / 1000  # S3 Standard PUT/COPY/POST/LIST
    s3_get: float = 0.0004 / 1000
    s3_gb_month: float = 0.023
    dynamodb_wru: float = 0.625 / MILLION  # on-demand write request unit
    dynamodb_rru: float = 0.125 / MILLION  # on-demand read request unit
    dynamodb_gb_month: float = 0.25
    dynamodb_pitr_gb_month: float = 0.20  # point-in-time recovery (on in the template)
    logs_gb_ingested: float = 0.50  # CloudWatch Logs ingestion
    # Comprehend NLP units (entities, sentiment): (units in this tier, price per unit).
    comprehend_tiers: tuple[tuple[float, float], ...] = (
        (10 * MILLION, 0.0001),
        (40 * MILLION, 0.00005),
        (math.inf, 0.000025),
    )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["comprehend_tiers"] = [
            {"units": "rest" if math.isinf(units) else units, "usd_per_unit": price}
            for units, price in self.comprehend_tiers
        ]
        return data


@dataclass(frozen=True)
class Latencies:
    """Waits that a loopback benchmark cannot measure, in ms (assumptions for the AWS runs)."""

    web_fetch_ms: float = 300.0  # a remote news page: DNS, TCP, TLS, first byte, body
    s3_put_ms: float = 20.0
    s3_get_ms: float = 15.0
    dynamodb_ms: float = 6.0
    sqs_send_ms: float = 8.0
    comprehend_call_ms: float = 200.0  # one BatchDetect* call of up to 25 documents


def cpu_scale(memory_mb: int) -> float:
    """How much slower single-threaded CPU work runs at ``memory_mb`` than on a full core."""
    return max(1.0, FULL_VCPU_MEMORY_MB / memory_mb)


def lambda_duration_ms(cpu_ms: float, memory_mb: int, waits_ms: float = 0.0) -> float:
    """Billed duration of one record: CPU-bound time stretched by memory, plus I/O waits."""
    return cpu_ms * cpu_scale(memory_mb) + waits_ms


def concurrent_duration_ms(
    cpu_ms: float, memory_mb: int, waits_ms: float, *, concurrency: int, batch_size: int
) -> float:
    """Billed duration per record when a batch runs ``concurrency`` records at a time: the CPU
    work of the records still adds up (the GIL, one core), their waits overlap."""
    overlap = max(1, min(concurrency, batch_size))
    return cpu_ms * cpu_scale(memory_mb) + waits_ms / overlap


def comprehend_units(chunk_chars: Iterable[int]) -> int:
    """Billed units for documents of these lengths: ceil(chars/100), at least 3 each."""
    return sum(
        max(COMPREHEND_MIN_UNITS, math.ceil(chars / COMPREHEND_UNIT_CHARS)) for chars in chunk_chars
    )


def tiered_cost(units: float, tiers: Sequence[tuple[float, float]]) -> float:
    """Price of ``units`` in a month under volume tiers ``(units in tier, price per unit)``."""
    cost = 0.0
    left = units
    for size, price in tiers:
        used = min(left, size)
        cost += used * price
        left -= used
        if left <= 0:
            break
    return cost


def write_units(item_bytes: float) -> int:
    """On-demand write request units for writing one item of this size."""
    return max(1, math.ceil(item_bytes / 1024))


def strong_read_units(item_bytes: float) -> int:
    """On-demand read request units for one strongly consistent read of this size."""
    return max(1, math.ceil(item_bytes / 4096))


def dynamodb_item_bytes(item: Mapping[str, Any]) -> int:
    """Approximate stored size of an item (DynamoDB's documented sizing rules).

    Attribute names count in UTF-8 bytes; strings in UTF-8 bytes; numbers about one byte per
    two significant digits plus one; booleans and nulls one byte; lists and maps three bytes
    plus one per element plus their contents.
    """
    return sum(len(name.encode("utf-8")) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, int | float):
        digits = len(str(value).lstrip("-").replace(".", "").lstrip("0")) or 1
        return 1 + math.ceil(digits / 2)
    if isinstance(value, Mapping):
        return 3 + sum(1 + len(str(k).encode("utf-8")) + _value_bytes(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(1 + _value_bytes(v) for v in value)
    return len(str(value).encode("utf-8"))


@dataclass(frozen=True)
class IndexShape:
    """A global secondary index: its key attributes and what it copies of an item."""

    name: str
    keys: tuple[str, ...]
    projected: tuple[str, ...] | None  # None: ALL

    def copy_of(self, item: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The index's copy of ``item`` (keys + projection), or ``None`` when it has none."""
        if item is None or any(key not in item for key in self.keys):
            return None
        if self.projected is None:
            return dict(item)
        wanted = {"pk", "sk", *self.keys, *self.projected}
        return {name: value for name, value in item.items() if name in wanted}

    def writes(self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> int:
        """Index writes one table write causes (0, 1, or 2 when the index key moves)."""
        old, new = self.copy_of(before), self.copy_of(after)
        if old == new:
            return 0
        if old is not None and new is not None:
            moved = any(old[key] != new[key] for key in self.keys)
            return 2 if moved else 1
        return 1


def index_shapes(table_properties: Mapping[str, Any]) -> list[IndexShape]:
    shapes = []
    for index in table_properties.get("GlobalSecondaryIndexes", []):
        projection = index.get("Projection", {})
        kind = projection.get("ProjectionType", "ALL")
        projected: tuple[str, ...] | None = None
        if kind == "KEYS_ONLY":
            projected = ()
        elif kind == "INCLUDE":
            projected = tuple(projection.get("NonKeyAttributes", []))
        shapes.append(
            IndexShape(
                name=str(index["IndexName"]),
                keys=tuple(str(k["AttributeName"]) for k in index["KeySchema"]),
                projected=projected,
            )
        )
    return shapes


def update_write_units(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> int:
    """Write request units of one write: the larger of the old and new item, per started KB
    (a delete bills the old item; a write of nothing, such as a failed condition, one unit)."""
    size = max(
        dynamodb_item_bytes(before) if before else 0, dynamodb_item_bytes(after) if after else 0
    )
    return write_units(size)


def read_units(item: Mapping[str, Any] | None, *, consistent: bool) -> float:
    """Read request units of reading this item (or a missing one): per started 4 KB of the
    whole item, whatever a projection returns; half when eventually consistent."""
    units = strong_read_units(dynamodb_item_bytes(item) if item else 0)
    return float(units) if consistent else units / 2


def sqs_requests_per_article(batch_size: int, producer_batch: int = 10) -> float:
    """SQS requests per article on both queues.

    IngestQueue: the producer's send (batched by ``producer_batch``), then Lambda's receive and
    delete per batch. EnrichQueue: one send per article from the fetch stage, then receive and
    delete per batch. Empty polls by the event source mapping while idle are not counted.
    """
    per_batch = 2 / batch_size  # one ReceiveMessage + one DeleteMessageBatch
    return 1 / producer_batch + per_batch + 1 + per_batch


@dataclass(frozen=True)
class FunctionLoad:
    """What one function costs per article: memory setting and billed duration."""

    name: str
    memory_mb: int
    duration_ms: float
    batch_size: int = 10


@dataclass(frozen=True)
class ArticleUsage:
    """Billable requests and bytes per article (not per batch)."""

    sqs_requests: float
    s3_puts: float
    s3_gets: float
    s3_bytes: float
    dynamodb_wru: float
    dynamodb_rru: float
    dynamodb_bytes: float
    log_bytes: float = 0.0
    comprehend_entity_units: float = 0.0
    comprehend_sentiment_units: float = 0.0


@dataclass
class CostBreakdown:
    articles: int
    lines: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return math.fsum(self.lines.values())

    def as_dict(self, digits: int = 2) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "usd": {name: round(value, digits) for name, value in self.lines.items()},
            "total_usd": round(self.total, digits),
        }


def lambda_lines(
    load: FunctionLoad, articles: int, prices: Prices
) -> tuple[tuple[str, float], tuple[str, float]]:
    gb_seconds = load.memory_mb / 1024 * load.duration_ms / 1000 * articles
    invocations = math.ceil(articles / load.batch_size)
    return (
        (f"lambda_{load.name}_compute", gb_seconds * prices.lambda_gb_second),
        (f"lambda_{load.name}_requests", invocations * prices.lambda_request),
    )


def pipeline_cost(
    *,
    articles: int,
    functions: Sequence[FunctionLoad],
    usage: ArticleUsage,
    prices: Prices,
    storage_months: float = 1.0,
) -> CostBreakdown:
    """Cost of ``articles`` through the pipeline, storage held for ``storage_months``."""
    breakdown = CostBreakdown(articles=articles)
    for load in functions:
        for name, value in lambda_lines(load, articles, prices):
            breakdown.lines[name] = value
    lines = breakdown.lines
    lines["sqs_requests"] = usage.sqs_requests * articles * prices.sqs_request
    lines["s3_requests"] = (
        usage.s3_puts * prices.s3_put + usage.s3_gets * prices.s3_get
    ) * articles
    lines["s3_storage"] = usage.s3_bytes * articles / GB * prices.s3_gb_month * storage_months
    lines["dynamodb_writes"] = usage.dynamodb_wru * articles * prices.dynamodb_wru
    lines["dynamodb_reads"] = usage.dynamodb_rru * articles * prices.dynamodb_rru
    lines["dynamodb_storage"] = (
        usage.dynamodb_bytes
        * articles
        / GB
        * (prices.dynamodb_gb_month + prices.dynamodb_pitr_gb_month)
        * storage_months
    )
    lines["cloudwatch_logs"] = usage.log_bytes * articles / GB * prices.logs_gb_ingested
    # Volume tiers counted per API and month (the cautious reading: no shared tier).
    if usage.comprehend_entity_units or usage.comprehend_sentiment_units:
        lines["comprehend_entities"] = tiered_cost(
            usage.comprehend_entity_units * articles, prices.comprehend_tiers
        )
        lines["comprehend_sentiment"] = tiered_cost(
            usage.comprehend_sentiment_units * articles, prices.comprehend_tiers
        )
    return breakdown


def routed(local: float, comprehend: float, comprehend_share: float) -> float:
    """A per-article figure for ``auto``: the backends' figures weighted by their share."""
    if not 0.0 <= comprehend_share <= 1.0:
        raise ValueError(f"comprehend_share must be within 0..1, got {comprehend_share}")
    return local * (1.0 - comprehend_share) + comprehend * comprehend_share


def routed_usage(
    local: ArticleUsage, comprehend: ArticleUsage, comprehend_share: float
) -> ArticleUsage:
    """Per-article usage of ``auto`` when ``comprehend_share`` of the articles go to Comprehend."""
    return ArticleUsage(
        **{
            item.name: routed(
                getattr(local, item.name), getattr(comprehend, item.name), comprehend_share
            )
            for item in fields(ArticleUsage)
        }
    )


@dataclass(frozen=True)
class PollUsage:
    """What one poll of a source uses (``newsflow.sources``; PollFunction, BatchSize 1).

    The schedule tick lists the sources (one Query of their partition, eventually consistent:
    half a read unit per started 4 KB) and claims each due one (a conditional UpdateItem) and
    queues it (SendMessageBatch, ten a request); the poll receives and deletes its message, reads
    the source (GetItem), writes it back (PutItem) and, only when the document changed, reads the
    seen items of its entries (BatchGetItem) and writes the new ones (BatchWriteItem) and sends
    their ingest messages (SendMessageBatch). A ``304 Not Modified`` costs no entry read or write.
    """

    duration_ms: float
    source_item_bytes: int
    memory_mb: int = 512
    entries_read: float = 0.0  # seen-item lookups per poll (0 when nothing changed)
    entries_written: float = 0.0  # new seen items per poll
    messages_pushed: float = 0.0  # ingest messages per poll
    log_bytes: float = 400.0  # one log line per poll


def poll_cost(polls: int, usage: PollUsage, prices: Prices) -> CostBreakdown:
    """Cost of ``polls`` source polls (a million by default in the bench)."""
    breakdown = CostBreakdown(articles=polls)
    lines = breakdown.lines
    gb_seconds = usage.memory_mb / 1024 * usage.duration_ms / 1000 * polls
    lines["lambda_poll_compute"] = gb_seconds * prices.lambda_gb_second
    lines["lambda_poll_requests"] = polls * prices.lambda_request
    source_wru = write_units(usage.source_item_bytes)
    source_rru = strong_read_units(usage.source_item_bytes)
    query_rru = usage.source_item_bytes / 4096 / 2  # the tick's share of its listing Query
    writes = 2 * source_wru + usage.entries_written  # claim + write-back + new seen items
    reads = source_rru + query_rru + usage.entries_read
    lines["dynamodb_writes"] = writes * polls * prices.dynamodb_wru
    lines["dynamodb_reads"] = reads * polls * prices.dynamodb_rru
    # tick's send (ten a request) + receive + delete, and the pushed entries' sends
    sqs = 1 / 10 + 2 + math.ceil(usage.messages_pushed / 10)
    lines["sqs_requests"] = sqs * polls * prices.sqs_request
    lines["cloudwatch_logs"] = usage.log_bytes * polls / GB * prices.logs_gb_ingested
    return breakdown
