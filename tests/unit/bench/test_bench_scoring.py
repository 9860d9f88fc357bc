"""The snippet metric: whitespace-normalised substring checks, counts summed over documents."""

from __future__ import annotations

from types import ModuleType

import pytest


def test_snippet_matches_across_different_whitespace(scoring: ModuleType) -> None:
    # GIVEN a snippet broken over lines and a text with single spaces
    text = "The council voted on Tuesday to fund the bridge."
    # WHEN scored
    counts = scoring.score_document(text, ["voted on\n  Tuesday"], [])
    # THEN whitespace differences do not cost a true positive
    assert (counts.tp, counts.fn) == (1, 0)


def test_missing_expected_snippet_is_a_false_negative(scoring: ModuleType) -> None:
    # GIVEN a text without one of two expected snippets
    counts = scoring.score_document("alpha beta", ["alpha", "gamma"], [])
    # THEN one true positive and one false negative
    assert (counts.tp, counts.fn) == (1, 1)


def test_unwanted_snippets_found_and_absent(scoring: ModuleType) -> None:
    # GIVEN boilerplate of which one piece leaked into the text
    text = "Story text. Subscribe to our newsletter"
    # WHEN scored against two unwanted snippets
    counts = scoring.score_document(text, [], ["Subscribe to our newsletter", "Cookie settings"])
    # THEN the leaked one is a false positive and the other a true negative
    assert (counts.fp, counts.tn) == (1, 1)


def test_failed_extraction_finds_nothing(scoring: ModuleType) -> None:
    # GIVEN no text at all (the extractor failed on the page)
    counts = scoring.score_document(None, ["a", "b"], ["c"])
    # THEN every expected snippet is missed and every unwanted one counts as absent
    assert (counts.tp, counts.fn, counts.fp, counts.tn) == (0, 2, 0, 1)


def test_scores_come_from_summed_counts_not_averaged_scores(scoring: ModuleType) -> None:
    # GIVEN one page with 1 of 1 snippets found and one with 1 of 3 found, 1 leak
    first = scoring.score_document("x", ["x"], [])
    second = scoring.score_document("y junk", ["y", "p", "q"], ["junk"])
    # WHEN the totals are computed
    totals = scoring.total([first, second])
    # THEN precision and recall are micro-averages over the summed counts
    assert (totals.tp, totals.fn, totals.fp, totals.documents) == (2, 2, 1, 2)
    assert totals.precision == pytest.approx(2 / 3)
    assert totals.recall == pytest.approx(2 / 4)
    assert totals.f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))


def test_empty_totals_score_zero_instead_of_dividing_by_zero(scoring: ModuleType) -> None:
    # GIVEN no documents WHEN scores are read THEN they are zero
    totals = scoring.total([])
    assert (totals.precision, totals.recall, totals.f1) == (0.0, 0.0, 0.0)
