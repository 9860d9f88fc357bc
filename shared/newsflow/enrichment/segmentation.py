"""Sentence spans and size-limited chunks, without a language model.

Amazon Comprehend takes documents of limited UTF-8 *byte* size, so long articles are cut into
chunks. Chunks are runs of whole sentences (so an entity is never cut in two by a chunk
boundary, except inside a single over-long sentence) and are described as ``(start, end)``
character offsets into the original text, so results map straight back to it.

Everything here works on Python ``str`` indices (code points): a chunk boundary can never fall
inside a multi-byte UTF-8 character, and a forced cut also avoids separating a base character
from a following combining mark, zero-width joiner or variation selector.
"""

from __future__ import annotations

import re
import unicodedata

Span = tuple[int, int]

# A sentence ends after . ! ? or an ellipsis (plus closing quotes/brackets) followed by
# whitespace, after the CJK full stops (no space follows those), or at a line break.
_BOUNDARY = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?=\s)"
    r"|[\u3002\uff01\uff1f]+[\u300d\u300f\u201d\u2019)\]\uff09]*"
    r"|\n"
)
# Words whose trailing period is not a sentence end ("Mr. Cook", "J. K. Rowling", "U.S. troops").
_ABBREVIATION = re.compile(
    r"(?:^|[\s(\"'“])(?:[A-Za-z]|mr|mrs|ms|dr|prof|st|sr|jr|gen|gov|sen|rep|lt|col|capt|sgt"
    r"|rev|hon|inc|corp|co|ltd|vs|no|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
    r"|u\.s|u\.k|e\.g|i\.e)\.$",
    re.IGNORECASE,
)
_GLUE = {"\u200d", "\u200c", "\u034f"}  # joiners: never end a piece just before one


def sentence_spans(text: str) -> list[Span]:
    """Non-empty sentence spans, stripped of surrounding whitespace, in text order."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group().endswith(".") and _ABBREVIATION.search(text, max(0, end - 12), end):
            continue
        _add_stripped(spans, text, start, end)
        start = end
    _add_stripped(spans, text, start, len(text))
    return spans


def _add_stripped(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def pack_chunks(
    text: str, spans: list[Span], max_bytes: int, max_chars: int | None = None
) -> list[Span]:
    """Greedily pack consecutive sentences into chunks of at most ``max_bytes`` UTF-8 bytes
    (and ``max_chars`` characters, if given). A sentence that alone exceeds a limit is cut at the
    last whitespace that fits, or at a character boundary when there is none."""
    if max_bytes < 4:
        raise ValueError("max_bytes must leave room for one UTF-8 character (4 bytes)")
    char_limit = max_chars if max_chars is not None else len(text) + 1
    chunks: list[Span] = []
    chunk_start = chunk_end = -1
    chunk_bytes = 0
    for start, end in spans:
        if chunk_start >= 0:
            extra = len(text[chunk_end:end].encode("utf-8"))
            if chunk_bytes + extra <= max_bytes and end - chunk_start <= char_limit:
                chunk_end = end
                chunk_bytes += extra
                continue
            chunks.append((chunk_start, chunk_end))
            chunk_start = -1
        size = len(text[start:end].encode("utf-8"))
        if size <= max_bytes and end - start <= char_limit:
            chunk_start, chunk_end, chunk_bytes = start, end, size
        else:
            chunks.extend(split_span(text, start, end, max_bytes, char_limit))
    if chunk_start >= 0:
        chunks.append((chunk_start, chunk_end))
    return chunks


def line_spans(text: str, start: int, end: int, max_chars: int) -> list[Span]:
    """``text[start:end]`` split at line breaks, and lines longer than ``max_chars`` split at
    whitespace: the units a lexicon scores when a "sentence" has no end punctuation."""
    pieces: list[Span] = []
    line_start = start
    while line_start < end:
        line_end = text.find("\n", line_start, end)
        if line_end == -1:
            line_end = end
        pieces.extend(split_span(text, line_start, line_end, 4 * max_chars, max_chars))
        line_start = line_end + 1
    return pieces


def split_span(text: str, start: int, end: int, max_bytes: int, max_chars: int) -> list[Span]:
    """``text[start:end]`` cut into stripped pieces within both limits, preferring whitespace."""
    pieces: list[Span] = []
    while start < end:
        limit = min(end, start + max_chars)
        encoded = text[start:limit].encode("utf-8")
        if len(encoded) > max_bytes:
            # Decoding a byte prefix with errors="ignore" drops a trailing partial character.
            limit = start + len(encoded[:max_bytes].decode("utf-8", "ignore"))
        cut = limit
        if limit < end:
            cut = _safe_cut(text, start, limit)
        _add_stripped(pieces, text, start, cut)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    return pieces


def _safe_cut(text: str, start: int, limit: int) -> int:
    """Last whitespace in the second half of ``text[start:limit]``, else a cut at ``limit``
    moved back so it does not separate a character from its combining marks or joiners."""
    floor = start + (limit - start) // 2
    for index in range(limit, floor, -1):
        if text[index - 1].isspace() or text[index].isspace():
            return index
    cut = limit
    while cut > start + 1 and (_binds_to_previous(text[cut]) or text[cut - 1] in _GLUE):
        cut -= 1
    return cut


def _binds_to_previous(char: str) -> bool:
    return (
        unicodedata.combining(char) != 0
        or char in _GLUE
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin-tone modifiers
    )
