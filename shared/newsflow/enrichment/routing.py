"""Backend ``auto``: each text goes to the best backend for its language.

* the local model (spaCy + VADER) for the languages it has: English, and text whose language
  cannot be decided (very short, no hint), analysed as English as the local backend does;
* Amazon Comprehend for the other languages it documents for both entity and sentiment
  detection (:data:`newsflow.enrichment.comprehend.SUPPORTED_LANGUAGES`);
* nothing for the rest: an empty result with ``language_supported`` false and the reason, which
  the enrich stage stores as an ENRICHED article (never a failure).

Each backend is built on first use, so a stream with no English never loads the spaCy model and
an English-only stream never builds a Comprehend client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from newsflow import __version__
from newsflow.enrichment.base import Enricher, require_text, resolve_language, unsupported
from newsflow.enrichment.comprehend import SUPPORTED_LANGUAGES as COMPREHEND_LANGUAGES
from newsflow.enrichment.local import SUPPORTED_LANGUAGES as LOCAL_LANGUAGES
from newsflow.models import Enrichment

ROUTED_LANGUAGES = LOCAL_LANGUAGES | COMPREHEND_LANGUAGES
"""Languages ``auto`` analyses; any other language is stored without analysis."""


class RoutingEnricher:
    """Routes by language between a local and a Comprehend enricher, both built lazily."""

    backend: str = "auto"

    def __init__(
        self, *, local: Callable[[], Enricher], comprehend: Callable[[], Enricher]
    ) -> None:
        self._factories = {"local": local, "comprehend": comprehend}
        self._built: dict[str, Enricher] = {}
        self._lock = threading.Lock()
        self.model = f"auto-{__version__}"

    @staticmethod
    def route(language: str | None) -> str | None:
        """``"local"``, ``"comprehend"`` or ``None`` (no backend) for a resolved language."""
        if language is None or language in LOCAL_LANGUAGES:
            return "local"
        if language in COMPREHEND_LANGUAGES:
            return "comprehend"
        return None

    def enrich(self, text: str, language: str | None = None) -> Enrichment:
        require_text(text)
        resolved = resolve_language(text, language)
        route = self.route(resolved)
        if route is None:
            return unsupported(self.backend, self.model, resolved)
        return self._backend(route).enrich(text, resolved)

    def _backend(self, name: str) -> Enricher:
        with self._lock:
            enricher = self._built.get(name)
            if enricher is None:
                enricher = self._factories[name]()
                self._built[name] = enricher
            return enricher
