"""Language identification for extracted text (ISO 639-1 codes)."""

from __future__ import annotations

import py3langid

MIN_CHARS_FOR_DETECTION = 40


def detect_language(text: str, hint: str | None = None) -> str | None:
    """Language of ``text``; below a few sentences' worth of text, trust the page's own hint."""
    sample = text.strip()[:5000]
    normalised_hint = (hint or "").strip().lower().replace("_", "-").split("-")[0] or None
    if len(sample) < MIN_CHARS_FOR_DETECTION:
        return normalised_hint
    code, _score = py3langid.classify(sample)
    return str(code)
