"""Structure limits for JSON read from a queue, checked before the JSON parser runs.

``json.loads`` recurses once per level of nesting: 100,000 ``[`` in a message body raise
``RecursionError`` (not ``ValueError``), which no caller expects, and pydantic's reader stops at
its own recursion limit with a less readable message. A message this pipeline understands is
never more than a few levels deep, so anything deeper is refused with a readable sentence first.
The check is one linear pass: strings are skipped by a regular expression without nested
quantifiers, then brackets are counted.
"""

from __future__ import annotations

import re
from typing import Final

# An ingest message inside two envelopes (EventBridge -> SNS -> SQS) with producer metadata is
# six levels deep at most; the limit leaves room without approaching the parser's recursion.
MAX_JSON_DEPTH: Final = 32
# Four times SQS's maximum message (1 MiB): whatever the body's source (a queue, the CLI, a
# test), the parser's work and memory stay bounded.
MAX_JSON_CHARS: Final = 4 * 1024 * 1024

# A JSON string: quote, then runs of ordinary characters or single escapes, then quote. Each
# alternative starts with a different character, so the match is linear in the text.
_JSON_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def json_structure_problem(text: str) -> str | None:
    """Why ``text`` is too large or too deeply nested to parse, or ``None`` when it is fine."""
    if len(text) > MAX_JSON_CHARS:
        return f"body longer than {MAX_JSON_CHARS:,} characters"
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return None  # cannot be too deep: the common case costs two counts
    depth = 0
    for bracket in _BRACKETS.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    return None
