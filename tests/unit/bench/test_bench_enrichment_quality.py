"""Scoring of the labelled enrichment samples: macro-F1 and exact-match entity spans."""

from __future__ import annotations

from types import ModuleType

import pytest

from .conftest import load_bench_module


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    return load_bench_module("enrichment_quality")


def test_macro_f1_averages_the_per_class_f1(quality: ModuleType) -> None:
    # GIVEN 2 of 2 positives right, 1 of 2 negatives, and a negative called neutral
    gold = ["positive", "positive", "negative", "negative", "neutral"]
    predicted = ["positive", "positive", "negative", "neutral", "neutral"]
    # THEN F1 is 1 (positive), 2/3 (negative) and 2/3 (neutral: P 1/2, R 1), averaged
    expected = (1.0 + 2 / 3 + 2 / 3) / 3
    assert quality.macro_f1(gold, predicted, quality.CLASSES) == pytest.approx(expected)


def test_span_scores_count_exact_matches_per_type(quality: ModuleType) -> None:
    # GIVEN one document: a person found, a place typed as a person, an organisation missed
    gold = [[(0, 5, "PERSON"), (10, 16, "LOCATION"), (20, 25, "ORGANIZATION")]]
    predicted = [[(0, 5, "PERSON"), (10, 16, "PERSON"), (30, 34, "DATE")]]
    # WHEN scored on the three types
    table = quality.span_scores(gold, predicted, quality.ENTITY_TYPES)
    # THEN the wrong type is a false positive for PERSON and a miss for LOCATION; DATE is ignored
    assert table["PERSON"]["precision"] == 0.5 and table["PERSON"]["recall"] == 1.0
    assert table["LOCATION"]["recall"] == 0.0 and table["LOCATION"]["predicted"] == 0
    assert table["ORGANIZATION"]["gold"] == 1 and table["ORGANIZATION"]["f1"] == 0.0
    assert table["ALL"] == {"precision": 0.5, "recall": 0.333, "f1": 0.4, "gold": 3, "predicted": 2}


def test_the_sentiment_sample_reads_as_label_and_sentence(quality: ModuleType) -> None:
    rows = quality.read_sentiment_sample()
    assert len(rows) >= 200
    assert {label for label, _ in rows} == set(quality.CLASSES)
