"""Fingerprints: exact keys, word shingles in every script, MinHash bands and their odds."""

from __future__ import annotations

from newsflow.fingerprints import (
    BANDS,
    NEAR_DUPLICATE_THRESHOLD,
    NUM_PERMUTATIONS,
    ROWS,
    band_keys,
    band_match_probability,
    fingerprint,
    jaccard,
    minhash,
    shingles,
    text_sha256,
)

STORY = (
    "The city council of Portsmouth voted on Tuesday to fund a new harbour bridge, ending a "
    "debate that had divided residents for more than a decade. Mayor Helen Carter said the "
    "decision was a great victory for commuters and local businesses. Critics, including the "
    "Green Coast Alliance, warned that construction could harm the estuary. Engineers from "
    "Atlantic Structures will begin surveying the site in March."
)


def test_text_differing_only_in_whitespace_has_one_exact_key() -> None:
    # GIVEN the same text with other spacing and line breaks
    respaced = "  " + STORY.replace(" ", "  ").replace(". ", ".\n\n") + "\n"
    # THEN both have the same exact key, and one changed word gives another
    assert text_sha256(respaced) == text_sha256(STORY)
    assert text_sha256(STORY.replace("Tuesday", "Monday")) != text_sha256(STORY)


def test_shingles_follow_the_word_rule_of_every_script() -> None:
    # GIVEN texts without spaces between words (Chinese, Thai)
    chinese = "朴茨茅斯市议会周二投票决定资助建设一座新的港口大桥"
    thai = "สภาเมืองพอร์ตสมัธลงมติให้สร้างสะพานใหม่"
    # THEN they still have many shingles, and case or punctuation do not make a new shingle
    assert len(shingles(chinese)) > 10
    assert len(shingles(thai)) > 10
    assert shingles("Harbour bridge, approved!") == shingles("harbour bridge approved")
    # AND a text shorter than one shingle is one shingle; no words, none
    assert len(shingles("two words")) == 1
    assert shingles("— !") == frozenset()


def test_minhash_is_reproducible_and_bands_match_for_the_same_text() -> None:
    # GIVEN the same text fingerprinted twice (as two deployments would)
    first, second = fingerprint(STORY), fingerprint(STORY + " ")
    # THEN the bands are equal and there is one per band
    assert first.bands == second.bands
    assert len(first.bands) == BANDS
    assert len(set(first.bands)) == BANDS  # band index is part of the key


def test_a_small_edit_shares_bands_and_an_unrelated_text_does_not() -> None:
    # GIVEN a copy with one sentence added, and an unrelated text on the same topic
    edited = STORY + " Residents can comment on the plans online until the end of the month."
    unrelated = (
        "Ferry operators in Portsmouth said the harbour bridge would cut their passenger numbers "
        "and asked the council for compensation before the vote. The Green Coast Alliance "
        "organised a protest on the seafront, where about two hundred people gathered."
    )
    original, copy, other = (fingerprint(t) for t in (STORY, edited, unrelated))
    # THEN the edited copy is similar above the threshold and shares a band
    assert jaccard(original.shingles, copy.shingles) >= NEAR_DUPLICATE_THRESHOLD
    assert set(original.bands) & set(copy.bands)
    # AND the unrelated story is far below it and shares none
    assert jaccard(original.shingles, other.shingles) < 0.1
    assert not set(original.bands) & set(other.bands)


def test_jaccard_and_empty_sets() -> None:
    assert jaccard(frozenset({1, 2, 3}), frozenset({2, 3, 4})) == 0.5
    assert jaccard(frozenset(), frozenset()) == 0.0
    # an empty text has no bands: it can never be anybody's candidate
    assert fingerprint("").bands == ()
    assert len(band_keys(minhash(frozenset()))) == BANDS


def test_the_band_scheme_finds_copies_at_the_threshold_with_few_items() -> None:
    # GIVEN the module's bands of rows (one fingerprint item each per new story)
    # THEN they use exactly the signature's permutations
    assert BANDS * ROWS == NUM_PERMUTATIONS
    # AND a copy at the threshold is a candidate at least 9 times in 10 (the 16 bands of 4 rows
    # used before found it 65 times in 100), one at 0.7 almost always
    assert band_match_probability(NEAR_DUPLICATE_THRESHOLD) >= 0.9
    assert band_match_probability(0.7) >= 0.99
    assert band_match_probability(NEAR_DUPLICATE_THRESHOLD, 16, 4) < 0.7
    # AND at most 5 band items are written per new story
    assert BANDS <= 5


def test_a_shorter_signature_is_the_start_of_a_longer_one() -> None:
    # GIVEN the shingles of a text, signed with the module's and with 64 permutations
    story = shingles(STORY)
    # THEN the first values agree, so a scheme can be compared by slicing one long signature
    assert minhash(story, 64)[:NUM_PERMUTATIONS] == minhash(story)
    assert band_keys(minhash(story, 64), BANDS, ROWS) == band_keys(minhash(story))
