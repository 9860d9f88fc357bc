"""Settings as models of the environment, validated once per container.

Domain code receives these objects; only the ``get_*_settings`` functions read ``os.environ``.
A missing or malformed variable fails the cold start with a message naming it, instead of a
``KeyError`` deep inside a record.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_USER_AGENT = "newsflow/0.1 (article ingestion; set USER_AGENT to add a contact URL)"

# CPU seconds one page may cost the parser (decode, tree, extraction, metadata) before it fails
# for good with ``too_complex`` (``newsflow.parse_bounds``). Real pages parse in ~35 ms (median)
# and well under a second at worst; the fetch function's Timeout arithmetic counts this per record.
PARSE_BUDGET_SECONDS: Final = 5.0


class FetchPolicy(BaseModel):
    """Rules for downloading untrusted URLs (docs/ARCHITECTURE.md, "Safe fetching")."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, defer_build=True)

    user_agent: Annotated[str, Field(alias="USER_AGENT", min_length=1)] = DEFAULT_USER_AGENT
    timeout_seconds: Annotated[
        float, Field(alias="FETCH_TIMEOUT_SECONDS", gt=0, le=120, description="Total deadline.")
    ] = 20.0
    connect_timeout_seconds: Annotated[float, Field(alias="CONNECT_TIMEOUT_SECONDS", gt=0)] = 5.0
    max_content_bytes: Annotated[
        int, Field(alias="MAX_CONTENT_BYTES", gt=0, description="Cap on decompressed bytes.")
    ] = 5 * 1024 * 1024
    max_redirects: Annotated[int, Field(alias="MAX_REDIRECTS", ge=0, le=10)] = 5
    allowed_ports: Annotated[frozenset[int], Field(alias="ALLOWED_PORTS")] = frozenset({80, 443})
    allow_loopback: Annotated[bool, Field(alias="NEWSFLOW_ALLOW_LOOPBACK")] = False

    @field_validator("allowed_ports", mode="before")
    @classmethod
    def _split_ports(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(",", " ").split())
        return value


class FetchSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    ARTICLES_BUCKET: str = Field(min_length=1)
    ARTICLES_TABLE: str = Field(min_length=1)
    ENRICH_QUEUE_URL: str = Field(min_length=1)


# Fewer words than this (newsflow.text.count_words) is too little text to enrich.
MIN_ENRICH_WORDS: Final = 20
# Entity index items per article by default: the most salient entities, what an article is about.
MAX_ENTITY_ITEMS: Final = 5


class EnrichSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    ARTICLES_BUCKET: str = Field(min_length=1)
    ARTICLES_TABLE: str = Field(min_length=1)
    ENRICH_BACKEND: Literal["local", "comprehend", "auto"] = "local"
    MIN_WORDS: Annotated[int, Field(ge=1, description="Shorter texts fail permanently.")] = (
        MIN_ENRICH_WORDS
    )
    MAX_ENTITY_ITEMS: Annotated[
        int,
        Field(
            ge=0,
            description="Entity index items written per article: its most salient entities "
            "(`newsflow entity NAME` finds the articles about NAME; the enriched document keeps "
            "every entity). Each is one write unit per article.",
        ),
    ] = MAX_ENTITY_ITEMS


@lru_cache(maxsize=1)
def get_fetch_settings() -> FetchSettings:
    return FetchSettings.model_validate(os.environ)


@lru_cache(maxsize=1)
def get_fetch_policy() -> FetchPolicy:
    return FetchPolicy.model_validate(os.environ)


@lru_cache(maxsize=1)
def get_enrich_settings() -> EnrichSettings:
    return EnrichSettings.model_validate(os.environ)


FULL_VCPU_MEMORY_MB = 1769  # Lambda gives one full vCPU at this memory size


class PolitenessSettings(BaseModel):
    """How the fetch function treats the hosts it fetches from, and how it spends its time
    (docs/HARDENING.md, "A batch never outlives its function")."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    HOST_REQUESTS_PER_SECOND: Annotated[
        float, Field(gt=0, le=100, description="Requests per second to one host, all containers.")
    ] = 1.0
    HOST_MAX_WAIT_SECONDS: Annotated[
        float, Field(ge=0, le=30, description="Longest in-function wait for a host's slot.")
    ] = 5.0
    ROBOTS_TIMEOUT_SECONDS: Annotated[
        float, Field(gt=0, le=60, description="Deadline of one robots.txt fetch.")
    ] = 10.0
    RESPECT_ROBOTS: bool = True
    MAX_DEFERRALS: Annotated[
        int, Field(ge=0, le=100, description="Deferrals before FAILED host_unavailable.")
    ] = 8
    FETCH_CONCURRENCY: Annotated[
        int, Field(ge=1, le=50, description="Records of one batch fetched at once.")
    ] = 10
    STORE_MARGIN_SECONDS: Annotated[
        float, Field(ge=0, le=60, description="Time kept for the writes after parsing.")
    ] = 5.0
    INGEST_QUEUE_URL: str | None = None  # where deferred records are re-sent
    # Set by Lambda: CPU comes in proportion to memory (a full vCPU at 1,769 MB), so a parse
    # budget in CPU seconds takes longer in wall-clock time below that size.
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: Annotated[int, Field(ge=128)] = 1769

    @property
    def cpu_share(self) -> float:
        """The share of one vCPU the function has (at most 1: the work is single-threaded)."""
        return min(1.0, self.AWS_LAMBDA_FUNCTION_MEMORY_SIZE / FULL_VCPU_MEMORY_MB)


@lru_cache(maxsize=1)
def get_politeness_settings() -> PolitenessSettings:
    return PolitenessSettings.model_validate(os.environ)
