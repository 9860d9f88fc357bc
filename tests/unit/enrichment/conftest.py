"""One spaCy-backed enricher for the whole session: loading the model costs about a second."""

from __future__ import annotations

import pytest

from newsflow.enrichment import Enricher, get_enricher


@pytest.fixture(scope="session")
def local_enricher() -> Enricher:
    return get_enricher("local")
