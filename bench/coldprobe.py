"""One cold start of a handler module in this fresh interpreter (run by :mod:`bench.coldstart`).

``python -m bench.coldprobe HANDLER_FILE [first-record-kind]`` imports the handler module from
its file (as the Lambda runtime does), then calls its cached ``_stage()`` the way the first
record would - settings read from the environment the parent set (dummy resource names), boto3
clients created, the models its records use built (their schemas wait for first use), the model
loaded - and finally does the first record's own first-time work
without AWS: parsing a generated page (``fetch``) or enriching a generated text (``enrich``,
which loads the language identifier). Prints one JSON line of times in ms and peak RSS.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

from bench.memprobe import peak_rss_mb


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    started_cpu = time.process_time()
    handler_file = Path(argv[1])
    first = argv[2] if len(argv) > 2 else ""
    spec = importlib.util.spec_from_file_location("app", handler_file)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {handler_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    imported = time.perf_counter()
    imported_cpu = time.process_time()
    module._stage()
    initialised = time.perf_counter()
    initialised_cpu = time.process_time()
    if first == "fetch":
        from bench.samples import make_page
        from newsflow.extraction import parse_html

        parse_html(make_page(0).html, "https://news.example.org/a.html")
    elif first == "enrich":
        from bench.samples import article_text
        from newsflow.enrichment import get_enricher

        get_enricher("local").enrich(article_text(0))
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "import_ms": round((imported - started) * 1000, 1),
                "init_ms": round((initialised - imported) * 1000, 1),
                "import_cpu_ms": round((imported_cpu - started_cpu) * 1000, 1),
                "init_cpu_ms": round((initialised_cpu - imported_cpu) * 1000, 1),
                "first_record_extra_ms": round((done - initialised) * 1000, 1) if first else None,
                "peak_rss_mb": peak_rss_mb(),
                "modules_loaded": len(sys.modules),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
