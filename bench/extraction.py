"""1. Extraction quality and speed: bare ``trafilatura.extract`` against ``parse_html``.

Both get the same page bytes in the same process; the order alternates page by page (bare
first on even pages, newsflow first on odd ones) so that neither always runs on a warm cache.
``parse_html`` does more than the bare call - decoding as a browser would, metadata, a date
search, language detection, text clean-up - which is what the ratio prices. Both are scored
with the snippet metric on the pages the corpus annotates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import trafilatura

from bench.corpus import Corpus, Page
from bench.scoring import SnippetCounts, score_document, total
from bench.stats import median_of_ratios, ratio, summary
from bench.timing import Sample, timed
from newsflow.errors import PipelineError
from newsflow.extraction import parse_html
from newsflow.models import ParsedArticle

GOAL_RATIO = 1.3
WARM_UP_PAGES = 3


def bare_extract(html: bytes) -> str | None:
    result = trafilatura.extract(html, include_comments=False)
    return result if isinstance(result, str) else None


def newsflow_extract(page: Page) -> ParsedArticle:
    return parse_html(page.html, page.url)


def run(
    corpus: Corpus,
    progress: Any = None,
    texts_out: list[tuple[str, str | None]] | None = None,
) -> dict[str, Any]:
    """Measure every page of ``corpus``; ``texts_out`` collects (text, language) per parse."""
    pages = corpus.pages
    for page in pages[:WARM_UP_PAGES]:  # imports, the language model, lxml caches
        timed(partial(bare_extract, page.html))
        timed(partial(newsflow_extract, page))

    bare_times: list[Sample] = []
    flow_times: list[Sample] = []
    bare_scores: list[SnippetCounts] = []
    flow_scores: list[SnippetCounts] = []
    flow_failures: Counter[str] = Counter()
    bare_failures = 0
    for index, page in enumerate(pages):
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("bare", partial(bare_extract, page.html)),
            ("flow", partial(newsflow_extract, page)),
        ]
        if index % 2:
            runs.reverse()
        results: dict[str, tuple[Any, Sample, BaseException | None]] = {
            name: timed(function) for name, function in runs
        }
        bare_text, bare_sample, bare_error = results["bare"]
        flow_article, flow_sample, flow_error = results["flow"]
        flow_text = flow_article.text if isinstance(flow_article, ParsedArticle) else None
        if texts_out is not None and isinstance(flow_article, ParsedArticle):
            texts_out.append((flow_article.text, flow_article.language))
        bare_times.append(bare_sample)
        flow_times.append(flow_sample)
        if bare_error is not None or not bare_text:
            bare_failures += 1
        if flow_error is not None:
            reason = flow_error.reason if isinstance(flow_error, PipelineError) else "crash"
            flow_failures[str(reason)] += 1
        if page.expected is not None:
            bare_scores.append(score_document(bare_text, page.expected, page.unwanted))
            flow_scores.append(score_document(flow_text, page.expected, page.unwanted))
        if progress is not None and (index + 1) % 100 == 0:
            progress(f"extraction: {index + 1}/{len(pages)} pages")

    bare_cpu = [s.cpu_ms for s in bare_times]
    flow_cpu = [s.cpu_ms for s in flow_times]
    bare_wall = [s.wall_ms for s in bare_times]
    flow_wall = [s.wall_ms for s in flow_times]
    bare_cpu_summary = summary(bare_cpu)
    flow_cpu_summary = summary(flow_cpu)
    median_cpu_ratio = ratio(float(flow_cpu_summary["median"]), float(bare_cpu_summary["median"]))
    result: dict[str, Any] = {
        "corpus": corpus.label,
        "pages": len(pages),
        "annotated_pages": len(bare_scores),
        "order": "alternating per page",
        "timing_ms": {
            "trafilatura": {"cpu": bare_cpu_summary, "wall": summary(bare_wall)},
            "newsflow": {"cpu": flow_cpu_summary, "wall": summary(flow_wall)},
        },
        "ratio": {
            "median_cpu": median_cpu_ratio,
            "median_wall": ratio(
                float(summary(flow_wall)["median"]), float(summary(bare_wall)["median"])
            ),
            "total_cpu": ratio(sum(flow_cpu), sum(bare_cpu)),
            "median_of_page_ratios_cpu": median_of_ratios(
                list(zip(flow_cpu, bare_cpu, strict=True))
            ),
        },
        "goal_ratio": GOAL_RATIO,
        "goal_met": median_cpu_ratio is not None and median_cpu_ratio <= GOAL_RATIO,
        "failures": {
            "trafilatura_empty": bare_failures,
            "newsflow_by_reason": dict(flow_failures),
        },
    }
    if bare_scores:
        result["quality"] = {
            "trafilatura": total(bare_scores).as_dict(),
            "newsflow": total(flow_scores).as_dict(),
        }
    return result
