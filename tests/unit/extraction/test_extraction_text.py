"""The small text rules behind parse_html: plain text, author names (words: test_text.py)."""

from __future__ import annotations

import pytest

from newsflow.extraction import clean_text, normalise_author


def test_clean_text_removes_invisible_characters() -> None:
    # GIVEN text with zero-width spaces, soft hyphens, a BOM and control characters
    raw = "Zero\u200bwidth soft\u00adhyphen \ufeffbom\x07 bell"
    # WHEN cleaned THEN they are gone and the words remain
    assert clean_text(raw) == "Zerowidth softhyphen bom bell"


def test_clean_text_normalises_unicode_composition() -> None:
    # GIVEN "é" written as "e" plus a combining accent
    # WHEN cleaned THEN it is the single composed character (NFC)
    assert clean_text("Cafe\u0301") == "Caf\u00e9"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("By  Jane   Doe", "Jane Doe"),
        ("by: Jane Doe", "Jane Doe"),
        ("Written by Jane Doe", "Jane Doe"),
        ("View all posts by Jane Doe", "Jane Doe"),
        ("Zeige alle Beiträge von Jana Dorn", "Jana Dorn"),
        ("MORITZ GATHMANN", "Moritz Gathmann"),
        ("Jane Doe; JANE DOE; John Roe", "Jane Doe; John Roe"),
        (" ;  ; ", None),
        ("", None),
        (None, None),
        ("A" * 250, None),
        ("Byron Hale", "Byron Hale"),  # a name starting with "By" is not a prefix
    ],
)
def test_normalise_author(given: str | None, expected: str | None) -> None:
    # GIVEN an author string as pages write it WHEN normalised THEN only the names remain
    assert normalise_author(given) == expected
