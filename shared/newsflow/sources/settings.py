"""The poll and schedule functions' environment, validated once per container."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from newsflow.sources.polling import PollLimits


class PollSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    ARTICLES_TABLE: str = Field(min_length=1)
    INGEST_QUEUE_URL: str = Field(min_length=1)
    FIRST_POLL_MAX_ENTRIES: Annotated[int, Field(ge=0, le=10_000)] = 20
    SEEN_TTL_DAYS: Annotated[int, Field(ge=1, le=3650)] = 30
    MAX_SITEMAP_DEPTH: Annotated[int, Field(ge=1, le=5)] = 2
    MAX_CHILD_SITEMAPS: Annotated[int, Field(ge=0, le=1000)] = 20
    MAX_CONTENT_BYTES: Annotated[int, Field(gt=0)] = 5 * 1024 * 1024

    def limits(self) -> PollLimits:
        return PollLimits(
            first_poll_max_entries=self.FIRST_POLL_MAX_ENTRIES,
            seen_ttl=timedelta(days=self.SEEN_TTL_DAYS),
            max_sitemap_depth=self.MAX_SITEMAP_DEPTH,
            max_child_sitemaps=self.MAX_CHILD_SITEMAPS,
            max_document_bytes=self.MAX_CONTENT_BYTES,
        )


class ScheduleSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    ARTICLES_TABLE: str = Field(min_length=1)
    SOURCE_POLL_QUEUE_URL: str = Field(min_length=1)
    POLL_LEASE_SECONDS: Annotated[
        int, Field(ge=60, description="A queued source is not queued again for this long.")
    ] = 900


@lru_cache(maxsize=1)
def get_poll_settings() -> PollSettings:
    return PollSettings.model_validate(os.environ)


@lru_cache(maxsize=1)
def get_schedule_settings() -> ScheduleSettings:
    return ScheduleSettings.model_validate(os.environ)
