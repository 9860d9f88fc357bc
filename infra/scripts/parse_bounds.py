"""Parse time and peak memory of pathological pages, per family, up to the maximum page size.

Each page is parsed by ``newsflow.extraction.parse_html`` in a child process of its own, so the
peak RSS (``resource.getrusage``) is that page's alone. Prints a Markdown table (the one in
docs/HARDENING.md) and, with ``--json FILE``, writes the rows.

    .venv/bin/python infra/scripts/parse_bounds.py            # full size: 5 MiB pages
    .venv/bin/python infra/scripts/parse_bounds.py --max-bytes 1048576
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PROSE = (
    "<p>The council met on Tuesday to discuss the new budget for the schools of the city,"
    " and the members agreed to publish the full figures before the next meeting.</p>"
)
HEAD = "<html><head><title>Council agrees on the school budget</title></head><body><article>"
TAIL = "</article></body></html>"


def _page(body: str, title: str = "Council agrees on the school budget") -> str:
    head = HEAD.replace("Council agrees on the school budget", title, 1)
    return head + "<h1>Budget</h1>" + PROSE * 3 + body + TAIL


def _crowded_tag(index: int, attributes: int) -> str:
    return "<p " + " ".join(f"a{i}=v" for i in range(attributes)) + f">cell {index}</p>"


# family -> (what it is, page of about ``size`` characters)
FAMILIES: dict[str, tuple[str, Callable[[int], str]]] = {
    "escaped_attributes": (
        'one text run "&lt;a x=x=x=..."',
        lambda size: _page("<p>&lt;a x=" + "x=" * (size // 2) + "</p>"),
    ),
    "escaped_comments": (
        'one text run "&lt;!-- &lt;!-- ..."',
        lambda size: _page("<p>" + "&lt;!-- " * (size // 8) + "</p>"),
    ),
    "whitespace_title": (
        "a <title> of spaces between two words",
        lambda size: _page("", title="Budget" + " " * size + "| City"),
    ),
    "unclosed_after_nesting": (
        '300 nested <div>, then "<b <b <b ..." to the end',
        lambda size: _page("")[: -len(TAIL)] + "<div>" * 300 + "<b " * (size // 3),
    ),
    "crowded_tags": (
        "tags of 1,000 attributes each (the bound per tag), 99 of them (the bound per page)",
        lambda size: _page("".join(_crowded_tag(i, 1_000) for i in range(99))),
    ),
    "one_huge_tag": (
        "one tag with an attribute per 8 characters",
        lambda size: _page(_crowded_tag(0, size // 8)),
    ),
    "small_paragraphs": (
        '"<p>word</p>" to the page size',
        lambda size: _page("<p>word</p>" * (size // 11)),
    ),
    "paragraphs_at_tag_bound": (
        "24,900 paragraphs (49,800 tags, the bound) of prose to the page size",
        lambda size: _page(("<p>" + "word " * max(1, (size // 24_900 - 7) // 5) + "</p>") * 24_900),
    ),
}


def _child(family: str, size: int, pipe: Connection) -> None:
    from newsflow.errors import PipelineError
    from newsflow.extraction import parse_html

    parse_html(_page(PROSE), "https://example.com/warm-up")  # imports and caches
    html = FAMILIES[family][1](size)
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    try:
        parse_html(html, "https://example.com/page")
        outcome = "parsed"
    except PipelineError as error:
        outcome = f"{error.reason}: {error.detail}"
    pipe.send(
        {
            "family": family,
            "chars": len(html),
            "seconds": round(time.perf_counter() - started, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "baseline_rss_mb": round(baseline_kb / 1024, 1),
            "outcome": outcome,
        }
    )


def measure(family: str, size: int, timeout: float) -> dict[str, Any]:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=_child, args=(family, size, sender)
    )
    process.start()
    if receiver.poll(timeout):
        row: dict[str, Any] = receiver.recv()
    else:
        row = {"family": family, "chars": size, "outcome": f"no result in {timeout:g} s"}
    process.kill()
    process.join()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-bytes", type=int, default=5 * 1024 * 1024)
    parser.add_argument("--steps", type=int, default=3, help="sizes: max/2^(steps-1) .. max")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES))
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    rows = []
    print("| family | page (chars) | wall s | CPU s | peak RSS MB | outcome |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for family in args.family or FAMILIES:
        for step in reversed(range(args.steps)):
            row = measure(family, args.max_bytes >> step, args.timeout)
            rows.append(row)
            print(
                f"| {family} | {row['chars']:,} | {row.get('seconds', '-')} |"
                f" {row.get('cpu_seconds', '-')} | {row.get('peak_rss_mb', '-')} |"
                f" {row['outcome'][:80]} |",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
