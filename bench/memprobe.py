"""Memory of one enrichment variant in a fresh interpreter (run by :mod:`bench.enrichment`).

``python -m bench.memprobe newsflow|bare TEXTS.json`` prints one JSON line: RSS after the
imports, after loading the model, and the peak (``VmHWM``) after enriching every text once;
then up to :data:`TRACED_TEXTS` of them again under ``tracemalloc`` (which slows spaCy down
several times) for the peak of Python-level allocations during enrichment; spaCy's arrays are
allocated by numpy/thinc and show up there only in part.
"""

from __future__ import annotations

import json
import resource
import sys
import tracemalloc
from pathlib import Path
from typing import Any

TRACED_TEXTS = 20


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_rss_mb() -> float:
    """High-water mark of this process's RSS (``VmHWM``; unlike ``ru_maxrss`` it does not
    carry over the parent's peak across ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str]) -> int:
    variant, texts_file = argv[1], Path(argv[2])
    texts: list[tuple[str, str | None]] = [
        (str(t), lang) for t, lang in json.loads(texts_file.read_text(encoding="utf-8"))
    ]
    start = rss_mb()
    if variant == "newsflow":
        from newsflow.enrichment import get_enricher

        imported = rss_mb()
        enricher: Any = get_enricher("local")

        def run(text: str, language: str | None) -> Any:
            return enricher.enrich(text, language)
    else:
        from bench.bare_nlp import load_bare

        imported = rss_mb()
        bare = load_bare(ner_only=False)

        def run(text: str, language: str | None) -> Any:
            return bare(text)

    loaded = rss_mb()
    for text, language in texts:
        run(text, language)
    after = rss_mb()
    peak = peak_rss_mb()
    tracemalloc.start()
    for text, language in texts[:TRACED_TEXTS]:
        run(text, language)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "rss_start_mb": start,
                "rss_after_imports_mb": imported,
                "rss_after_model_mb": loaded,
                "rss_after_texts_mb": after,
                "peak_rss_mb": peak,
                "tracemalloc_peak_mb": round(traced_peak / 1024 / 1024, 1),
                "tracemalloc_texts": min(len(texts), TRACED_TEXTS),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
