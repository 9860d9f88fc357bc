"""Pages parsed from their bytes (the decoding rules are tested in ``test_charset.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from newsflow.extraction import parse_html

Page = Callable[[str], bytes]
ArticlePage = Callable[..., str]


# ------------------------------------------------------------------ fixture pages


@pytest.mark.parametrize("name", ["cp1252_meta_charset.html", "cp1252_no_charset.html"])
def test_windows_1252_page_is_decoded(page: Page, name: str) -> None:
    # GIVEN a German page saved in windows-1252, with and without a <meta> charset, whose
    # quotes (0x84, 0x93), dash (0x96) and euro sign (0x80) differ from ISO-8859-1
    # WHEN parsed from its bytes
    article = parse_html(page(name))
    # THEN umlauts, quotes, dash and euro sign come out right
    assert article.title == "Café „Zur Mühle“ schließt nach 62 Jahren"
    assert "3,80 € gekostet" in article.text
    assert "keinen Nachfolger \u2013 und auch keine Köchin" in article.text
    assert article.author == "Jürgen Weißgerber"
    assert article.language == "de"


def test_http_charset_overrides_a_wrong_meta_charset(page: Page) -> None:
    # GIVEN windows-1252 bytes whose <meta> wrongly claims UTF-8
    data = page("cp1252_meta_charset.html").replace(b"charset=windows-1252", b"charset=utf-8")
    # WHEN parsed with the charset of the HTTP Content-Type header
    article = parse_html(data, charset="windows-1252")
    # THEN the header wins and the text is intact
    assert "Café „Zur Mühle“" in article.text


def test_str_input_with_xml_declaration_is_parsed(
    article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN already-decoded text that still starts with an encoding declaration (which lxml
    # refuses for text input)
    html = '<?xml version="1.0" encoding="ISO-8859-1"?>\n' + article_page(
        paragraphs + "<p>Café crème und Grüße aus Köln, schreibt der Korrespondent.</p>"
    )
    # WHEN parsed THEN non-ASCII text is intact
    assert "Café crème und Grüße aus Köln" in parse_html(html).text
