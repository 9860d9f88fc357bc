"""News sentiment: VADER with the news lexicon and rules, on the hand-labelled news sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsflow.enrichment import Enricher
from newsflow.enrichment.local import LocalEnricher
from newsflow.enrichment.news_lexicon import NEWS_TERMS, TOPIC_WORDS, news_rewrite

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "news_sentiment_labelled.tsv"
CLASSES = ("positive", "negative", "neutral")


@pytest.fixture(scope="module")
def plain_vader() -> Enricher:
    """The same model with VADER's own lexicon and no news rules (about a second to load)."""
    return LocalEnricher(news_lexicon=False)


def labelled() -> list[tuple[str, str]]:
    rows = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, sentence = line.split("\t", 1)
            rows.append((label, sentence))
    return rows


def label_of(enricher: Enricher, sentence: str) -> str | None:
    sentiment = enricher.enrich(sentence, language="en").sentiment
    return sentiment.label if sentiment else None


def macro_f1(enricher: Enricher, rows: list[tuple[str, str]]) -> float:
    predicted = []
    for _, sentence in rows:
        sentiment = enricher.enrich(sentence, language="en").sentiment
        label = sentiment.label.lower() if sentiment else "neutral"
        predicted.append(label if label in CLASSES else "neutral")
    scores = []
    for kind in CLASSES:
        pairs = list(zip((g for g, _ in rows), predicted, strict=True))
        tp = sum(g == p == kind for g, p in pairs)
        fp = sum(p == kind != g for g, p in pairs)
        fn = sum(g == kind != p for g, p in pairs)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def test_the_sample_has_at_least_200_labelled_sentences_of_each_class() -> None:
    rows = labelled()
    assert len(rows) >= 200
    assert {label for label, _ in rows} == set(CLASSES)


def test_the_news_lexicon_raises_macro_f1_on_the_labelled_sample(
    local_enricher: Enricher, plain_vader: Enricher
) -> None:
    # GIVEN the labelled sample, plain VADER and the news-adapted enricher
    rows = labelled()

    # WHEN each sentence is scored on its own by both
    before, after = macro_f1(plain_vader, rows), macro_f1(local_enricher, rows)

    # THEN the news lexicon is clearly better (0.61 -> 0.71 when measured; floors below)
    assert before < 0.65
    assert after >= 0.70
    assert after - before >= 0.07


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("Police busted a cocaine smuggling ring at the port.", "NEGATIVE"),
        ("Three men were indicted on bribery charges on Monday.", "NEGATIVE"),
        ("Ransomware shut down the hospital's computers for a week.", "NEGATIVE"),
        ("Wildfires forced thousands to be evacuated from their homes.", "NEGATIVE"),
        ("The city was placed under quarantine after the outbreak.", "NEGATIVE"),
        ("The team sealed a late victory in the final minute.", "POSITIVE"),
        ("Exports rebounded in March, the ministry said.", "POSITIVE"),
    ],
)
def test_news_events_vader_lacks_carry_their_feeling(
    local_enricher: Enricher, sentence: str, label: str
) -> None:
    assert label_of(local_enricher, sentence) == label


@pytest.mark.parametrize(
    "sentence",
    [
        "The central bank left interest rates unchanged on Thursday.",
        "Shares of the company were listed in Frankfurt.",
        "The hospital trust runs four sites in the county.",
        "The Justice Department filed the papers in Washington.",
        "Security forces were deployed along the border.",
    ],
)
def test_topic_words_in_plain_reports_stay_neutral(
    local_enricher: Enricher, plain_vader: Enricher, sentence: str
) -> None:
    # GIVEN a plain report that VADER calls positive (interest, shares, trust, justice, security)
    assert label_of(plain_vader, sentence) == "POSITIVE"
    # THEN with the news lexicon it is neutral
    assert label_of(local_enricher, sentence) == "NEUTRAL"


@pytest.mark.parametrize(
    ("sentence", "rewritten"),
    [
        ("Despite the rain, the team won.", "the rain, but the team won."),
        ("Although sales grew, the firm made a loss.", "sales grew, but the firm made a loss."),
        ("The bill failed to win support.", "The bill failed to not win support."),
        ("She refused to accept the offer.", "She refused to not accept the offer."),
        ("Nothing to rewrite here.", "Nothing to rewrite here."),
    ],
)
def test_concession_and_failure_are_rewritten_into_vaders_rules(
    sentence: str, rewritten: str
) -> None:
    assert news_rewrite(sentence) == rewritten


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        # The outcome after a failure verb did not happen: not a success.
        ("The government failed to win support for the budget.", "NEGATIVE"),
        # The main clause decides, not the conceded one ("despite" is no negation).
        ("Despite heavy losses last year, the airline returned to profit.", "POSITIVE"),
        ("Although exports rose, the factory announced layoffs.", "NEGATIVE"),
    ],
)
def test_failure_and_concession_follow_the_main_clause(
    local_enricher: Enricher, sentence: str, label: str
) -> None:
    assert label_of(local_enricher, sentence) == label


def test_the_model_name_says_the_lexicon_is_adapted(local_enricher: Enricher) -> None:
    info = local_enricher.enrich("The mayor opened the bridge.", language="en").enrichment
    assert info.model.endswith("+news-lexicon")
    assert not set(NEWS_TERMS) & set(TOPIC_WORDS)
