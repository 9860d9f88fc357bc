"""``make bench [CORPUS=dir]``: run the benchmarks, write JSON and the markdown tables.

    python -m bench.run [--corpus DIR] [--quick] [--only extraction,costs,...] [--docs FILE]

Sections: extraction, fetch_stage, enrichment, billing, cold_start, sizes, costs, throughput,
stream_report, duplicates, sources (costs needs fetch_stage, enrichment and billing). Results go to
``bench-results/`` (``latest.json``, ``latest.md`` and a time-stamped JSON); ``--docs
docs/BENCHMARKS.md`` also replaces the generated part of that file. Only loopback traffic:
pages come from a local site, AWS is moto.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ENTRIES = 50  # entries per feed in the sources section
ALL_SECTIONS = (
    "extraction", "fetch_stage", "enrichment", "billing", "cold_start", "sizes", "costs",
    "throughput", "stream_report", "duplicates", "sources", "concurrency",
)  # fmt: skip

FULL = {
    "extraction_pages": None,
    "fetch_articles": 150,
    "enrich_texts": 120,
    "billing_articles": 100,
    "cold_samples": 3,
    "throughput_sizes": "100,300,1000",
    "throughput_budget": 240.0,
    "report_articles": 100_000,
    "duplicate_articles": 300,
    "poll_sources": 1000,
}
QUICK = {
    "extraction_pages": 150,
    "fetch_articles": 40,
    "enrich_texts": 30,
    "billing_articles": 30,
    "cold_samples": 2,
    "throughput_sizes": "30,100",
    "throughput_budget": 120.0,
    "report_articles": 20_000,
    "duplicate_articles": 60,
    "poll_sources": 200,
}


def _offline_aws() -> None:
    """Fake credentials and no endpoint/profile: nothing here can reach a real AWS account."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "NEWSFLOW_STACK"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"  # noqa: S105 - moto placeholder
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ["AWS_REGION"] = "us-east-1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--corpus", type=Path, help="folder of .html/.html.gz pages")
    parser.add_argument("--quick", action="store_true", help="smaller samples, a minute or two")
    parser.add_argument("--only", help="comma-separated sections (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--docs", type=Path, help="markdown file whose generated part to replace")
    parser.add_argument("--sam-build", action="store_true", help="run `make build` before sizes")
    parser.add_argument(
        "--render", type=Path, help="only re-render the tables of a saved results JSON"
    )
    parser.add_argument("--extraction-pages", type=int, help="cap on pages (default: all)")
    parser.add_argument("--fetch-articles", type=int)
    parser.add_argument("--enrich-texts", type=int)
    parser.add_argument(
        "--billing-articles", type=int, help="English articles fetched and enriched, billed"
    )
    parser.add_argument("--cold-samples", type=int)
    parser.add_argument("--throughput-sizes", help="comma-separated URL counts")
    parser.add_argument("--throughput-budget", type=float, help="seconds for the section")
    parser.add_argument(
        "--throughput-from-build",
        action="store_true",
        help="run the local stack's functions from .aws-sam/build (python3.12, no site-packages)",
    )
    parser.add_argument(
        "--throughput-max-workers", type=int, help="worker processes per function at most"
    )
    parser.add_argument("--report-articles", type=int, help="articles in the report's day")
    parser.add_argument(
        "--duplicate-articles", type=int, help="originals of the near-duplicate labelled set"
    )
    parser.add_argument("--poll-sources", type=int, help="feeds of 50 entries polled per cycle")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    sections = tuple(s.strip() for s in (args.only or ",".join(ALL_SECTIONS)).split(","))
    unknown = set(sections) - set(ALL_SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if "costs" in sections and not {"fetch_stage", "enrichment", "billing"} <= set(sections):
        parser.error("the costs section needs fetch_stage, enrichment and billing")
    args.sections = sections
    return args


def _command(argv: list[str]) -> str:
    """The command line as it can be printed in docs: a corpus as its folder name only."""
    shown = []
    skip_next = False
    for index, arg in enumerate(argv):
        if skip_next:
            skip_next = False
            continue
        if arg == "--corpus" and index + 1 < len(argv):
            shown.append(f"--corpus <{Path(argv[index + 1]).name}>")
            skip_next = True
        elif arg.startswith("--corpus="):
            shown.append(f"--corpus <{Path(arg.split('=', 1)[1]).name}>")
        elif arg.startswith("--out") or arg.startswith("--docs"):
            shown.append(arg.split("=", 1)[0])
        else:
            shown.append(arg)
    return " ".join(["python -m bench.run", *shown])


def main(argv: list[str] | None = None) -> int:
    raw_argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw_argv)
    if args.render:
        return render_saved(args.render, args.docs)
    _offline_aws()
    logging.basicConfig(level=logging.ERROR)
    from bench import (
        billing,
        coldstart,
        concurrency,
        cost_report,
        duplicates,
        enrichment,
        extraction,
        fetch_stage,
        machine,
        report,
        sizes,
        stream_report,
        throughput,
    )
    from bench import sources as source_polls
    from bench.corpus import Corpus, builtin_corpus, load_corpus, spread
    from bench.samples import article_text
    from newsflow.settings import EnrichSettings
    from newsflow.text import count_words

    # The enrich stage's default minimum: shorter texts are not enriched.
    min_enrich_words = EnrichSettings.model_fields["MIN_WORDS"].default

    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    template = ROOT / "template.yaml"
    result: dict[str, Any] = {
        "machine": machine.describe(ROOT),
        "command": _command(raw_argv),
        "quick": args.quick,
    }
    corpus: Corpus = load_corpus(args.corpus) if args.corpus else builtin_corpus()
    progress(f"corpus: {corpus.label}, {len(corpus.pages)} pages")
    texts: list[tuple[str, str | None]] = []
    sections = args.sections

    def section(name: str, measure: Callable[[], Any]) -> None:
        """Run one section; a failure is recorded and the others still run."""
        if name not in sections:
            return
        try:
            result[name] = measure()
        except Exception as exc:  # a broken section must not lose the others' numbers
            logging.exception("section %s failed", name)
            result.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
        progress(f"{name} done")
        write(partial=True)

    def write(partial: bool) -> None:
        args.out.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        (args.out / ("bench-partial.json" if partial else "bench-latest.json")).write_text(
            payload, encoding="utf-8"
        )

    def extraction_section() -> Any:
        pages = corpus.pages
        if args.extraction_pages:
            pages = spread(pages, args.extraction_pages)
        return extraction.run(Corpus(corpus.label, pages), progress=progress, texts_out=texts)

    def enrichment_section() -> Any:
        english: list[tuple[str, str | None]] = [
            (text, language)
            for text, language in texts
            if language == "en" and count_words(text) >= min_enrich_words
        ]
        if len(english) < 10:
            english = [(article_text(i), "en") for i in range(args.enrich_texts)]
            result["enrichment_texts"] = "generated English articles (too few from the corpus)"
        else:
            result["enrichment_texts"] = f"English texts parsed from {corpus.label}"
        return enrichment.run(spread(english, args.enrich_texts), progress=progress)

    def billing_section() -> Any:
        """English articles of the corpus (the local model's full work), each a new story."""
        from newsflow.extraction import parse_html

        chosen = []
        for page in spread(corpus.pages, args.billing_articles * 8):
            try:
                parsed = parse_html(page.html, page.url)
            except Exception:  # noqa: S112 - a page the parser refuses is simply not used
                continue
            if parsed.language == "en" and count_words(parsed.text) >= 150:
                chosen.append(page)
            if len(chosen) == args.billing_articles:
                break
        return billing.run(chosen, template, progress=progress)

    def throughput_section() -> Any:
        wanted = tuple(int(n) for n in str(args.throughput_sizes).split(",") if n.strip())
        return throughput.run(
            template,
            wanted,
            budget_seconds=args.throughput_budget,
            progress=progress,
            build_dir=ROOT / ".aws-sam" / "build" if args.throughput_from_build else None,
            max_workers=args.throughput_max_workers,
        )

    section("extraction", extraction_section)
    section(
        "fetch_stage",
        lambda: fetch_stage.run(
            spread(corpus.pages, args.fetch_articles), template, progress=progress
        ),
    )
    section("enrichment", enrichment_section)
    section("billing", billing_section)
    section("cold_start", lambda: coldstart.run(ROOT, samples=args.cold_samples, progress=progress))
    section("sizes", lambda: sizes.run(ROOT, build=args.sam_build))
    section("throughput", throughput_section)
    section("stream_report", lambda: stream_report.run(args.report_articles))
    section(
        "duplicates",
        lambda: duplicates.run(corpus.pages, args.duplicate_articles, progress=progress),
    )
    section(
        "sources",
        lambda: source_polls.run(args.poll_sources, SOURCE_ENTRIES, progress=progress),
    )
    section("concurrency", lambda: concurrency.run(ROOT, progress=progress))
    if {"fetch_stage", "enrichment", "billing"} <= set(result):
        section("costs", lambda: cost_report.build(result, template))

    result["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_at_end"] = machine.load_now()
    markdown = report.render(result)
    write(partial=False)
    (args.out / "bench-partial.json").unlink(missing_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    (args.out / f"bench-{stamp}.json").write_text(
        (args.out / "bench-latest.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (args.out / "bench-latest.md").write_text(markdown, encoding="utf-8")
    if args.docs:
        document = args.docs.read_text(encoding="utf-8") if args.docs.is_file() else ""
        args.docs.write_text(report.replace_generated(document, markdown), encoding="utf-8")
    print(markdown)
    progress(f"results in {args.out.name}/bench-latest.json and bench-latest.md")
    return 1 if result.get("errors") else 0


def render_saved(results_file: Path, docs: Path | None) -> int:
    """Markdown from an earlier run's JSON (to refresh the docs without measuring again)."""
    from bench import report

    result = json.loads(results_file.read_text(encoding="utf-8"))
    markdown = report.render(result)
    if docs:
        document = docs.read_text(encoding="utf-8") if docs.is_file() else ""
        docs.write_text(report.replace_generated(document, markdown), encoding="utf-8")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
