"""4. Cold start: import and initialisation of each handler module in a fresh interpreter.

Each sample is a new process (:mod:`bench.coldprobe`): interpreter start, import of the handler
module from its file, then ``_stage()`` as the first record calls it, with an environment like
Lambda's (function name, task root, region, dummy resource names, dummy credentials; no AWS
call is made). Reported: import, init (= building the stage: settings, boto3 clients, for the
local enricher the spaCy model), import + init, the process's wall time from ``exec`` to exit
as the parent saw it, and the first record's extra one-time work (the language identifier,
lazily loaded on first use). Medians over the samples.

On Lambda the runtime is already up when the import starts, the package is read from its
unzipped copy, and the CPU share is proportional to memory (a full vCPU at 1,769 MB): the fetch
function at 1,024 MB gets about 58% of a core, so its CPU-bound init takes longer there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.stats import summary

DUMMY_ENV = {
    "ARTICLES_BUCKET": "bench-dummy-bucket",
    "ARTICLES_TABLE": "bench-dummy-table",
    "ENRICH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dummy",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_METRICS_NAMESPACE": "newsflow",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}

VARIANTS = (
    # name, function folder, first-record kind, extra environment
    ("fetch", "functions/fetch", "fetch", {"POWERTOOLS_SERVICE_NAME": "fetch"}),
    ("enrich (local)", "functions/enrich", "enrich", {"ENRICH_BACKEND": "local"}),
    ("enrich (comprehend)", "functions/enrich", "", {"ENRICH_BACKEND": "comprehend"}),
)


def _environment(function_dir: Path, name: str, extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_"))
        and key not in ("ENRICH_BACKEND", "ARTICLES_BUCKET", "ARTICLES_TABLE", "ENRICH_QUEUE_URL")
    }
    env.update(DUMMY_ENV)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": f"newsflow-bench-{name.split()[0]}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "LAMBDA_TASK_ROOT": str(function_dir),
            # No X-Ray daemon here: with tracing on, the SDK would try to send segments.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    env.update(extra)
    return env


def run(root: Path, samples: int = 5, progress: Any = None) -> dict[str, Any]:
    results: dict[str, Any] = {"samples": samples}
    for name, folder, first, extra in VARIANTS:
        function_dir = root / folder
        env = _environment(function_dir, name, extra)
        runs: list[dict[str, Any]] = []
        walls: list[float] = []
        for _ in range(samples):
            started = time.perf_counter()
            completed = subprocess.run(  # noqa: S603 - our interpreter, our module
                [sys.executable, "-m", "bench.coldprobe", str(function_dir / "app.py"), first],
                capture_output=True,
                text=True,
                env=env,
                cwd=root,
                check=False,
                timeout=300,
            )
            walls.append((time.perf_counter() - started) * 1000)
            if completed.returncode != 0:
                results[name] = {"error": completed.stderr.strip().splitlines()[-3:]}
                break
            runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        else:
            results[name] = _summarise(runs, walls)
        if progress is not None:
            progress(f"cold start: {name} done")
    return results


def _summarise(runs: list[dict[str, Any]], walls: list[float]) -> dict[str, Any]:
    def column(key: str) -> list[float]:
        return [float(r[key]) for r in runs if r.get(key) is not None]

    return {
        "import_ms": summary(column("import_ms"), 1),
        "init_ms": summary(column("init_ms"), 1),
        "import_plus_init_ms": summary(
            [float(r["import_ms"]) + float(r["init_ms"]) for r in runs], 1
        ),
        "import_plus_init_cpu_ms": summary(
            [float(r["import_cpu_ms"]) + float(r["init_cpu_ms"]) for r in runs], 1
        ),
        "process_wall_ms": summary(walls, 1),
        "first_record_extra_ms": summary(column("first_record_extra_ms"), 1),
        "peak_rss_mb": summary(column("peak_rss_mb"), 1),
        "modules_loaded": runs[0]["modules_loaded"] if runs else None,
    }
