"""Where each document lives in the bucket: the Athena partition contract.

``<prefix>/dt=YYYY-MM-DD/<article_id><suffix>``: the Glue tables project partitions on ``dt``,
so every writer and reader of the bucket builds and parses keys here and nowhere else.
"""

from __future__ import annotations

import re
from datetime import date, datetime

RAW_PREFIX = "raw"
ARTICLES_PREFIX = "articles"
ENRICHED_PREFIX = "enriched"
REJECTED_PREFIX = "rejected"

_DT_IN_KEY = re.compile(r"/dt=(\d{4}-\d{2}-\d{2})/")


def partition_day(moment: datetime | date) -> str:
    return moment.strftime("%Y-%m-%d")


def document_key(prefix: str, article_id: str, day: datetime | date, suffix: str = ".json") -> str:
    """``<prefix>/dt=YYYY-MM-DD/<article_id><suffix>``: Athena partitions by ``dt``."""
    return f"{prefix}/dt={partition_day(day)}/{article_id}{suffix}"


def day_of_key(key: str) -> date | None:
    """The partition day of a stored key, so a rewrite lands in the same partition."""
    match = _DT_IN_KEY.search(key)
    return date.fromisoformat(match.group(1)) if match else None


def version_stem(article_id: str, version: int) -> str:
    """The object name of one version: ``<article_id>`` for the first, ``<article_id>.v<n>``
    after it, so every version's raw, parsed and enriched documents stay side by side in the
    partition (``dt=``) of the article's first fetch."""
    return article_id if version <= 1 else f"{article_id}.v{version}"
