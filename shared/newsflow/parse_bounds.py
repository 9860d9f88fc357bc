"""Bounds on the work one page may cost the parser: structure checks and a CPU budget.

libxml2 and trafilatura do work that grows faster than the page on some markup: libxml2 checks
each new attribute of an element against all earlier ones (40,000 attributes: tens of seconds),
and the tree of 5 MB of tiny paragraphs takes more memory than the fetch function has. Neither
can be interrupted from Python once it runs (``signal.alarm`` does not reach into lxml's C
parser), so pathological pages are refused *before* the parser by checks that are one linear
pass over the text, and the phases after it (extraction, metadata) are checked against a CPU
budget in between. Past a bound the page fails for good with ``too_complex``: the same bytes
would cost the same on every retry.

The bounds sit well above real pages: over a thousand real news and blog pages the most tags in
one page was 19,629 (the bound is 50,000), the most ``=`` signs in one page 22,802 (the bound
is 100,000) and in one tag 328 (the bound is 1,000). At the bounds a page still parses within
the budget (docs/HARDENING.md has the figures).
"""

from __future__ import annotations

import re
import time
from typing import Final

from newsflow.errors import PermanentError, Reason, Stage
from newsflow.settings import PARSE_BUDGET_SECONDS

# Decoded characters; the fetcher caps a body at 5 MiB of bytes, so this only binds for text
# handed in from elsewhere (the CLI, a benchmark).
MAX_MARKUP_CHARS: Final = 6 * 1024 * 1024
# Tags of any kind (opening, closing, comments, declarations) in one page.
MAX_TAGS: Final = 50_000
# ``=`` signs in the whole page: a bound on all its attributes (scripts and URLs count too).
MAX_EQUALS: Final = 100_000
# ``=`` signs inside one tag: a bound on its attributes (an attribute value such as a URL with a
# query string may hold several).
MAX_EQUALS_PER_TAG: Final = 1_000

_TAG_START = re.compile(r"<[A-Za-z!/?]")
# An opening tag with more than MAX_EQUALS_PER_TAG "=" before its end. ``[^<>=]*=`` has one way
# to match, and the scan of one tag stops at the next ``<`` or ``>``, so the search is linear.
_CROWDED_TAG = re.compile(rf"<[A-Za-z](?:[^<>=]*=){{{MAX_EQUALS_PER_TAG + 1}}}")


def too_complex(detail: str) -> PermanentError:
    return PermanentError(Reason.TOO_COMPLEX, detail, stage=Stage.PARSE)


def check_markup(markup: str) -> None:
    """Refuse markup whose parse would cost more than the bounds allow (``too_complex``)."""
    if len(markup) > MAX_MARKUP_CHARS:
        raise too_complex(f"page longer than {MAX_MARKUP_CHARS:,} characters")
    if markup.count("<") > MAX_TAGS:  # cheap upper bound first, the exact count only if needed
        tags = sum(1 for _ in _TAG_START.finditer(markup))
        if tags > MAX_TAGS:
            raise too_complex(f"{tags:,} tags (the limit is {MAX_TAGS:,})")
    equals = markup.count("=")
    if equals > MAX_EQUALS:
        raise too_complex(f"{equals:,} attribute signs '=' (the limit is {MAX_EQUALS:,})")
    if equals > MAX_EQUALS_PER_TAG and _CROWDED_TAG.search(markup):
        raise too_complex(f"a tag with more than {MAX_EQUALS_PER_TAG:,} attributes")


class ParseBudget:
    """CPU seconds this thread may spend on one page, checked between parse phases.

    Thread CPU time, not wall time: parses running side by side in threads of one function
    each get their own budget, and waiting for the lock of the interpreter does not count.
    """

    def __init__(self, seconds: float = PARSE_BUDGET_SECONDS) -> None:
        self.seconds = seconds
        self._started = time.thread_time()

    def used(self) -> float:
        return time.thread_time() - self._started

    def check(self, phase: str) -> None:
        used = self.used()
        if used > self.seconds:
            raise too_complex(
                f"parsing used {used:.1f} s of CPU by the end of {phase}"
                f" (the budget is {self.seconds:g} s)"
            )
