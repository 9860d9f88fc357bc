"""Language of the extracted text, with the page's declaration as the fallback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from newsflow.extraction import parse_html
from newsflow.language import detect_language

ArticlePage = Callable[..., str]

TEXTS = {
    "en": "The city council voted on Wednesday to extend the tram line to the harbour district, "
    "with construction due to start next spring and the first trams running in 2027.",
    "de": "Die Stadtwerke wollen bis zum Jahr 2028 ihre gesamte Busflotte auf Fahrzeuge mit "
    "Brennstoffzellen umstellen, hat der Aufsichtsrat am Montagabend beschlossen.",
    "fr": "La librairie du centre-ville ne fermera finalement pas ses portes : une ancienne "
    "salariée et une coopérative d'habitants ont signé mardi un accord de reprise.",
    "es": "Las cooperativas de la comarca comenzaron esta semana la vendimia de las variedades "
    "blancas, casi quince días antes de lo habitual por el calor del verano.",
}


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_language_of_a_paragraph(language: str) -> None:
    # GIVEN a paragraph of news prose WHEN detected without a hint THEN its language is named
    assert detect_language(TEXTS[language]) == language


def test_text_overrides_a_wrong_page_declaration() -> None:
    # GIVEN German prose on a page whose template declares English
    # WHEN detected THEN the text wins
    assert detect_language(TEXTS["de"], hint="en") == "de"


@pytest.mark.parametrize("short", ["Der Stadtrat hat abgestimmt", "Le conseil a voté", "OK"])
def test_short_text_uses_the_hint(short: str) -> None:
    # GIVEN a text of a few words, too short for the classifier, and the page's declaration
    # WHEN detected THEN the declaration is the answer, reduced to ISO 639-1
    assert detect_language(short, hint="pt-BR") == "pt"


def test_short_text_without_hint_is_unknown() -> None:
    # GIVEN a few words and no declaration WHEN detected THEN the language is unknown
    assert detect_language("Le conseil a voté") is None


def test_empty_text_without_hint_is_unknown() -> None:
    # GIVEN no text at all WHEN detected THEN the language is unknown
    assert detect_language("") is None


def test_unsure_classification_falls_back_to_the_hint() -> None:
    # GIVEN a long enough string of personal names, which belongs to no language in particular
    names = "Priya Raman, Dorothy Okafor, Martin Hale, Tomasz Wierzbicki, Renate Kühn, Owen Pryce"
    # WHEN detected with a declaration THEN the declaration is kept
    assert detect_language(names, hint="fr") == "fr"


def test_page_language_comes_from_its_text(article_page: ArticlePage) -> None:
    # GIVEN a French article on a page declared lang="en"
    body = f"<p>{TEXTS['fr']}</p><p>{TEXTS['fr']}</p>"
    # WHEN parsed THEN the language is French
    assert parse_html(article_page(body, lang="en")).language == "fr"
