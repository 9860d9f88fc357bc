"""get_enricher: one instance per backend and options, clear errors for unknown names."""

from __future__ import annotations

import boto3
import pytest

from newsflow.enrichment import Enricher, get_enricher
from newsflow.enrichment.comprehend import ComprehendEnricher


def test_local_enricher_is_built_once_per_process(local_enricher: Enricher) -> None:
    # GIVEN the session's local enricher / WHEN asked for again / THEN the same instance returns
    assert get_enricher("local") is local_enricher
    assert get_enricher() is local_enricher
    assert local_enricher.backend == "local"


def test_comprehend_enricher_is_cached_per_client() -> None:
    # GIVEN two Comprehend clients
    first = boto3.client("comprehend", region_name="us-east-1")
    second = boto3.client("comprehend", region_name="us-east-1")
    # WHEN enrichers are requested for them
    a, b, c = (
        get_enricher("comprehend", client=first),
        get_enricher("comprehend", client=first),
        get_enricher("comprehend", client=second),
    )
    # THEN one instance per client is built, each a Comprehend enricher
    assert a is b
    assert a is not c
    assert isinstance(a, ComprehendEnricher)
    assert isinstance(c, Enricher)
    assert a.backend == "comprehend"


def test_unknown_backend_names_the_valid_ones() -> None:
    # GIVEN a misspelt backend / WHEN requested / THEN the error lists the valid names
    with pytest.raises(ValueError, match="local, comprehend"):
        get_enricher("spacy")
