"""Shared aggregation: entity merging, offsets, salience, entity and document sentiment."""

from __future__ import annotations

import math

import pytest

from newsflow.enrichment.aggregation import (
    RawMention,
    ScoredSegment,
    aggregate_sentiment,
    build_entities,
    normalise_entity_key,
)


def mention(text: str, surface: str, kind: str, occurrence: int = 0) -> RawMention:
    """A RawMention for the n-th occurrence of ``surface`` in ``text``."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return RawMention(start, start + len(surface), kind)


def segment(start: int, end: int, polarity: float, mixed: float = 0.0) -> ScoredSegment:
    rest = 1.0 - mixed
    return ScoredSegment(
        start=start,
        end=end,
        polarity=polarity,
        positive=max(polarity, 0.0) * rest,
        negative=max(-polarity, 0.0) * rest,
        neutral=(1.0 - abs(polarity)) * rest,
        mixed=mixed,
    )


def sentence_segments(text: str, polarities: list[float]) -> list[ScoredSegment]:
    """One segment per ". "-terminated sentence of ``text``, with the given polarities."""
    segments, start = [], 0
    for polarity in polarities:
        end = text.find(". ", start)
        end = len(text) if end == -1 else end + 1
        segments.append(segment(start, end, polarity))
        start = end + 1
    return segments


def test_surname_is_merged_into_the_full_name() -> None:
    # GIVEN a full name and a later bare surname, both tagged PERSON
    text = "Volodymyr Zelensky spoke in Kyiv. Later Zelensky left for Warsaw."
    mentions = [
        mention(text, "Volodymyr Zelensky", "PERSON"),
        mention(text, "Zelensky", "PERSON", occurrence=1),
    ]
    # WHEN the mentions are aggregated
    entities = build_entities(text, mentions)
    # THEN one entity carries both mentions under the full name
    assert len(entities) == 1
    assert entities[0].text == "Volodymyr Zelensky"
    assert entities[0].count == 2
    assert [m.text for m in entities[0].mentions] == ["Volodymyr Zelensky", "Zelensky"]


def test_surname_tagged_organization_still_folds_into_the_person() -> None:
    # GIVEN a model that tagged the bare surname ORGANIZATION once
    text = "Volodymyr Zelensky met aides. Zelensky said more. Zelensky then left."
    mentions = [
        mention(text, "Volodymyr Zelensky", "PERSON"),
        mention(text, "Zelensky", "ORGANIZATION", occurrence=1),
        mention(text, "Zelensky", "PERSON", occurrence=2),
    ]
    # WHEN aggregated
    entities = build_entities(text, mentions)
    # THEN the surname folds in and the majority type (PERSON, 2 of 3) wins
    assert [(e.text, e.type, e.count) for e in entities] == [("Volodymyr Zelensky", "PERSON", 3)]


def test_short_form_folds_into_a_name_that_starts_with_it() -> None:
    # GIVEN "Apple Inc." and a later "Apple"
    text = "Apple Inc. reported results. Apple shares rose."
    mentions = [
        mention(text, "Apple Inc.", "ORGANIZATION"),
        mention(text, "Apple", "ORGANIZATION", occurrence=1),
    ]
    # WHEN aggregated
    entities = build_entities(text, mentions)
    # THEN they are one organization named by the longest form
    assert [(e.text, e.type, e.count) for e in entities] == [("Apple Inc.", "ORGANIZATION", 2)]


def test_a_bare_location_is_not_folded_into_a_person() -> None:
    # GIVEN a person "George Washington" and the place "Washington"
    text = "George Washington was president. Officials in Washington disagreed."
    mentions = [
        mention(text, "George Washington", "PERSON"),
        mention(text, "Washington", "LOCATION", occurrence=1),
    ]
    # WHEN aggregated
    entities = build_entities(text, mentions)
    # THEN they stay two entities
    assert sorted((e.text, e.type) for e in entities) == [
        ("George Washington", "PERSON"),
        ("Washington", "LOCATION"),
    ]


def test_leading_article_is_trimmed_from_mentions_and_merged_case_insensitively() -> None:
    # GIVEN "the White House" and "The White House" as mention spans
    text = "A spokesman for the White House spoke. The White House later denied it."
    mentions = [
        mention(text, "the White House", "ORGANIZATION"),
        mention(text, "The White House", "ORGANIZATION"),
    ]
    # WHEN aggregated
    entities = build_entities(text, mentions)
    # THEN one entity "White House" whose mentions point exactly at "White House" in the text
    assert len(entities) == 1
    assert entities[0].text == "White House"
    assert [m.text for m in entities[0].mentions] == ["White House", "White House"]
    for m in entities[0].mentions:
        assert text[m.start : m.end] == m.text


def test_possessive_is_trimmed_and_merged_with_the_plain_name() -> None:
    # GIVEN "Apple's" (straight and typographic apostrophes) and plain "Apple"
    text = "Apple's profits rose. Analysts praised Apple. Apple\u2019s shares jumped."
    mentions = [
        mention(text, "Apple's", "ORGANIZATION"),
        mention(text, "Apple", "ORGANIZATION", occurrence=1),
        mention(text, "Apple\u2019s", "ORGANIZATION"),
    ]
    # WHEN aggregated
    entities = build_entities(text, mentions)
    # THEN one "Apple" entity with three exact mentions
    assert [(e.text, e.count) for e in entities] == [("Apple", 3)]
    for m in entities[0].mentions:
        assert text[m.start : m.end] == m.text == "Apple"


def test_normalised_key_ignores_case_article_and_possessive() -> None:
    # GIVEN variants of one name / WHEN normalised / THEN they share a key
    assert normalise_entity_key("The  White House") == "white house"
    assert normalise_entity_key("APPLE'S") == "apple"
    assert normalise_entity_key("Apple\u2019s") == "apple"


def test_type_is_the_majority_vote_of_the_mentions() -> None:
    # GIVEN "Paris" tagged LOCATION twice and PERSON once
    text = "Paris is busy. Paris is cold. Paris said hello."
    mentions = [
        mention(text, "Paris", "LOCATION", 0),
        mention(text, "Paris", "PERSON", 1),
        mention(text, "Paris", "LOCATION", 2),
    ]
    # WHEN aggregated / THEN LOCATION wins
    assert [e.type for e in build_entities(text, mentions)] == ["LOCATION"]


def test_more_and_earlier_mentions_mean_higher_salience() -> None:
    # GIVEN an entity mentioned twice (early), one once early, one once at the very end
    text = "Berlin and Madrid met. Berlin agreed. Nothing else happened here at all. Oslo"
    mentions = [
        mention(text, "Berlin", "LOCATION", 0),
        mention(text, "Madrid", "LOCATION", 0),
        mention(text, "Berlin", "LOCATION", 1),
        mention(text, "Oslo", "LOCATION", 0),
    ]
    # WHEN aggregated
    entities = build_entities(text, mentions)
    # THEN they are ordered Berlin > Madrid > Oslo, saliences in 0..1 summing to 1
    assert [e.text for e in entities] == ["Berlin", "Madrid", "Oslo"]
    assert all(0.0 <= e.salience <= 1.0 for e in entities)
    assert math.isclose(sum(e.salience for e in entities), 1.0, abs_tol=1e-5)


def test_entity_sentiment_comes_from_the_sentences_that_mention_it() -> None:
    # GIVEN a positive sentence about Acme and a negative one about Globex
    text = "Acme delighted investors. Globex collapsed badly."
    segments = sentence_segments(text, [0.8, -0.7])
    mentions = [mention(text, "Acme", "ORGANIZATION"), mention(text, "Globex", "ORGANIZATION")]
    # WHEN aggregated
    entities = {e.text: e for e in build_entities(text, mentions, segments)}
    # THEN each entity gets its own sentence's sentiment
    assert entities["Acme"].sentiment is not None
    assert entities["Acme"].sentiment.label == "POSITIVE"
    assert entities["Acme"].sentiment.score == pytest.approx(0.8)
    assert entities["Globex"].sentiment is not None
    assert entities["Globex"].sentiment.label == "NEGATIVE"


def test_entity_in_a_strongly_positive_and_a_strongly_negative_sentence_is_mixed() -> None:
    # GIVEN Acme praised in one sentence and condemned in another
    text = "Acme won praise. Acme was condemned. Weather was mild."
    segments = sentence_segments(text, [0.9, -0.9, 0.0])
    mentions = [mention(text, "Acme", "ORGANIZATION", 0), mention(text, "Acme", "ORGANIZATION", 1)]
    # WHEN aggregated
    (entity,) = build_entities(text, mentions, segments)
    # THEN its sentiment is MIXED
    assert entity.sentiment is not None
    assert entity.sentiment.label == "MIXED"


def test_entity_outside_every_segment_has_no_sentiment() -> None:
    # GIVEN a segment that covers only the first sentence
    text = "Nothing here. Acme appears later."
    segments = [segment(0, 13, 0.5)]
    # WHEN aggregated
    (entity,) = build_entities(text, [mention(text, "Acme", "ORGANIZATION")], segments)
    # THEN no sentiment is invented for it
    assert entity.sentiment is None


@pytest.mark.parametrize(
    ("polarities", "label"),
    [
        ([0.6, 0.0, 0.3], "POSITIVE"),
        ([-0.6, 0.0, -0.2], "NEGATIVE"),
        ([0.0, 0.02, -0.03], "NEUTRAL"),
        ([0.9, -0.9, 0.0], "MIXED"),
    ],
)
def test_document_label_follows_polarity_or_mixed(polarities: list[float], label: str) -> None:
    # GIVEN three equally long segments with the given polarities
    segments = [segment(i * 10, i * 10 + 10, p) for i, p in enumerate(polarities)]
    # WHEN aggregated
    sentiment = aggregate_sentiment(segments)
    # THEN the label is as expected and the four scores sum to 1
    assert sentiment is not None
    assert sentiment.label == label
    scores = sentiment.scores
    assert math.isclose(
        scores.positive + scores.negative + scores.neutral + scores.mixed, 1.0, abs_tol=1e-5
    )


def test_a_small_strongly_negative_passage_does_not_make_a_document_mixed() -> None:
    # GIVEN a long strongly positive text with one short strongly negative sentence (~9%)
    segments = [segment(0, 100, 0.9), segment(100, 110, -0.9)]
    # WHEN aggregated
    sentiment = aggregate_sentiment(segments)
    # THEN the document is positive, not mixed
    assert sentiment is not None
    assert sentiment.label == "POSITIVE"


def test_document_score_is_length_weighted() -> None:
    # GIVEN a long mildly positive segment and a short strongly negative one
    segments = [segment(0, 90, 0.2), segment(90, 100, -0.4)]
    # WHEN aggregated
    sentiment = aggregate_sentiment(segments)
    # THEN the score is the length-weighted mean
    assert sentiment is not None
    assert sentiment.score == pytest.approx(0.9 * 0.2 + 0.1 * -0.4)


def test_chunks_scored_mixed_by_the_service_give_a_mixed_document() -> None:
    # GIVEN segments whose own scores say MIXED (as Comprehend reports them)
    segments = [segment(0, 50, 0.05, mixed=0.7), segment(50, 100, -0.05, mixed=0.6)]
    # WHEN aggregated
    sentiment = aggregate_sentiment(segments)
    # THEN the document is MIXED with that mixed score
    assert sentiment is not None
    assert sentiment.label == "MIXED"
    assert sentiment.scores.mixed == pytest.approx(0.65)


def test_nothing_to_aggregate_gives_no_sentiment_and_no_entities() -> None:
    # GIVEN no segments and no mentions / WHEN aggregated / THEN nothing is invented
    assert aggregate_sentiment([]) is None
    assert build_entities("Some text.", []) == []
