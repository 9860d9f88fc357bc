"""Settings as models of the environment, validated once per container.

Domain code receives these objects; only the ``get_*_settings`` functions read ``os.environ``.
A missing or malformed variable fails the cold start with a message naming it, instead of a
``KeyError`` deep inside a record.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_USER_AGENT = "newsflow/0.1 (article ingestion; set USER_AGENT to add a contact URL)"


class FetchPolicy(BaseModel):
    """Rules for downloading untrusted URLs (docs/ARCHITECTURE.md, "Safe fetching")."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

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
    model_config = ConfigDict(extra="ignore", frozen=True)

    ARTICLES_BUCKET: str = Field(min_length=1)
    ARTICLES_TABLE: str = Field(min_length=1)
    ENRICH_QUEUE_URL: str = Field(min_length=1)


class EnrichSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    ARTICLES_BUCKET: str = Field(min_length=1)
    ARTICLES_TABLE: str = Field(min_length=1)
    ENRICH_BACKEND: Literal["local", "comprehend", "auto"] = "local"
    MIN_WORDS: Annotated[int, Field(ge=1, description="Shorter texts fail permanently.")] = 20
    MAX_ENTITY_ITEMS: Annotated[
        int, Field(ge=0, description="Entity index items written per article.")
    ] = 25


@lru_cache(maxsize=1)
def get_fetch_settings() -> FetchSettings:
    return FetchSettings.model_validate(os.environ)


@lru_cache(maxsize=1)
def get_fetch_policy() -> FetchPolicy:
    return FetchPolicy.model_validate(os.environ)


@lru_cache(maxsize=1)
def get_enrich_settings() -> EnrichSettings:
    return EnrichSettings.model_validate(os.environ)
