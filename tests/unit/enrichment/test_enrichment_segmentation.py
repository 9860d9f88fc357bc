"""Sentence spans and byte-limited chunks for the Comprehend backend."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsflow.enrichment.segmentation import line_spans, pack_chunks, sentence_spans

MULTIBYTE_SENTENCES = [
    "Grüße aus Köln, sagte Jürgen Müller über die Straßenbahn. ",  # 2-byte umlauts
    "東京都の新しい駅が開業した。",  # 3-byte CJK, no spaces
    "Fans cheered 😀🎉 as the team won 🏆. ",  # 4-byte emoji
]


def texts_of(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in spans]


def test_english_sentences_split_but_abbreviations_do_not() -> None:
    # GIVEN sentences with a title abbreviation and initials
    text = "Mr. Cook met J. K. Rowling in the U.S. capital. They talked!  Then left?"
    # WHEN split
    sentences = texts_of(text, sentence_spans(text))
    # THEN the abbreviations stay inside their sentence
    assert sentences == [
        "Mr. Cook met J. K. Rowling in the U.S. capital.",
        "They talked!",
        "Then left?",
    ]


def test_cjk_sentences_split_without_spaces_and_lines_split_at_breaks() -> None:
    # GIVEN CJK sentences without spaces followed by a line of English
    text = "東京は晴れ。大阪は雨！\nA headline without a period\nNext line."  # noqa: RUF001
    # WHEN split / THEN every full stop and line break ends a sentence
    assert texts_of(text, sentence_spans(text)) == [
        "東京は晴れ。",
        "大阪は雨！",  # noqa: RUF001
        "A headline without a period",
        "Next line.",
    ]


def test_chunks_of_multibyte_text_stay_within_the_byte_limit_on_sentence_boundaries() -> None:
    # GIVEN 60 sentences mixing umlauts, CJK and emoji
    text = "".join(MULTIBYTE_SENTENCES * 20).strip()
    sentences = sentence_spans(text)
    limit = 300
    # WHEN packed into chunks of at most 300 bytes
    chunks = pack_chunks(text, sentences, limit)
    # THEN every chunk fits, starts and ends on a sentence boundary, and all text is kept
    starts = {s for s, _ in sentences}
    ends = {e for _, e in sentences}
    assert len(chunks) > 1
    for start, end in chunks:
        assert len(text[start:end].encode("utf-8")) <= limit
        assert start in starts
        assert end in ends
    kept = "".join(texts_of(text, chunks))
    assert re.sub(r"\s", "", kept) == re.sub(r"\s", "", text)


def test_chunk_that_fits_exactly_at_the_limit_is_not_split() -> None:
    # GIVEN two sentences of exactly 10 bytes together with the space (4 + 1 + 5 bytes)
    text = "Äb. Öcd."
    assert len(text.encode("utf-8")) == 10
    # WHEN packed with a 10-byte limit, then with a 9-byte limit
    at_limit = pack_chunks(text, sentence_spans(text), 10)
    below = pack_chunks(text, sentence_spans(text), 9)
    # THEN the first is one chunk and the second is two sentence chunks
    assert texts_of(text, at_limit) == ["Äb. Öcd."]
    assert texts_of(text, below) == ["Äb.", "Öcd."]


def test_overlong_sentence_without_spaces_is_cut_between_characters() -> None:
    # GIVEN one 3,000-character CJK sentence (9,000 bytes) and a 4,999-byte limit
    text = "東" * 3000 + "。"
    # WHEN packed
    chunks = pack_chunks(text, sentence_spans(text), 4999)
    # THEN each piece decodes cleanly, fits, and the pieces rebuild the sentence
    pieces = texts_of(text, chunks)
    assert len(pieces) == 2
    assert all(len(p.encode("utf-8")) <= 4999 for p in pieces)
    assert "".join(pieces) == text


def test_overlong_sentence_with_spaces_is_cut_at_whitespace() -> None:
    # GIVEN a long sentence of emoji-bearing words
    text = " ".join(["Straße😀"] * 200) + "."
    # WHEN packed with a 100-byte limit
    pieces = texts_of(text, pack_chunks(text, sentence_spans(text), 100))
    # THEN no word is broken
    assert all(len(p.encode("utf-8")) <= 100 for p in pieces)
    for piece in pieces:
        assert set(piece.rstrip(".").split(" ")) == {"Straße😀"}


def test_forced_cut_does_not_separate_combining_marks_or_joined_emoji() -> None:
    # GIVEN a run of family emoji (joined by U+200D) and decomposed accents, no spaces
    family = "👨\u200d👩\u200d👧"
    accented = "e\u0301"
    text = (family + accented) * 40
    # WHEN cut into pieces of at most 50 bytes
    pieces = texts_of(text, pack_chunks(text, sentence_spans(text), 50))
    # THEN no piece starts with a joiner or a combining mark, or ends with a joiner
    assert "".join(pieces) == text
    for piece in pieces:
        assert len(piece.encode("utf-8")) <= 50
        assert piece[0] not in {"\u200d", "\u0301"} and not piece[0].startswith("👩")
        assert piece[-1] != "\u200d"


def test_character_limit_is_respected_as_well_as_the_byte_limit() -> None:
    # GIVEN short ASCII sentences
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    # WHEN packed with a 100-character limit
    chunks = pack_chunks(text, sentence_spans(text), 4999, max_chars=100)
    # THEN no chunk is longer than 100 characters
    assert len(chunks) > 5
    assert all(end - start <= 100 for start, end in chunks)


def test_line_spans_split_at_line_breaks_and_cap_long_lines_at_whitespace() -> None:
    # GIVEN a headline, a blank line and a long unpunctuated line, inside a larger text
    text = "Intro. Markets rally\n\n" + "shares rose again " * 20 + "\nEnd"
    start = text.index("Markets")
    # WHEN split into scoring units of at most 60 characters
    units = texts_of(text, line_spans(text, start, len(text), 60))
    # THEN each line is its own unit, long lines are cut between words, nothing is lost
    assert units[0] == "Markets rally"
    assert units[-1] == "End"
    assert all(len(u) <= 60 and not u.startswith(" ") for u in units)
    assert all(set(u.split()) <= {"shares", "rose", "again"} for u in units[1:-1])
    assert " ".join(units).split() == text[start:].split()


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from([*"ab .!?\n ßü東京😀", "\u0301", "\u200d", "。"]),
        min_size=1,
        max_size=400,
    ),
    limit=st.integers(min_value=4, max_value=60),
)
def test_chunks_always_fit_are_ordered_and_cover_the_text(text: str, limit: int) -> None:
    # GIVEN any mix of multi-byte characters, whitespace and sentence punctuation
    # WHEN packed
    chunks = pack_chunks(text, sentence_spans(text), limit)
    # THEN chunks fit, do not overlap, are in order and lose no non-space character
    previous_end = 0
    for start, end in chunks:
        assert previous_end <= start < end
        assert len(text[start:end].encode("utf-8")) <= limit
        previous_end = end
    kept = "".join(text[s:e] for s, e in chunks)
    assert re.sub(r"\s", "", kept) == re.sub(r"\s", "", text)
