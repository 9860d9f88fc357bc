"""Page bytes to text, the way a browser decodes them (WHATWG encoding standard, in short).

The fetch stage hands over the bytes it received and the ``charset`` of the ``Content-Type``
header; everything else is read from the bytes. Decoding is total: undecodable bytes become
replacement characters and an unusable label is ignored, so a page is never lost here.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

try:  # a trafilatura dependency; the cp1252 fallback below keeps decoding total without it
    import charset_normalizer
except ImportError:  # pragma: no cover
    charset_normalizer = None  # type: ignore[assignment]

# The web's default for pages that declare nothing and are not UTF-8.
FALLBACK_CODEC: Final = "cp1252"

_DECLARATION_SCAN_BYTES: Final = 8192
_DETECTION_SAMPLE_BYTES: Final = 8192
# Runs of non-ASCII bytes with a little ASCII context: what tells code pages apart. On a page
# of markup they are a few percent of the bytes, and the detector's cost grows with its input.
_NON_ASCII_RUNS = re.compile(
    rb"[\x20-\x7e]{0,24}[\x80-\xff]+(?:[\x20-\x7e]{1,8}[\x80-\xff]+)*[\x20-\x7e]{0,24}"
)
_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._\-]+)""", re.IGNORECASE
)
# Labels browsers know and Python does not.
_LABEL_ALIASES: Final = {"x-gbk": "gbk", "windows-874": "cp874", "x-sjis": "shift_jis"}
# Browsers decode these legacy encodings with their superset (WHATWG encoding standard), and
# pages are written for browsers: in ISO-8859-1 bytes 0x80-0x9F are C1 control characters, in
# windows-1252 the curly quotes and dashes the author typed; GB2312 pages use GBK characters.
_BROWSER_SUPERSETS: Final = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
# Text codecs that are no page encoding: escape-sequence interpreters, IDNA, and UTF-7, which
# browsers refuse because it smuggles markup past filters.
_UNSAFE_CODECS: Final = frozenset(
    {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "utf-7"}
)


def _codec_for(label: str | bytes | None, *, from_markup: bool = False) -> str | None:
    """Python codec for a charset label, ``None`` when the label is unknown or unusable."""
    if not label:
        return None
    text = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    text = text.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_LABEL_ALIASES.get(text, text)).name
        b"\xff<p>".decode(name, errors="replace")  # binary codecs (base64, zlib) refuse here
    except (LookupError, UnicodeError):
        return None
    if name in _UNSAFE_CODECS:
        return None
    name = _BROWSER_SUPERSETS.get(name, name)
    if from_markup and name.startswith(("utf-16", "utf-32")):
        # A page that could be scanned as ASCII to find this label is not UTF-16 (WHATWG).
        return "utf-8"
    return name


def _declared_in_markup(data: bytes) -> str | None:
    head = data[:_DECLARATION_SCAN_BYTES]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return _codec_for(match.group(1), from_markup=True) if match else None


def _guess_codec(data: bytes) -> str:
    """Best single-byte or CJK codec for bytes that are not UTF-8 and declare nothing.

    charset_normalizer ranks candidates by how chaotic the decoded text looks; among equally
    clean Latin code pages it often picks cp1250 for Western text (turning "España" into
    "Espańa"), so windows-1252, the web's default, wins every tie.
    """
    if charset_normalizer is None:  # pragma: no cover
        return FALLBACK_CODEC
    sample = b" ".join(run.group(0) for run in _NON_ASCII_RUNS.finditer(data))
    matches = charset_normalizer.from_bytes(sample[:_DETECTION_SAMPLE_BYTES])
    best = matches.best()
    if best is None:
        return FALLBACK_CODEC
    for match in matches:
        if FALLBACK_CODEC in match.could_be_from_charset and match.chaos <= best.chaos + 0.01:
            return FALLBACK_CODEC
    return _codec_for(best.encoding) or FALLBACK_CODEC


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Decode page bytes the way a browser would; never raises.

    Order: a byte-order mark; the ``charset`` of the HTTP header; ``<meta charset>`` /
    ``http-equiv`` / the XML declaration; UTF-8 when the bytes are valid UTF-8; a statistical
    guess (charset_normalizer); windows-1252. The BOM goes first, as in the WHATWG encoding
    standard: servers send a default ``charset=iso-8859-1`` for UTF-8 files with a BOM far more
    often than the other way round. Declared encodings decode with replacement characters
    for stray bytes instead of failing.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    declared = _codec_for(charset) or _declared_in_markup(data)
    if declared is not None:
        return data.decode(declared, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return data.decode(_guess_codec(data), errors="replace")
