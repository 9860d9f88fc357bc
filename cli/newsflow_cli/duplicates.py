"""Reading duplicates and versions back: ``newsflow duplicates``, ``list --cluster``,
``get --versions``.

A cluster is one Query of its ``CLUSTER#<id>`` items (first member first), each joined with its
article item for the status; versions are the ``versions`` history of the article item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.table import Table

from newsflow_cli.views import clip

if TYPE_CHECKING:
    from newsflow.storage import ArticleQueries
    from newsflow.storage.fingerprints import FingerprintIndex

TITLE_WIDTH = 50
URL_WIDTH = 60


def cluster_id_of(article: Mapping[str, Any]) -> str:
    """The article's cluster: its ``cluster_id``, or its own id (fetched before clustering)."""
    return str(article.get("cluster_id") or article["article_id"])


def cluster_rows(
    queries: ArticleQueries, index: FingerprintIndex, cluster_id: str
) -> list[dict[str, Any]]:
    """Every member of a cluster as a ``list`` row, with how it relates to the original."""
    rows = []
    for member in index.cluster(cluster_id):
        row = queries.article(member.article_id) or {
            "article_id": member.article_id,
            "url": member.url,
            "title": member.title,
        }
        row.update(
            cluster_id=member.cluster_id,
            duplicate_of=member.duplicate_of,
            duplicate_kind=member.duplicate_kind,
            similarity=member.similarity,
        )
        rows.append(row)
    return rows


def cluster_table(cluster_id: str, rows: Iterable[Mapping[str, Any]]) -> Table:
    """``newsflow duplicates``: the original first, then each copy and how close it is."""
    rows = list(rows)
    view = Table(title=f"cluster {cluster_id}: {len(rows)} articles")
    for column in ("article_id", "copy", "similarity", "status", "title", "url"):
        view.add_column(column, overflow="fold")
    for row in rows:
        similarity = row.get("similarity")
        view.add_row(
            str(row.get("article_id") or ""),
            str(row.get("duplicate_kind") or "original"),
            f"{similarity:.2f}" if isinstance(similarity, int | float) else "",
            str(row.get("status") or ""),
            clip(row.get("title"), TITLE_WIDTH),
            clip(row.get("url"), URL_WIDTH),
        )
    return view


def versions_of(article: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored versions, oldest first (an article fetched before versions: just one)."""
    history = article.get("versions")
    if isinstance(history, list) and history:
        return [dict(entry) for entry in history if isinstance(entry, Mapping)]
    return [
        {
            "version": article.get("version", 1),
            "article_key": article.get("article_key"),
            "enriched_key": article.get("enriched_key"),
            "fetched_at": article.get("updated_at"),
        }
    ]
