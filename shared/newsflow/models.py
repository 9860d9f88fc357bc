"""Pydantic models for every message, document and record that crosses a boundary.

The DynamoDB item shape lives in ``newsflow.storage`` and is mapped explicitly from
:class:`ArticleRecord`; nothing here knows about AWS.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.json_limits import json_structure_problem


class ArticleStatus(StrEnum):
    FETCHED = "FETCHED"
    ENRICHED = "ENRICHED"
    FAILED = "FAILED"


class _Model(BaseModel):
    # Each schema is built on first use, not at import: a cold start pays only for the models its
    # function uses (the fetch function never builds the enrichment models). build_models builds
    # them ahead of records that run in threads.
    model_config = ConfigDict(extra="ignore", frozen=False, defer_build=True)


def build_models(*models: type[BaseModel]) -> None:
    """Build these models' deferred schemas now, in the calling thread.

    A deferred model is built by its first use; pydantic does not guard that build against two
    threads using the model first at the same moment, so a function whose records run in
    threads builds the models they use before the threads start.
    """
    for model in models:
        model.model_rebuild()


# --------------------------------------------------------------------------- messages


class IngestMessage(_Model):
    """What producers put on IngestQueue: a bare URL string or this JSON object."""

    model_config = ConfigDict(extra="forbid")

    # Any non-empty text: whether it is a usable URL is ``newsflow.urls.parse_url``'s call, made
    # by the fetch stage, so an unusable URL ends as a FAILED article (stage intake, reason
    # invalid_url) with the same detail ``newsflow push`` prints, not as a rejected message.
    url: Annotated[
        str, Field(min_length=1, description="The article URL as given by the producer.")
    ]
    source: Annotated[str | None, Field(max_length=256, description="Free-form producer name.")] = (
        None
    )
    force: Annotated[bool, Field(description="Re-fetch even if already stored.")] = False
    defer_count: Annotated[
        int,
        Field(ge=0, le=1000, description="Times the fetch stage deferred it (host not ready)."),
    ] = 0
    refresh_step: Annotated[
        int | None,
        Field(ge=0, le=100, description="Which step of the refresh policy this re-fetch is."),
    ] = None
    refresh_due: Annotated[
        datetime | None, Field(description="A refresh is not fetched before this time.")
    ] = None
    metadata: dict[str, str] = Field(
        default_factory=dict, max_length=32, description="Opaque producer metadata (<= 32 keys)."
    )

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if any(len(k) > 128 or len(v) > 1024 for k, v in value.items()):
            raise ValueError("metadata keys must be <= 128 and values <= 1024 characters")
        return value


def parse_ingest_body(body: str | None) -> IngestMessage:
    """Read an IngestQueue body: a bare URL, or JSON ``{"url": ...}``, maybe inside an envelope.

    Producers that cannot shape the SQS body themselves wrap it: an SNS subscription with raw
    message delivery off sends a notification whose ``Message`` is the body; an EventBridge rule
    sends the event, whose ``detail`` is ``{"url": ...}`` (or the URL). Each envelope is checked
    with Powertools' model of it, so a half-formed one is rejected with a reason that names it.
    Raises :class:`PermanentError` (``invalid_message``) for a body that holds no URL at all, so a
    bad message is rejected once and never retried.
    """
    return _parse_ingest_text(body, envelopes=())


# EventBridge -> SNS -> SQS is the deepest chain a producer builds; more is a loop or a mistake.
MAX_ENVELOPES = 2


def _parse_ingest_text(body: str | None, *, envelopes: tuple[str, ...]) -> IngestMessage:
    text = (body or "").strip()
    if not text:
        raise _invalid_message("empty message body", envelopes)
    if text[0] not in '{["':
        # A bare body is taken as one URL; whether it *is* a usable URL is the URL rules' call,
        # so prose still becomes a FAILED article item with reason ``invalid_url``.
        return IngestMessage(url=text)
    problem = json_structure_problem(text)
    if problem is not None:
        raise _invalid_message(problem, envelopes)
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise _invalid_message(f"body is not valid JSON: {exc}", envelopes) from exc
    if isinstance(payload, str):
        payload = {"url": payload}
    if not isinstance(payload, dict):
        raise _invalid_message(
            f"JSON body must be an object with a 'url', got {type(payload).__name__}", envelopes
        )
    unwrapped = _unwrap_envelope(payload, envelopes)
    if unwrapped is not None:
        return unwrapped
    try:
        return IngestMessage.model_validate(payload)
    except ValidationError as exc:
        raise _invalid_message(_summarise(exc), envelopes) from exc


def _unwrap_envelope(payload: dict[str, Any], envelopes: tuple[str, ...]) -> IngestMessage | None:
    """The message inside an SNS or EventBridge envelope, or None when ``payload`` is not one."""
    if payload.get("Type") == "Notification" or {"TopicArn", "Message"} <= payload.keys():
        kind, inner_key = "an SNS notification", "Message"
    elif "detail-type" in payload or {"detail", "source"} <= payload.keys():
        kind, inner_key = "an EventBridge event", "detail"
    else:
        return None
    if len(envelopes) >= MAX_ENVELOPES:
        raise _invalid_message(f"more than {MAX_ENVELOPES} envelopes", envelopes)
    # Imported here: the parser's models cost ~0.2 s of cold start, and most bodies are bare.
    from aws_lambda_powertools.utilities.parser.models import (
        EventBridgeModel,
        SnsNotificationModel,
    )

    inner = payload.get(inner_key)
    checked = dict(payload)  # the SNS model renames keys of the dict it is given
    if inner_key == "detail" and isinstance(inner, str):
        checked["detail"] = {}  # a URL as the detail: the model only knows object details
    model: type[BaseModel] = SnsNotificationModel if inner_key == "Message" else EventBridgeModel
    try:
        model.model_validate(checked)
    except ValidationError as exc:
        raise _invalid_message(
            f"malformed envelope: {_summarise(exc).removeprefix('invalid message: ')}",
            (*envelopes, kind),
        ) from exc
    return _parse_ingest_text(
        inner if isinstance(inner, str) else json.dumps(inner), envelopes=(*envelopes, kind)
    )


def _invalid_message(detail: str, envelopes: tuple[str, ...]) -> PermanentError:
    """``invalid_message`` at intake; the detail says which envelopes the body was found in."""
    where = "".join(f" (in {kind})" for kind in reversed(envelopes))
    return PermanentError(Reason.INVALID_MESSAGE, detail + where, stage=Stage.INTAKE)


def _summarise(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "invalid message: " + "; ".join(parts)


class EnrichMessage(_Model):
    """What the fetch stage hands to EnrichQueue: where the parsed document lives."""

    article_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
    bucket: Annotated[str, Field(min_length=1)]
    key: Annotated[str, Field(min_length=1)]
    reuse_enrichment_of: Annotated[
        str | None,
        Field(
            max_length=64,
            pattern=r"^[0-9a-f]+$",
            description="An exact copy: reuse this article's enrichment if it has one.",
        ),
    ] = None


def parse_enrich_body(body: str | None) -> EnrichMessage:
    """Read an EnrichQueue body; anything else is a permanent ``invalid_message``."""
    problem = json_structure_problem(body or "")
    if problem is not None:
        raise PermanentError(
            Reason.INVALID_MESSAGE, f"not an enrich message: {problem}", stage=Stage.ENRICH
        )
    try:
        return EnrichMessage.model_validate_json(body or "")
    except ValidationError as exc:
        raise PermanentError(
            Reason.INVALID_MESSAGE, f"not an enrich message: {_summarise(exc)}", stage=Stage.ENRICH
        ) from exc


# --------------------------------------------------------------------------- documents


class ExtractorInfo(_Model):
    name: str = "trafilatura"
    version: str


class ParsedArticle(_Model):
    """The parsed document stored at ``articles/dt=…/<article_id>.json``.

    ``parse_html`` fills the content fields; the fetch stage adds where and when it came from
    (those fields are ``None`` for a document parsed offline without a URL).
    """

    url: Annotated[str | None, Field(description="URL as given by the producer.")] = None
    final_url: Annotated[str | None, Field(description="URL after redirects.")] = None
    canonical_url: str | None = None
    article_id: str | None = None
    domain: str | None = None
    title: str | None = None
    author: str | None = None
    published: Annotated[date | None, Field(description="Publication date.")] = None
    site_name: str | None = None
    language: Annotated[str | None, Field(description="ISO 639-1 code of the text's language.")] = (
        None
    )
    description: str | None = None
    image: str | None = None
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    text: Annotated[str, Field(description="The article body as plain text.")]
    word_count: int = 0
    fetched_at: datetime | None = None
    extractor: ExtractorInfo
    truncated: Annotated[
        list[str], Field(description="Fields cut to their length limit (docs/HARDENING.md).")
    ] = Field(default_factory=list)
    duplicate_of: Annotated[
        str | None, Field(description="article_id of the earlier article this one repeats.")
    ] = None
    cluster_id: Annotated[
        str | None, Field(description="Shared by every copy of one story: its first article_id.")
    ] = None
    version: Annotated[int, Field(ge=1, description="1, then one more per changed re-fetch.")] = 1


class Mention(_Model):
    start: Annotated[int, Field(ge=0, description="Character offset into the document text.")]
    end: Annotated[int, Field(ge=0)]
    text: str


SentimentLabel = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]


class SentimentScores(_Model):
    positive: float = 0.0
    negative: float = 0.0
    neutral: float = 0.0
    mixed: float = 0.0


class Sentiment(_Model):
    label: SentimentLabel
    score: Annotated[float, Field(ge=-1.0, le=1.0, description="-1 (negative) .. 1 (positive)")]
    scores: SentimentScores = Field(default_factory=SentimentScores)


class Entity(_Model):
    text: Annotated[str, Field(description="Canonical surface form.")]
    type: Annotated[str, Field(description="PERSON, ORGANIZATION, LOCATION, EVENT, WORK, ...")]
    count: int
    salience: Annotated[float, Field(ge=0.0, le=1.0)]
    mentions: list[Mention] = Field(default_factory=list)
    sentiment: Sentiment | None = None


class EnrichmentInfo(_Model):
    backend: str
    model: str
    version: str
    language_supported: bool
    reason: Annotated[
        str | None,
        Field(description="Why the text was not analysed (language_supported false), else None."),
    ] = None


class Enrichment(_Model):
    entities: list[Entity] = Field(default_factory=list)
    sentiment: Sentiment | None = None
    enrichment: EnrichmentInfo


class EnrichedArticle(ParsedArticle):
    """The document stored at ``enriched/dt=…/<article_id>.json``."""

    entities: list[Entity] = Field(default_factory=list)
    sentiment: Sentiment | None = None
    enrichment: EnrichmentInfo


# --------------------------------------------------------------------------- records


class Failure(_Model):
    stage: Stage
    reason: Reason
    detail: str
    http_status: int | None = None


class TopEntity(_Model):
    text: str
    type: str
    count: int
    salience: float


class ArticleVersion(_Model):
    """One stored version of an article: its documents stay in S3 under versioned keys."""

    version: int
    article_key: str
    enriched_key: str | None = None
    text_sha256: str | None = None
    fetched_at: datetime


class ArticleRecord(_Model):
    """The article as tracked in DynamoDB (domain view; see storage for the item shape)."""

    article_id: str
    url: str
    canonical_url: str | None = None
    domain: str | None = None
    status: ArticleStatus
    failure: Failure | None = None
    title: str | None = None
    author: str | None = None
    published: date | None = None
    language: str | None = None
    word_count: int | None = None
    sentiment: Sentiment | None = None
    language_supported: Annotated[
        bool | None,
        Field(description="False: enriched without analysis (no backend for its language)."),
    ] = None
    top_entities: list[TopEntity] = Field(default_factory=list)
    raw_key: str | None = None
    article_key: str | None = None
    enriched_key: str | None = None
    content_sha256: str | None = None
    text_sha256: Annotated[
        str | None, Field(description="SHA-256 of the whitespace-normalised extracted text.")
    ] = None
    duplicate_of: str | None = None
    duplicate_kind: Annotated[
        Literal["exact", "near"] | None,
        Field(description="exact: same text, enrichment reused; near: similar, enriched."),
    ] = None
    similarity: Annotated[
        float | None, Field(description="Shingle Jaccard similarity to duplicate_of.")
    ] = None
    cluster_id: str | None = None
    version: int = 1
    versions: Annotated[
        list[ArticleVersion], Field(description="The latest versions, oldest first.")
    ] = Field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    checked_at: Annotated[
        datetime | None, Field(description="Last re-fetch that found the page unchanged.")
    ] = None
    source: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    fetch_ms: Annotated[
        int | None, Field(ge=0, description="How long the last download took, in milliseconds.")
    ] = None
    attempts: int = 0
    handoff_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    truncated: Annotated[
        list[str], Field(description="Attributes cut to their length limit (docs/HARDENING.md).")
    ] = Field(default_factory=list)

    @classmethod
    def fetched(
        cls,
        document: ParsedArticle,
        *,
        article_id: str,
        url: str,
        canonical_url: str,
        article_key: str,
        created_at: datetime,
        updated_at: datetime,
        **fields: Any,
    ) -> ArticleRecord:
        """The FETCHED item of a parsed document: its metadata copied in one place."""
        return cls(
            article_id=article_id,
            url=url,
            canonical_url=canonical_url,
            domain=document.domain,
            status=ArticleStatus.FETCHED,
            title=document.title,
            author=document.author,
            published=document.published,
            language=document.language,
            word_count=document.word_count,
            article_key=article_key,
            truncated=document.truncated,
            created_at=created_at,
            updated_at=updated_at,
            **fields,
        )


def as_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
