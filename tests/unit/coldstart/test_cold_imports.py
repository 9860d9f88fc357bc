"""What a cold start imports: each handler module in a fresh interpreter, as Lambda loads it.

The import of a handler is most of a cold start; these tests pin what must not be in it. Import
time itself is measured by the benchmark (``bench/coldstart.py``), not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

LAMBDA_LIKE_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "ARTICLES_BUCKET": "cold-bucket",
    "ARTICLES_TABLE": "cold-table",
    "ENRICH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/cold",
    "POWERTOOLS_METRICS_NAMESPACE": "newsflow",
    "AWS_LAMBDA_FUNCTION_NAME": "newsflow-cold",
    "ENRICH_BACKEND": "local",
}

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(sys.modules)))
"""


def imported_modules(function: str, **environment: str) -> set[str]:
    """The modules loaded once ``functions/<function>/app.py`` is imported in a new process."""
    function_dir = ROOT / "functions" / function
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_"))
    }
    env.update(LAMBDA_LIKE_ENV)
    env["LAMBDA_TASK_ROOT"] = str(function_dir)
    env.update(environment)
    return set(last_json_line(["-c", PROBE, str(function_dir / "app.py")], env, timeout=120))


def last_json_line(command: list[str], env: dict[str, str], *, timeout: float = 180) -> Any:
    """Run this interpreter with ``command`` in a fresh process; the JSON of its last line."""
    completed = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=timeout,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


# Each is a few hundred milliseconds of import that the records never use.
NOT_AT_COLD_START = (
    # Powertools' event models, all of them: importing any parser model loads the package.
    "aws_lambda_powertools.utilities.parser.models",
    # The X-Ray recorder, with tracing off.
    "aws_xray_sdk.core",
)


@pytest.mark.parametrize("function", ["fetch", "enrich", "poll"])
def test_a_handler_with_tracing_off_imports_neither_event_models_nor_the_xray_sdk(
    function: str,
) -> None:
    modules = imported_modules(function, POWERTOOLS_TRACE_DISABLED="true")

    assert "newsflow.tracing" in modules  # the probe did import the handler
    assert not [name for name in NOT_AT_COLD_START if name in modules]


def test_the_enrich_handler_leaves_spacy_to_its_first_use() -> None:
    """The model loads when the stage is built; importing the handler does not load spaCy."""
    modules = imported_modules("enrich", POWERTOOLS_TRACE_DISABLED="true")

    assert "spacy" not in modules
    assert "vaderSentiment" not in modules


def test_with_tracing_on_the_handler_loads_the_xray_recorder() -> None:
    """Tracing still works when enabled: the recorder is there and botocore is patched."""
    modules = imported_modules("fetch", POWERTOOLS_TRACE_DISABLED="false")

    assert "aws_xray_sdk.core" in modules
    assert "aws_xray_sdk.ext.botocore.patch" in modules


def test_the_fetch_handler_leaves_the_enrichment_package_to_the_enrich_function() -> None:
    """Only the enrich stage writes entity keys: fetch loads none of newsflow.enrichment."""
    modules = imported_modules("fetch", POWERTOOLS_TRACE_DISABLED="true")

    assert "newsflow.storage.items" in modules
    assert not [name for name in modules if name.startswith("newsflow.enrichment")]
