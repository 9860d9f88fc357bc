"""The near-duplicate benchmark: its labelled set, its scoring, its table and its cost lines."""

from __future__ import annotations

from types import ModuleType


def test_edited_copies_are_found_and_different_articles_are_not(
    duplicates: ModuleType, samples: ModuleType
) -> None:
    # GIVEN a small labelled set built from generated articles
    originals = [(f"Story {i}", samples.article_text(i)) for i in range(12)]
    pairs = duplicates.build_pairs(originals)
    # WHEN it is scored
    result = duplicates.evaluate(pairs)
    # THEN every edit kind and both negative kinds are there, six copies per original
    assert sum(pair.duplicate for pair in pairs) == 6 * len(originals)
    assert set(result["by_kind"]) == {*duplicates.EDITS, "same_topic", "random"}
    # AND at the chosen threshold nothing unrelated is called a copy and most copies are found
    chosen = next(t for t in result["thresholds"] if t["threshold"] == 0.5)
    assert chosen["false_positives"] == 0
    assert chosen["recall"] >= 0.8
    # AND a stricter threshold never finds more
    recalls = [t["recall"] for t in result["thresholds"]]
    assert recalls == sorted(recalls, reverse=True)


def test_the_section_renders_its_tables(
    duplicates: ModuleType, samples: ModuleType, report: ModuleType
) -> None:
    originals = [(f"Story {i}", samples.article_text(i)) for i in range(10)]
    result = duplicates.evaluate(duplicates.build_pairs(originals))
    result.update(
        originals=10, positives=60, negatives=20, chosen_threshold=0.5, shingle_words=4,
        permutations=64, bands=16, rows=4, fingerprint_ms_per_article=1.0, median_words=500,
    )  # fmt: skip
    text = report.duplicates(result)
    assert "| threshold | precision | recall |" in text and "| same_topic |" in text
