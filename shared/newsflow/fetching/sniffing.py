"""Content sniffing: is a response body the HTML it claims to be?

Only HTML and XHTML are parsed. A missing Content-Type is accepted when the body starts like an
HTML document; a body served as HTML that is really binary (a PDF, an image, compressed data,
mostly control characters) is refused rather than handed to the parser.
"""

from __future__ import annotations

import codecs

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
SNIFF_BYTES = 1024
MAX_CONTROL_RATIO = 0.1

# Bytes that never appear in text (tab, LF, FF, CR and ESC aside).
_BINARY_BYTES = frozenset(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}) | {0x7F}
_BINARY_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "gzip data"),
)
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def parse_content_type(value: str) -> tuple[str, str | None]:
    media_type, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset":
            label = raw.strip().strip("\"'").lower()
            try:
                codecs.lookup(label)
            except LookupError:
                label = ""  # an unknown charset is no better than none: let the parser sniff
            charset = label or None
    return media_type.strip().lower(), charset


def looks_like_html(body: bytes) -> bool:
    head = body[:SNIFF_BYTES]
    for bom, encoding in _UNICODE_BOMS:
        if head.startswith(bom):
            head = head.decode(encoding, errors="ignore").encode("ascii", errors="ignore")
            break
    head = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    return head.startswith(b"<") and (b"<!doctype html" in head or b"<html" in head)


def binary_reason(body: bytes, charset: str | None) -> str | None:
    """Why a body served as HTML is really binary, or ``None``."""
    head = body[:SNIFF_BYTES]
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return f"the body is {what}, not HTML"
    wide = next((enc for bom, enc in _UNICODE_BOMS if head.startswith(bom)), None)
    if (
        wide is None
        and charset is not None
        and charset.replace("_", "-").startswith(("utf-16", "utf-32"))
    ):
        wide = charset
    if wide is not None:  # UTF-16/32 text is full of NUL bytes: judge the characters
        text = head.decode(wide, errors="replace")
        controls = sum(1 for ch in text if ord(ch) in _BINARY_BYTES)
        total = len(text)
    else:
        if b"\x00" in head:
            return "the body contains NUL bytes: binary data, not HTML"
        controls = sum(1 for byte in head if byte in _BINARY_BYTES)
        total = len(head)
    if total and controls / total > MAX_CONTROL_RATIO:
        return f"{controls} of the first {total} characters are control characters: not HTML"
    return None
