"""One spaCy-backed enricher for the whole session (loading the model costs about a second), and
a Comprehend client with botocore's Stubber (moto does not implement the batch calls)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from newsflow.enrichment import Enricher, get_enricher


@pytest.fixture(scope="session")
def local_enricher() -> Enricher:
    return get_enricher("local")


@pytest.fixture
def client() -> Any:
    return boto3.client("comprehend", region_name="us-east-1")


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()
