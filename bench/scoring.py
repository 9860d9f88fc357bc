"""Snippet metric for extraction quality (the scheme of trafilatura's own evaluation).

A corpus annotates each page with snippets the main text must contain (``with``) and boilerplate
it must not contain (``without``). After collapsing runs of whitespace in both, every ``with``
snippet found is a true positive and every one missed a false negative; every ``without``
snippet found is a false positive and every one absent a true negative. Counts are summed over
all documents first, then precision, recall and F1 are computed from the totals (micro
average), so long and short pages weigh by their number of snippets. A page the extractor
fails on (no text) counts as text that contains nothing.

Self-contained (standard library only) so tests can load it on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Collapse every run of whitespace (newlines included) to one space; trim the ends."""
    return _WHITESPACE.sub(" ", text).strip()


@dataclass
class SnippetCounts:
    """Confusion counts of the snippet metric; add documents with :meth:`add`."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    documents: int = 0

    def add(self, other: SnippetCounts) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.tn += other.tn
        self.documents += other.documents

    @property
    def precision(self) -> float:
        found = self.tp + self.fp
        return self.tp / found if found else 0.0

    @property
    def recall(self) -> float:
        expected = self.tp + self.fn
        return self.tp / expected if expected else 0.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fn + self.fp + self.tn
        return (self.tp + self.tn) / total if total else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            **asdict(self),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "accuracy": round(self.accuracy, 4),
        }


def score_document(
    text: str | None, expected: Iterable[str], unwanted: Iterable[str]
) -> SnippetCounts:
    """Counts for one document; ``text=None`` (extraction failed) finds nothing."""
    haystack = normalise(text) if text else ""
    counts = SnippetCounts(documents=1)
    for snippet in expected:
        if haystack and normalise(snippet) in haystack:
            counts.tp += 1
        else:
            counts.fn += 1
    for snippet in unwanted:
        if haystack and normalise(snippet) in haystack:
            counts.fp += 1
        else:
            counts.tn += 1
    return counts


def total(documents: Iterable[SnippetCounts]) -> SnippetCounts:
    """Sum of per-document counts (the micro-average the scores are computed from)."""
    summed = SnippetCounts()
    for counts in documents:
        summed.add(counts)
    return summed
