"""What every backend shares: the :class:`Enricher` protocol and the input guards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from newsflow import __version__
from newsflow.enrichment.aggregation import (
    RawMention,
    ScoredSegment,
    aggregate_sentiment,
    build_entities,
)
from newsflow.errors import PermanentError, Reason, Stage
from newsflow.language import detect_language, normalise_language_tag
from newsflow.models import Enrichment, EnrichmentInfo


@runtime_checkable
class Enricher(Protocol):
    """Entities and sentiment for one plain-text document.

    ``enrich`` raises :class:`~newsflow.errors.PermanentError` for input no retry can fix (empty
    text, a request the backend rejects) and :class:`~newsflow.errors.TransientError` for
    throttling and service faults. A language the backend cannot analyse is *not* an error: the
    result has no entities, no sentiment and ``enrichment.language_supported`` false, and the
    caller decides what that means for the article.
    """

    backend: str

    def enrich(self, text: str, language: str | None = None) -> Enrichment: ...


def require_text(text: str) -> None:
    """Empty or whitespace-only text can never be enriched."""
    if not text or not text.strip():
        raise PermanentError(
            Reason.TEXT_TOO_SHORT,
            "no text to enrich (empty or whitespace only)",
            stage=Stage.ENRICH,
        )


def resolve_language(text: str, language: str | None) -> str | None:
    """The caller's language if given, else the detected one (``None`` when undecidable).

    Traditional Chinese stays ``zh-TW``: Comprehend analyses it apart from ``zh``.
    """
    return normalise_language_tag(language, keep_traditional_chinese=True) or detect_language(text)


def _info(
    backend: str, model: str, *, language_supported: bool, reason: str | None = None
) -> EnrichmentInfo:
    return EnrichmentInfo(
        backend=backend,
        model=model,
        version=__version__,
        language_supported=language_supported,
        reason=reason,
    )


def analysis_result(
    backend: str,
    model: str,
    text: str,
    mentions: Sequence[RawMention],
    segments: Sequence[ScoredSegment],
) -> Enrichment:
    """The result of an analysis, aggregated the same way whichever backend found the parts."""
    return Enrichment(
        entities=build_entities(text, mentions, segments),
        sentiment=aggregate_sentiment(segments),
        enrichment=_info(backend, model, language_supported=True),
    )


def unsupported(backend: str, model: str, language: str | None = None) -> Enrichment:
    """The result for a language the backend cannot analyse: nothing rather than noise."""
    return Enrichment(
        entities=[],
        sentiment=None,
        enrichment=_info(
            backend,
            model,
            language_supported=False,
            reason=f"backend {backend!r} does not analyse language {language or 'unknown'!r}",
        ),
    )
