"""Fixture pages for the extraction tests: original pages written for this project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

ArticlePage = Callable[..., str]


@pytest.fixture
def page() -> Callable[[str], bytes]:
    """The bytes of a fixture page, exactly as a server would send them."""

    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return read


@pytest.fixture
def paragraphs() -> str:
    """Two paragraphs of plain English news prose."""
    return (
        "<p>The harbour committee met on Thursday to agree the winter timetable for the island "
        "ferry, which will run four crossings a day instead of six from November.</p>"
        "<p>Islanders asked the operator to keep the early crossing for commuters and pupils, "
        "and the committee agreed to review the timetable again after Christmas.</p>"
    )


@pytest.fixture
def article_page() -> ArticlePage:
    """Build a small but complete article page around a body (tests state what they vary)."""

    def build(body: str, head: str = "", lang: str = "en") -> str:
        return (
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}'
            "<title>Test page</title></head><body>"
            '<nav><a href="/">Home</a> <a href="/news/">News</a></nav>'
            f"<article>{body}</article>"
            "<footer>Contact - Privacy</footer></body></html>"
        )

    return build
