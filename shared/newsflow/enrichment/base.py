"""What every backend shares: the :class:`Enricher` protocol and the input guards."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from newsflow import __version__
from newsflow.errors import PermanentError, Reason, Stage
from newsflow.language import detect_language
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


def normalise_language(code: str | None) -> str | None:
    """ISO 639-1 code from a tag such as ``en-US`` or ``EN``; Chinese keeps ``zh-TW`` apart."""
    if not code or not code.strip():
        return None
    parts = code.strip().replace("_", "-").lower().split("-")
    primary = parts[0]
    if primary == "zh" and any(p in {"tw", "hk", "mo", "hant"} for p in parts[1:]):
        return "zh-TW"
    return primary


def resolve_language(text: str, language: str | None) -> str | None:
    """The caller's language if given, else the detected one (``None`` when undecidable)."""
    return normalise_language(language) or normalise_language(detect_language(text))


def unsupported(backend: str, model: str) -> Enrichment:
    """The result for a language the backend cannot analyse: nothing rather than noise."""
    return Enrichment(
        entities=[],
        sentiment=None,
        enrichment=EnrichmentInfo(
            backend=backend, model=model, version=__version__, language_supported=False
        ),
    )
