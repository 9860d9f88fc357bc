"""The built-in sample pages are valid annotations: the newsflow parser scores them fully."""

from __future__ import annotations

from types import ModuleType

from newsflow.extraction import parse_html


def test_sample_page_annotations_match_its_article_and_furniture(
    samples: ModuleType, scoring: ModuleType
) -> None:
    # GIVEN a generated page with its "with" and "without" snippets
    page = samples.make_page(5)
    # WHEN the article is extracted with newsflow's parser
    text = parse_html(page.html, "https://news.example.org/a.html").text
    counts = scoring.score_document(text, page.expected, page.unwanted)
    # THEN every body snippet is found and no furniture leaks in
    assert (counts.tp, counts.fn, counts.fp) == (len(page.expected), 0, 0)


def test_sample_pages_are_the_same_for_the_same_seed(samples: ModuleType) -> None:
    # GIVEN two generations with one seed WHEN compared THEN they are byte for byte equal
    assert samples.make_page(3, seed=9).html == samples.make_page(3, seed=9).html
    assert samples.make_page(3, seed=9).html != samples.make_page(4, seed=9).html
