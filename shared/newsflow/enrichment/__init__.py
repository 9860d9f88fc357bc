"""Entities and sentiment for article text: local spaCy + VADER, Amazon Comprehend, or ``auto``.

    >>> enricher = get_enricher("local")          # loads the model once per process
    >>> result = enricher.enrich(text)           # newsflow.models.Enrichment

Both backends return the same :class:`~newsflow.models.Enrichment` shape and share one
aggregation (:mod:`newsflow.enrichment.aggregation`): distinct entities with character offsets
into ``text``, salience and per-entity sentiment, plus document sentiment. Backends are imported
lazily, so a Comprehend deployment never imports spaCy.
"""

from __future__ import annotations

import threading
from typing import Any

from newsflow.enrichment.base import Enricher

BACKENDS = ("local", "comprehend", "auto")

__all__ = ["BACKENDS", "Enricher", "get_enricher"]

_instances: dict[tuple[str, tuple[tuple[str, Any], ...]], Enricher] = {}
_lock = threading.Lock()


def get_enricher(backend: str = "local", **options: Any) -> Enricher:
    """The process-wide enricher for ``backend`` and ``options`` (built on first use).

    ``"local"`` accepts ``max_chars`` (characters analysed per text); ``"comprehend"`` accepts
    ``client`` (a boto3 Comprehend client; default ``boto3.client("comprehend")``),
    ``max_document_bytes`` and ``sentiment_chunk_chars``; ``"auto"`` (route by language, see
    :mod:`newsflow.enrichment.routing`) accepts the options of both and passes each its own.
    Option values must be hashable.
    Raises :class:`ValueError` for an unknown backend name.
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"unknown enrichment backend {backend!r}; valid backends: {', '.join(BACKENDS)}"
        )
    key = (backend, tuple(sorted(options.items())))
    with _lock:
        enricher = _instances.get(key)
        if enricher is None:
            enricher = _build(backend, options)
            _instances[key] = enricher
        return enricher


_LOCAL_OPTIONS = frozenset({"max_chars"})


def _build(backend: str, options: dict[str, Any]) -> Enricher:
    if backend == "auto":
        from newsflow.enrichment.routing import RoutingEnricher

        local = {k: v for k, v in options.items() if k in _LOCAL_OPTIONS}
        remote = {k: v for k, v in options.items() if k not in _LOCAL_OPTIONS}
        return RoutingEnricher(
            local=lambda: get_enricher("local", **local),
            comprehend=lambda: get_enricher("comprehend", **remote),
        )
    if backend == "local":
        from newsflow.enrichment.local import LocalEnricher

        return LocalEnricher(**options)
    from newsflow.enrichment.comprehend import ComprehendEnricher

    return ComprehendEnricher(**options)
