"""How the CLI's tables look: one row per result, long values cut to a fixed width.

A title, URL or error detail can be kilobytes long (a producer's URL, a scraped headline, an
exception message); folded into a table cell it would push every other row off the screen.
Table cells are cut here, with an ellipsis; ``--json`` output is never cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from newsflow.storage import EntityMention

TITLE_WIDTH = 60
URL_WIDTH = 60
DETAIL_WIDTH = 80
BODY_WIDTH = 100
ELLIPSIS = "…"
NOT_ANALYSED = "language not analysed"
"""How an article enriched without analysis (no backend for its language) is labelled."""


def clip(value: object, width: int) -> str:
    """``value`` as one line of at most ``width`` characters (cut ones end with an ellipsis)."""
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def articles_table(rows: Iterable[Mapping[str, Any]]) -> Table:
    """``newsflow list``: one article item a row."""
    rows = list(rows)
    view = Table(title=f"{len(rows)} articles")
    for column in ("article_id", "status", "published", "title", "url"):
        view.add_column(column, overflow="fold")
    for row in rows:
        failure = row.get("failure")
        status_text = str(row.get("status") or "")
        if isinstance(failure, Mapping) and failure.get("reason"):
            status_text += f" ({failure.get('reason')})"
        elif row.get("language_supported") is False:
            status_text += f" ({NOT_ANALYSED})"
        view.add_row(
            str(row.get("article_id") or ""),
            status_text,
            str(row.get("published") or ""),
            clip(row.get("title"), TITLE_WIDTH),
            clip(row.get("url"), URL_WIDTH),
        )
    return view


def mentions_table(name: str, mentions: Iterable[EntityMention]) -> Table:
    """``newsflow entity``: one mentioning article a row."""
    view = Table(title=f"articles mentioning {clip(name, TITLE_WIDTH)}")
    for column in ("type", "published", "count", "sentiment", "title", "article_id"):
        view.add_column(column, overflow="fold")
    for mention in mentions:
        sentiment = mention.sentiment
        view.add_row(
            mention.type,
            str(mention.published or ""),
            str(mention.count),
            f"{sentiment.label} {sentiment.score:+.2f}" if sentiment else "",
            clip(mention.title, TITLE_WIDTH),
            mention.article_id,
        )
    return view
