"""Pages to measure: a corpus folder given on the command line, or the built-in sample.

A corpus is any folder of ``.html`` / ``.html.gz`` files (searched recursively). When it holds an
``evaldata.json`` in the trafilatura format (``{url: {"file": name, "with": [...],
"without": [...]}}``), the pages it names carry their URL and snippets and are scored; a file
named ``x.html`` in the annotations matches ``x.html`` or ``x.html.gz`` on disk.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

EVALDATA = "evaldata.json"
SAMPLE_PAGES = 40

T = TypeVar("T")


@dataclass
class Page:
    name: str
    html: bytes
    url: str | None = None
    expected: list[str] | None = None  # "with" snippets; None when the page is not annotated
    unwanted: list[str] = field(default_factory=list)

    @property
    def annotated(self) -> bool:
        return self.expected is not None


@dataclass
class Corpus:
    label: str  # what the docs may print: a folder name or "built-in sample", never a path
    pages: list[Page]

    @property
    def annotated(self) -> list[Page]:
        return [page for page in self.pages if page.annotated]


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _key(name: str) -> str:
    """A file name without ``.gz`` and ``.html``/``.htm``: annotations and disk may differ."""
    base = name.removesuffix(".gz")
    for suffix in (".html", ".htm"):
        if base.lower().endswith(suffix):
            return base[: -len(suffix)]
    return base


def _html_files(folder: Path, annotated: set[str]) -> list[Path]:
    """Files named like HTML, and files named like an annotated page without ``.html``."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and (
            path.name.lower().endswith((".html", ".htm", ".html.gz", ".htm.gz"))
            or _key(path.name) in annotated
        )
    )


def load_corpus(folder: Path, limit: int | None = None) -> Corpus:
    """Every HTML page under ``folder`` (sorted by path), annotated where evaldata says so."""
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {folder} does not exist")
    annotations: dict[str, tuple[str, dict[str, Any]]] = {}
    evaldata = folder / EVALDATA
    if evaldata.is_file():
        for url, item in json.loads(evaldata.read_text(encoding="utf-8")).items():
            annotations[str(item["file"])] = (url, item)
    pages: list[Page] = []
    for path in _html_files(folder, {_key(name) for name in annotations}):
        name = path.name.removesuffix(".gz")
        page = Page(name=name, html=_read(path))
        if name in annotations:
            url, item = annotations[name]
            page.url = url
            page.expected = [str(s) for s in item.get("with", [])]
            page.unwanted = [str(s) for s in item.get("without", [])]
        pages.append(page)
    if limit is not None:
        pages = spread(pages, limit)
    return Corpus(label=folder.name, pages=pages)


def builtin_corpus(count: int = SAMPLE_PAGES) -> Corpus:
    from bench.samples import make_pages  # here, so this module loads without the package

    pages = [
        Page(
            name=sample.path.rsplit("/", 1)[-1],
            html=sample.html,
            url=f"https://news.example.org{sample.path}",
            expected=sample.expected,
            unwanted=sample.unwanted,
        )
        for sample in make_pages(count)
    ]
    return Corpus(label=f"built-in generated sample ({count} pages)", pages=pages)


def spread(items: list[T], count: int) -> list[T]:
    """``count`` items evenly spread over ``items`` (deterministic, keeps the order)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]
