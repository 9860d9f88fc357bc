"""Counting words, one rule for every stage: the parser's ``word_count``, the parser's
"is this an article" test and the enrich stage's minimum length all count with
:func:`count_words`.

What a word is depends on the script:

* Scripts written with spaces between words (Latin, Cyrillic, Greek, Arabic, Hebrew, Hangul,
  Devanagari and the other Indic scripts, ...): a run of letters and digits, with the combining
  marks that belong to them (Devanagari vowel signs, Arabic vowel points), joined across
  apostrophes and hyphens ("don't" is one word, "2.4-kilometre" two). Korean puts spaces
  between words too, so a Hangul run is one word.
* Chinese and Japanese (Han ideographs and kana): one word per character, as word processors
  count them. A segmenter finds about half as many words, so these texts reach a minimum length
  sooner than a translation would; punctuation (``。``, ``・``, ``「」``) is no word.
* Thai, Lao, Khmer and Myanmar put no spaces between words, and telling words apart needs a
  dictionary; here a run of such letters counts as its base letters (combining vowel and tone
  marks left out) divided by the script's average word length in base letters, at least one
  word per run. The averages were measured on hand-segmented news sentences; the count is
  within about a third of a segmenter's.

Everything else (punctuation, symbols, emoji, spaces) is no word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Final

# Han ideographs and kana: one word per character.
_IDEOGRAPHS_AND_KANA: Final = (
    "\u3005\u3007"  # the ideographic iteration mark and zero
    "\u3041-\u3096\u309d-\u309f"  # hiragana and its iteration marks; not the combining marks
    "\u30a1-\u30fa\u30fc-\u30ff"  # katakana and its length mark; not its hyphen and middle dot
    "\u31f0-\u31ff"  # katakana for Ainu
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs: extension A, unified, compatibility
    "\uff66-\uff9f"  # half-width katakana
    "\U0001b000-\U0001b16f"  # archaic kana
    "\U00020000-\U0003134f"  # ideographs: extensions B to G
)

# Scripts without spaces between words: first and last code point of each block, and the
# average word length in base letters.
_UNSPACED_SCRIPTS: Final = {
    "thai": (((0x0E00, 0x0E7F),), 3.5),
    "lao": (((0x0E80, 0x0EFF),), 3.0),
    "myanmar": (((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)), 2.5),
    "khmer": (((0x1780, 0x17FF), (0x19E0, 0x19FF)), 3.0),
}
_JOINERS: Final = "'\u2019\\-"
# Combining marks live in the Basic and Supplementary Multilingual Planes.
_MARK_PLANES_END: Final = 0x20000


def _ranges(code_points: list[int]) -> str:
    """A regular-expression class body (``\\uXXXX-\\uYYYY...``) for sorted code points."""
    parts: list[str] = []
    start = previous = code_points[0] if code_points else 0
    for point in [*code_points[1:], -1]:
        if point == previous + 1:
            previous = point
            continue
        last = "" if start == previous else f"-\\U{previous:08x}"
        parts.append(f"\\U{start:08x}{last}")
        start = previous = point
    return "".join(parts) if code_points else ""


def _category_letter(point: int) -> str:
    return unicodedata.category(chr(point))[0]


@cache
def _unspaced_averages() -> dict[int, float]:
    """Average word length of each letter, mark and digit of the unspaced scripts."""
    averages: dict[int, float] = {}
    for blocks, average in _UNSPACED_SCRIPTS.values():
        for first, last in blocks:
            for point in range(first, last + 1):
                if _category_letter(point) in "LMN":
                    averages[point] = average
    return averages


@cache
def _token_pattern() -> re.Pattern[str]:
    """Compiled on first use: listing the combining marks takes a few tens of milliseconds."""
    unspaced = _ranges(sorted(_unspaced_averages()))
    marks = _ranges([p for p in range(0x0300, _MARK_PLANES_END) if _category_letter(p) == "M"])
    letter = rf"[^\W_{_IDEOGRAPHS_AND_KANA}{unspaced}]"
    piece = rf"{letter}(?:{letter}|[{marks}])*"
    return re.compile(
        rf"(?P<unspaced>[{unspaced}]+)|[{_IDEOGRAPHS_AND_KANA}]|{piece}(?:[{_JOINERS}]{piece})*"
    )


def _words_in_unspaced_run(run: str) -> int:
    averages = _unspaced_averages()
    base_letters = [ch for ch in run if _category_letter(ord(ch)) != "M"]
    if not base_letters:
        return 0
    return max(1, round(len(base_letters) / averages[ord(base_letters[0])]))


def count_words(text: str) -> int:
    """Words in ``text`` by the rules of each script (see the module docstring)."""
    runs = _token_pattern().findall(text)  # the unspaced run, or "" for any other word
    return sum(_words_in_unspaced_run(run) if run else 1 for run in runs)


def word_tokens(text: str) -> list[str]:
    """The words of ``text`` by the same rule as :func:`count_words`, case-folded.

    A run of an unspaced script (Thai, Lao, Khmer, Myanmar) has no word boundaries to go by,
    so each of its base letters is a token; Han and kana are one token per character already.
    """
    tokens: list[str] = []
    for match in _token_pattern().finditer(text):
        run = match.group("unspaced")
        if run:
            tokens.extend(ch for ch in run if _category_letter(ord(ch)) != "M")
        else:
            tokens.append(match.group(0).casefold())
    return tokens
