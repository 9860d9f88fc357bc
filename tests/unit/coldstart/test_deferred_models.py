"""Models build their schemas on first use: not at a handler's import, not for unused models,
and, in the fetch function, not inside the records' threads.

Each check runs in a fresh interpreter: in this one, earlier tests have built the models.
"""

from __future__ import annotations

import os
from pathlib import Path

from .test_cold_imports import LAMBDA_LIKE_ENV, ROOT, last_json_line

HERE = Path(__file__).resolve().parent

ENRICHMENT_MODELS = {
    "newsflow.models.EnrichedArticle",
    "newsflow.models.Enrichment",
    "newsflow.models.Entity",
    "newsflow.models.Mention",
    "newsflow.models.Sentiment",
}

BUILT_AT_IMPORT = """
import importlib.util, json, sys
from pydantic import BaseModel
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(
    f"{name}.{value.__qualname__}"
    for name, mod in list(sys.modules.items()) if name.startswith("newsflow.")
    for value in vars(mod).values()
    if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name
    and value.__pydantic_complete__
)))
"""


def _clean_environment(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_"))
        and key not in ("ARTICLES_BUCKET", "ARTICLES_TABLE", "ENRICH_QUEUE_URL")
    }
    env.update(extra)
    return env


def test_importing_a_handler_builds_none_of_newsflows_message_and_document_models() -> None:
    for function in ("fetch", "enrich"):
        function_dir = ROOT / "functions" / function
        env = _clean_environment(
            **LAMBDA_LIKE_ENV,
            LAMBDA_TASK_ROOT=str(function_dir),
            POWERTOOLS_TRACE_DISABLED="true",
        )
        built = last_json_line(["-c", BUILT_AT_IMPORT, str(function_dir / "app.py")], env)

        assert isinstance(built, list)
        assert not [
            name for name in built if name.startswith(("newsflow.models.", "newsflow.settings."))
        ]


def test_a_fetch_batch_builds_no_model_in_its_threads_and_never_the_enrichment_models() -> None:
    """The stage builds what the records use before they start; the rest stays deferred."""
    env = _clean_environment(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_NAMESPACE="newsflow",
    )
    outcome = last_json_line([str(HERE / "first_batch_probe.py")], env)

    assert isinstance(outcome, dict)
    # the batch did run its records: fetched, failed for good, rejected and one to retry
    assert outcome["statuses"] == ["FAILED", "FAILED", "FETCHED", "FETCHED", "FETCHED"]
    assert len(outcome["response"]["batchItemFailures"]) == 1
    assert outcome["built_by_records"] == []
    assert set(outcome["still_deferred"]) >= ENRICHMENT_MODELS
