"""4. Cold start: import and initialisation of each handler module in a fresh interpreter.

Each sample is a new process (:mod:`bench.coldprobe`): interpreter start, import of the handler
module from its file, then ``_stage()`` as the first record calls it, with an environment like
Lambda's (function name, task root, region, dummy resource names, dummy credentials; no AWS
call is made). Reported: import, init (= building the stage: settings, boto3 clients, for the
local enricher the spaCy model), import + init, the process's wall time from ``exec`` to exit
as the parent saw it, and the first record's extra one-time work (the language identifier,
lazily loaded on first use). Medians over the samples.

Yardsticks, each in a fresh process too (:mod:`bench.coldbare`). Two are the issue's and
judge the goals: importing the libraries the fetch handler's records use (boto3, trafilatura,
pydantic, urllib3), and loading the same spaCy model and VADER bare (``spacy.load`` of the model
package, its default pipeline). The goals: the fetch handler's import within 1.3 times the bare
imports, the enrich handler ready (import + stage with the model) no slower than the bare load.
Two more are reported beside them, not judged: the fetch libraries as a handler uses them
(pydantic's model machinery and Powertools too, which a bare ``import pydantic`` does not load),
so the fetch handler over it is newsflow's own share; and the model loaded the standard way with
only the components newsflow runs (``ner``) plus VADER, stricter than the issue's yardstick.
Every round runs each yardstick and each handler once, in turn, so a change in the machine's
load touches all of them alike; ratios are on CPU time.

Tracing: the handlers run with ``POWERTOOLS_TRACE_DISABLED=true`` (no X-Ray daemon here), so
they do not load the X-Ray SDK; "fetch (tracing on)" shows what the template's default
``Tracing: Active`` adds.

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

from bench.stats import ratio, summary

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
    (
        "fetch (tracing on)",
        "functions/fetch",
        "",
        {"POWERTOOLS_SERVICE_NAME": "fetch", "POWERTOOLS_TRACE_DISABLED": "false"},
    ),
    ("enrich (local)", "functions/enrich", "enrich", {"ENRICH_BACKEND": "local"}),
    ("enrich (comprehend)", "functions/enrich", "", {"ENRICH_BACKEND": "comprehend"}),
)

FETCH_BARE = "bare boto3 + trafilatura + pydantic + urllib3"
FETCH_AS_USED = "bare fetch libraries as used (+ BaseModel, Field, Powertools)"
ENRICH_DEFAULT = "bare spaCy model, default pipeline + VADER"
ENRICH_NER = "bare spaCy model, newsflow's components (ner) + VADER"

YARDSTICKS = (
    # name, bench.coldbare argument
    (FETCH_BARE, "fetch"),
    (FETCH_AS_USED, "fetch-as-used"),
    (ENRICH_DEFAULT, "enrich-default"),
    (ENRICH_NER, "enrich-ner"),
)

GOALS = (
    # handler, its measure, yardstick, limit on the ratio of median CPU times (None: reported)
    ("fetch", "import", FETCH_BARE, 1.3),
    ("fetch", "import", FETCH_AS_USED, None),
    ("fetch (tracing on)", "import", FETCH_BARE, None),
    ("enrich (local)", "import + init", ENRICH_DEFAULT, 1.0),
    ("enrich (local)", "import + init", ENRICH_NER, None),
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


def _probe(command: list[str], env: dict[str, str], root: Path) -> tuple[Any, float]:
    """One fresh process: its JSON line (or the error's last lines) and its wall time in ms."""
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=False,
        timeout=300,
    )
    wall = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-3:]}, wall
    return json.loads(completed.stdout.strip().splitlines()[-1]), wall


def run(root: Path, samples: int = 5, progress: Any = None) -> dict[str, Any]:
    jobs: list[tuple[str, list[str], dict[str, str]]] = []
    for name, folder, first, extra in VARIANTS:
        function_dir = root / folder
        command = ["-m", "bench.coldprobe", str(function_dir / "app.py"), first]
        jobs.append((name, command, _environment(function_dir, name, extra)))
    for name, kind in YARDSTICKS:
        function_dir = root / "functions" / kind.split("-")[0]
        command = ["-m", "bench.coldbare", kind]
        jobs.append((name, command, _environment(function_dir, kind, {})))

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in jobs}
    walls: dict[str, list[float]] = {name: [] for name, _, _ in jobs}
    errors: dict[str, Any] = {}
    for round_number in range(samples):
        for name, command, env in jobs:  # one of each per round: load changes touch all alike
            if name in errors:
                continue
            measured, wall = _probe(command, env, root)
            if "error" in measured:
                errors[name] = measured
                continue
            runs[name].append(measured)
            walls[name].append(wall)
        if progress is not None:
            progress(f"cold start: round {round_number + 1} of {samples} done")

    results: dict[str, Any] = {"samples": samples}
    for name, _, _, _ in VARIANTS:
        results[name] = errors.get(name) or _summarise(runs[name], walls[name])
    results["yardsticks"] = {
        name: errors.get(name) or _summarise_bare(runs[name], walls[name]) for name, _ in YARDSTICKS
    }
    results["goals"] = _goals(results)
    return results


def _summarise(runs: list[dict[str, Any]], walls: list[float]) -> dict[str, Any]:
    def column(key: str) -> list[float]:
        return [float(r[key]) for r in runs if r.get(key) is not None]

    return {
        "import_ms": summary(column("import_ms"), 1),
        "import_cpu_ms": summary(column("import_cpu_ms"), 1),
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


def _summarise_bare(runs: list[dict[str, Any]], walls: list[float]) -> dict[str, Any]:
    return {
        "ready_ms": summary([float(r["ready_ms"]) for r in runs], 1),
        "ready_cpu_ms": summary([float(r["ready_cpu_ms"]) for r in runs], 1),
        "process_wall_ms": summary(walls, 1),
        "modules_loaded": runs[0]["modules_loaded"] if runs else None,
    }


def _median(section: dict[str, Any], key: str) -> float | None:
    value = (section.get(key) or {}).get("median")
    return float(value) if value is not None else None


def _goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Handler / yardstick on median CPU (and wall) times, with each goal's limit."""
    goals = []
    for handler, measure, yardstick, limit in GOALS:
        section, bare = results.get(handler) or {}, results["yardsticks"].get(yardstick) or {}
        if "error" in section or "error" in bare:
            continue
        key = "import" if measure == "import" else "import_plus_init"
        cpu = _median(section, f"{key}_cpu_ms")
        wall = _median(section, f"{key}_ms")
        bare_cpu, bare_wall = _median(bare, "ready_cpu_ms"), _median(bare, "ready_ms")
        cpu_ratio = ratio(cpu, bare_cpu) if cpu is not None and bare_cpu else None
        goals.append(
            {
                "handler": handler,
                "measure": measure,
                "yardstick": yardstick,
                "handler_cpu_ms": cpu,
                "yardstick_cpu_ms": bare_cpu,
                "ratio_cpu": cpu_ratio,
                "ratio_wall": ratio(wall, bare_wall) if wall is not None and bare_wall else None,
                "limit": limit,
                "met": None if limit is None or cpu_ratio is None else cpu_ratio <= limit,
            }
        )
    return goals
