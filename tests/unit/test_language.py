"""Language tags: one normalisation for page hints, callers' languages and backend codes."""

from __future__ import annotations

import pytest

from newsflow.enrichment.base import resolve_language
from newsflow.language import TRADITIONAL_CHINESE, normalise_language_tag

ENGLISH = (
    "The city council voted on Wednesday to extend the tram line to the harbour district, "
    "with construction due to start next spring and the first trams running in 2027."
)


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("en-GB", "en"),
        ("EN_us", "en"),
        ("de_DE", "de"),
        ("pt_BR", "pt"),
        ("FR", "fr"),
        ("zh-Hant-TW", "zh"),
        ("zh-CN", "zh"),
        ("iw", "he"),
        ("nb-NO", "no"),
        (" es ", "es"),
        ("und", None),
        ("eng", None),
        ("x-default", None),
        ("english", None),
        ("12", None),
        ("e", None),
        ("-en", None),
        ("\u00e9n-GB", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_language_tags_are_reduced_to_iso_639_1(tag: str | None, code: str | None) -> None:
    # GIVEN a language tag as pages and callers write them
    # WHEN normalised THEN the ISO 639-1 code, or None for anything that is not one
    assert normalise_language_tag(tag) == code


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("zh-Hant-TW", TRADITIONAL_CHINESE),
        ("zh-Hant", TRADITIONAL_CHINESE),
        ("zh_TW", TRADITIONAL_CHINESE),
        ("ZH-hk", TRADITIONAL_CHINESE),
        ("zh-MO", TRADITIONAL_CHINESE),
        ("zh-Hans-HK", "zh"),
        ("zh-CN", "zh"),
        ("zh", "zh"),
        ("en-TW", "en"),
        ("garbage!", None),
    ],
)
def test_traditional_chinese_can_be_kept_apart(tag: str, code: str | None) -> None:
    # GIVEN a tag, for a backend that analyses the two Chinese scripts apart
    # WHEN normalised keeping traditional Chinese THEN zh-TW only for traditional characters
    assert normalise_language_tag(tag, keep_traditional_chinese=True) == code


@pytest.mark.parametrize(
    ("language", "code"),
    [("EN_us", "en"), ("zh-Hant", TRADITIONAL_CHINESE), ("pt_BR", "pt"), ("iw-IL", "he")],
)
def test_the_callers_language_is_normalised(language: str, code: str) -> None:
    # GIVEN a caller's language tag WHEN the enrichers resolve it THEN the normalised code
    assert resolve_language(ENGLISH, language) == code


@pytest.mark.parametrize("language", [None, "", "eng", "not a language"])
def test_an_unusable_language_falls_back_to_detection(language: str | None) -> None:
    # GIVEN English text and no usable language tag
    # WHEN the enrichers resolve the language THEN it is detected from the text
    assert resolve_language(ENGLISH, language) == "en"
