"""Parse cost is bounded and linear: pathological markup families, generated.

Each family once cost minutes or gigabytes (escaped markup runs and a title of spaces made
regular expressions backtrack; an unclosed tag run after deep nesting did too; thousands of
attributes on one element made libxml2 quadratic; megabytes of tiny paragraphs built a tree
larger than the fetch function's memory). The properties: parsing such a page either succeeds
or fails for good (``too_complex``, ``nothing_extracted``) - never another exception - within a
stated CPU bound, and the text clean-up grows at most linearly (a generous ratio, measured in
thread CPU time: the suite runs on a loaded machine). Real figures at the maximum page size are
in docs/HARDENING.md (``infra/scripts/parse_bounds.py``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.errors import PermanentError
from newsflow.extraction import clean_text, parse_html
from newsflow.parse_bounds import (
    MAX_EQUALS,
    MAX_EQUALS_PER_TAG,
    MAX_TAGS,
    ParseBudget,
    check_markup,
)

PROSE = (
    "<p>The council met on Tuesday to discuss the new budget for the schools of the city,"
    " and the members agreed to publish the full figures before the next meeting.</p>"
)
# CPU seconds one generated page (up to ~200 KB) may take, everything included. Before the
# bounds the same pages took from 15 s to over a minute.
PAGE_CPU_BOUND = 3.0
# Four times the input may cost at most this many times the CPU (linear: 4; quadratic: 16).
GROWTH_RATIO_BOUND = 10.0


def page(body: str, title: str = "Council agrees on the school budget") -> str:
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>Budget</h1>"
        f"{PROSE * 3}{body}</article></body></html>"
    )


# Each family: units -> the pathological part. Hypothesis picks the family's spelling.
Family = Callable[[int], str]


@st.composite
def families(draw: st.DrawFn) -> tuple[str, Family]:
    kind = draw(
        st.sampled_from(
            [
                "escaped_tag",
                "escaped_comment",
                "whitespace_title",
                "unclosed_after_nesting",
                "many_attributes",
                "small_paragraphs",
            ]
        )
    )
    element = draw(st.sampled_from(["a", "b", "div", "img", "span", "p"]))
    space = draw(st.sampled_from([" ", "\t", "\n", "\u00a0 "]))
    separator = draw(st.sampled_from(["|", "-", "\u2013", ":", "\u00bb"]))
    if kind == "escaped_tag":
        return kind, lambda n: page(f"<p>&lt;{element} x=" + "x=" * n + "</p>")
    if kind == "escaped_comment":
        return kind, lambda n: page("<p>" + f"&lt;!--{space}" * (n // 5) + "</p>")
    if kind == "whitespace_title":
        return kind, lambda n: page("", title="Budget" + space * n + f"{separator}x")
    if kind == "unclosed_after_nesting":
        return (
            kind,
            lambda n: (
                page("").removesuffix("</article></body></html>")
                + "<div>" * 300
                + f"<{element} " * (n // 3)
            ),
        )
    if kind == "many_attributes":
        return kind, lambda n: page(
            f"<{element} " + " ".join(f"a{i}=v" for i in range(n // 6)) + ">x</p>"
        )
    return kind, lambda n: page(f"<{element}>word</{element}>" * (n // 12))


def cpu_seconds(action: Callable[[], object]) -> float:
    started = time.thread_time()
    with contextlib.suppress(PermanentError):
        action()
    return time.thread_time() - started


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(family=families(), units=st.integers(min_value=20_000, max_value=200_000))
def test_pathological_pages_end_within_the_bound(family: tuple[str, Family], units: int) -> None:
    kind, build = family
    html = build(units)
    started = time.thread_time()
    try:
        article = parse_html(html, "https://news.example/budget")
    except PermanentError as error:
        assert error.reason in {"too_complex", "nothing_extracted"}, (kind, error)
    else:
        assert article.text
        assert len(article.title or "") < 2_100  # a bounded title, even from 200 KB of spaces
    used = time.thread_time() - started
    assert used < PAGE_CPU_BOUND, f"{kind} at {len(html):,} chars took {used:.2f} s of CPU"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family=families(), units=st.integers(min_value=20_000, max_value=40_000))
def test_text_clean_up_grows_linearly(family: tuple[str, Family], units: int) -> None:
    """The clean-up regular expressions on the page's text as the extractor would hand it over
    (escaped markup arrives unescaped): four times the input, at most ~4x the work."""
    _, build = family
    small = build(units).replace("&lt;", "<")
    large = build(units * 4).replace("&lt;", "<")
    small_cost = min(cpu_seconds(lambda: clean_text(small)) for _ in range(3))
    large_cost = min(cpu_seconds(lambda: clean_text(large)) for _ in range(3))
    assert large_cost < GROWTH_RATIO_BOUND * small_cost + 0.05, (small_cost, large_cost)


@pytest.mark.parametrize(
    ("markup", "says"),
    [
        pytest.param(page("<p>x</p>" * (MAX_TAGS // 2 + 1)), "tags", id="too many tags"),
        pytest.param(
            page("<p " + " ".join(f"a{i}=v" for i in range(MAX_EQUALS_PER_TAG + 1)) + ">x</p>"),
            "attributes",
            id="one tag with too many attributes",
        ),
        pytest.param(
            page("<p title='" + "=" * (MAX_EQUALS + 1) + "'>x</p>"),
            "'='",
            id="too many attributes in the page",
        ),
    ],
)
def test_pages_past_a_bound_fail_as_too_complex(markup: str, says: str) -> None:
    with pytest.raises(PermanentError) as caught:
        parse_html(markup, "https://news.example/budget")
    assert caught.value.reason == "too_complex"
    assert caught.value.stage == "parse"
    assert says in caught.value.detail


def test_a_page_at_the_bounds_passes_the_structure_checks() -> None:
    crowded = "<p " + " ".join(f"a{i}=v" for i in range(MAX_EQUALS_PER_TAG - 1)) + ">x</p>"
    check_markup(page(crowded + "<p>x</p>" * (MAX_TAGS // 2 - 200)))


def test_the_cpu_budget_fails_the_page_as_too_complex() -> None:
    with pytest.raises(PermanentError) as caught:
        parse_html(page(PROSE * 20), "https://news.example/budget", budget_seconds=0.0)
    assert caught.value.reason == "too_complex"
    assert "CPU" in caught.value.detail


def test_the_budget_counts_this_threads_cpu_only() -> None:
    budget = ParseBudget(60.0)
    time.sleep(0.05)  # waiting is not parsing
    assert budget.used() < 0.04
    budget.check("nothing")
