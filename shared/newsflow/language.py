"""Language identification for extracted text (ISO 639-1 codes).

py3langid is fast and ships its own model, but a character n-gram classifier says little about
a handful of words: on a headline or a caption it guesses between neighbours (German or
Luxembourgish, Spanish or Galician). Below :data:`MIN_LETTERS_FOR_DETECTION` letters, or when the
classifier is not confident, the page's own declaration (``<html lang>``, ``og:locale``,
``Content-Language``) is the better answer; above it the text wins, because templates often keep
a default ``lang="en"`` on pages written in another language.

What can go wrong: loading the model takes a few seconds, so it happens once per process, on the
first call (a Lambda container pays it on its first record, not at import).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Languages the classifier may answer with: ISO 639-1 codes of languages with a sizeable web
# press. Leaving out regional and constructed languages (Luxembourgish, Occitan, Esperanto,
# Latin, ...) removes the commonest confusions on short or mixed texts.
DETECTABLE_LANGUAGES: Final = frozenset(
    {
        "af", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en",
        "es", "et", "eu", "fa", "fi", "fr", "ga", "gl", "gu", "he", "hi", "hr", "hu", "hy",
        "id", "is", "it", "ja", "ka", "kk", "km", "kn", "ko", "lt", "lv", "mk", "ml", "mn",
        "mr", "ms", "mt", "my", "ne", "nl", "no", "pa", "pl", "ps", "pt", "ro", "ru", "si",
        "sk", "sl", "so", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur",
        "uz", "vi", "zh",
    }
)  # fmt: skip

# Below this many letters the text is a headline, a caption or a navigation crumb: use the hint.
MIN_LETTERS_FOR_DETECTION: Final = 50
# Calibrated probability (py3langid ``norm_probs``) under which the guess is not trusted.
MIN_CONFIDENCE: Final = 0.6
# The classifier walks every byte in Python: the opening of an article is plenty to decide.
SAMPLE_CHARS: Final = 400

# Deprecated or macro-language codes still found in page markup, mapped to what the classifier
# (and Amazon Comprehend) use.
_CODE_ALIASES: Final = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "nb": "no"}
_SUBTAG_SEPARATORS = re.compile(r"[-_\s]+")
_PRIMARY_SUBTAG = re.compile(r"[A-Za-z]{2,3}")

TRADITIONAL_CHINESE: Final = "zh-TW"
"""Amazon Comprehend's code for Chinese written in traditional characters."""
# Subtags that say traditional characters: the script, or where they are the norm.
_TRADITIONAL_CHINESE_SUBTAGS: Final = frozenset({"hant", "tw", "hk", "mo"})


def normalise_language_tag(
    tag: str | None, *, keep_traditional_chinese: bool = False
) -> str | None:
    """ISO 639-1 code of a BCP 47 / POSIX tag (``en-GB``, ``de_DE``, ``FR``), else ``None``.

    Three-letter codes, ``und``, ``x-default`` and anything unparseable give ``None``: a hint we
    cannot map is no hint. With ``keep_traditional_chinese``, Chinese in traditional characters
    (``zh-Hant``, ``zh-TW``, ``zh-HK``, ``zh_MO``; not ``zh-Hans-HK``) gives
    :data:`TRADITIONAL_CHINESE`, for services that analyse the two scripts apart.
    """
    if not tag:
        return None
    subtags = _SUBTAG_SEPARATORS.split(tag.strip())
    if not _PRIMARY_SUBTAG.fullmatch(subtags[0]):
        return None
    code = subtags[0].lower()
    code = _CODE_ALIASES.get(code, code)
    if len(code) != 2:
        return None
    if keep_traditional_chinese and code == "zh":
        rest = {subtag.lower() for subtag in subtags[1:]}
        if "hans" not in rest and rest & _TRADITIONAL_CHINESE_SUBTAGS:
            return TRADITIONAL_CHINESE
    return code


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(DETECTABLE_LANGUAGES))
    return identifier


def load_identifier() -> None:
    """Load the classifier now instead of on the first text (a SnapStart init snapshots it)."""
    _identifier()


_LETTER = re.compile(r"[^\W\d_]")


def _letters(text: str) -> int:
    return len(_LETTER.findall(text))


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``'s language, or ``None`` when neither text nor hint tells.

    ``hint`` is what the page declares (any BCP 47-ish tag). It is returned (normalised) when the
    text is too short or the classifier unsure; a confident classification of a long enough text
    overrides it.
    """
    fallback = normalise_language_tag(hint)
    sample = text.strip()[:SAMPLE_CHARS]
    if _letters(sample) < MIN_LETTERS_FOR_DETECTION:
        return fallback
    code, confidence = _identifier().classify(sample)
    if confidence < MIN_CONFIDENCE:
        return fallback
    return str(code)
