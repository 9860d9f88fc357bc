"""Turning page bytes into text: BOM, HTTP charset, <meta> charset, UTF-8, then a guess."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsflow.charset import decode_html

GERMAN = "Café „Zur Mühle“ schließt \u2013 ein Stück Kuchen kostete 3,80 €."
SPANISH = "El señor Muñoz celebró el Año Nuevo en La Coruña con “churros” y piñas."


def _html(body: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>t</title></head><body><p>{body}</p></body></html>"


def test_meta_charset_is_used_when_no_header() -> None:
    # GIVEN windows-1252 bytes that declare their charset in a <meta> tag
    data = _html(GERMAN, '<meta charset="windows-1252">').encode("cp1252")
    # WHEN decoded THEN the declared charset is used
    assert GERMAN in decode_html(data)


def test_http_equiv_content_type_is_used() -> None:
    # GIVEN ISO-8859-15 bytes declared by an http-equiv Content-Type meta
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-15">'
    data = _html("Prix : 12 €, œuvre", meta).encode("iso-8859-15")
    # WHEN decoded THEN that charset is used
    assert "Prix : 12 €, œuvre" in decode_html(data)


def test_xml_declaration_encoding_is_used() -> None:
    # GIVEN an XHTML page whose only declaration is the XML prolog
    data = ('<?xml version="1.0" encoding="windows-1252"?>' + _html(GERMAN)).encode("cp1252")
    # WHEN decoded THEN the prolog's encoding is used
    assert GERMAN in decode_html(data)


def test_header_charset_beats_meta_charset() -> None:
    # GIVEN KOI8-R bytes whose <meta> claims windows-1251
    data = _html("Городской совет", '<meta charset="windows-1251">').encode("koi8-r")
    # WHEN decoded with the header's charset THEN the header wins
    assert "Городской совет" in decode_html(data, charset="koi8-r")


def test_iso_8859_1_label_is_read_as_windows_1252() -> None:
    # GIVEN curly quotes (0x93/0x94) in a page labelled ISO-8859-1, as browsers treat it
    data = _html("“quoted”").encode("cp1252")
    # WHEN decoded with that label THEN the quotes are quotes, not C1 control characters
    assert "“quoted”" in decode_html(data, charset="ISO-8859-1")


def test_gb2312_label_is_read_as_gbk() -> None:
    # GIVEN a Chinese page labelled GB2312 that uses GBK characters (em dashes, a rarer
    # ideograph), as browsers allow
    text = "誓言\u2014\u2014“兄弟”\uff0c朱镕基"
    data = _html(text, '<meta charset="gb2312">').encode("gbk")
    # WHEN decoded THEN every character survives
    assert text in decode_html(data)


def test_utf8_bom_wins_over_a_wrong_header() -> None:
    # GIVEN a UTF-8 file with a byte-order mark, served with a default latin-1 header
    data = b"\xef\xbb\xbf" + _html(GERMAN).encode("utf-8")
    # WHEN decoded
    text = decode_html(data, charset="iso-8859-1")
    # THEN the BOM decides (WHATWG order) and is not part of the text
    assert GERMAN in text
    assert not text.startswith("\ufeff")


def test_utf16_page_with_bom_is_decoded() -> None:
    # GIVEN a page saved as UTF-16 (little endian, with BOM)
    data = _html(GERMAN).encode("utf-16")
    # WHEN decoded THEN the text is intact
    assert GERMAN in decode_html(data)


def test_meta_utf16_label_is_read_as_utf8() -> None:
    # GIVEN UTF-8 bytes whose <meta> says UTF-16 (impossible: the tag itself was ASCII)
    data = _html(GERMAN, '<meta charset="utf-16">').encode("utf-8")
    # WHEN decoded THEN UTF-8 is used
    assert GERMAN in decode_html(data)


def test_valid_utf8_without_declaration_is_utf8() -> None:
    # GIVEN undeclared UTF-8 bytes
    data = _html(SPANISH).encode("utf-8")
    # WHEN decoded THEN they are read as UTF-8
    assert SPANISH in decode_html(data)


def test_undeclared_western_bytes_are_guessed_as_windows_1252() -> None:
    # GIVEN undeclared Spanish windows-1252 bytes, which a statistical detector is as happy to
    # read as Central European cp1250 ("Muńoz")
    data = _html(SPANISH).encode("cp1252")
    # WHEN decoded THEN windows-1252 wins the tie
    assert SPANISH in decode_html(data)


def test_undeclared_cyrillic_bytes_are_guessed() -> None:
    # GIVEN undeclared windows-1251 Russian text
    text = "Городской совет одобрил продление трамвайной линии до гавани в среду вечером."
    data = _html(text).encode("cp1251")
    # WHEN decoded THEN the detector recognises the code page
    assert text in decode_html(data)


@pytest.mark.parametrize("label", ["x-no-such-charset", "base64", "utf-7", "undefined", ""])
def test_unusable_header_charset_is_ignored(label: str) -> None:
    # GIVEN a header charset that is unknown, a binary codec, unsafe or empty
    data = _html(GERMAN, '<meta charset="utf-8">').encode("utf-8")
    # WHEN decoded THEN the label is skipped and the page's own declaration used
    assert GERMAN in decode_html(data, charset=label)


def test_invalid_bytes_in_declared_utf8_are_replaced() -> None:
    # GIVEN a page declared UTF-8 that contains a stray windows-1252 byte
    data = _html("caf\xe9 ok", '<meta charset="utf-8">').encode("latin-1")
    # WHEN decoded THEN the stray byte becomes U+FFFD and the rest is kept
    assert "caf\ufffd ok" in decode_html(data)


@given(st.binary(max_size=2048), st.sampled_from([None, "utf-8", "shift_jis", "utf-16", "bogus"]))
def test_decoding_never_raises(data: bytes, charset: str | None) -> None:
    # GIVEN any bytes and any header charset WHEN decoded THEN a string comes back
    assert isinstance(decode_html(data, charset), str)
