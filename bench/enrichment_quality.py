"""Quality of the local enricher on the two hand-labelled samples in ``tests/fixtures``.

* Sentiment (``news_sentiment_labelled.tsv``): each sentence enriched on its own; its document
  label (POSITIVE / NEGATIVE / NEUTRAL; MIXED counts as NEUTRAL) against the hand label;
  accuracy and macro-F1 over the three classes.
* Document sentiment (``news_entities_labelled.json``, whose excerpts carry a hand label too):
  each excerpt's document label against its hand label; accuracy and macro-F1.
* Entities (``news_entities_labelled.json``): each text enriched; every mention the enricher
  returns is a predicted ``(start, end, type)`` span, scored against the hand-labelled spans by
  exact match, per type and overall (micro): precision, recall, F1.

Run: ``python -m bench.enrichment_quality [--json OUT]`` (about half a minute on one core). The
scoring functions are pure and tested (``tests/unit/bench/test_bench_enrichment_quality.py``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
SENTIMENT_SAMPLE = FIXTURES / "news_sentiment_labelled.tsv"
ENTITY_SAMPLE = FIXTURES / "news_entities_labelled.json"
CLASSES = ("positive", "negative", "neutral")
ENTITY_TYPES = ("PERSON", "ORGANIZATION", "LOCATION")

Span = tuple[int, int, str]


def read_sentiment_sample(path: Path = SENTIMENT_SAMPLE) -> list[tuple[str, str]]:
    """``(label, sentence)`` rows; ``#`` lines are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, sentence = line.split("\t", 1)
            rows.append((label, sentence))
    return rows


def read_entity_sample(path: Path = ENTITY_SAMPLE) -> list[dict[str, Any]]:
    """``{"text": ..., "entities": [[start, end, type], ...]}`` documents."""
    documents: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["documents"]
    return documents


def macro_f1(gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> float:
    """Mean over ``classes`` of each class's F1 (0 for a class never predicted nor present)."""
    scores = [prf(*_counts(gold, predicted, label))[2] for label in classes]
    return sum(scores) / len(scores)


def _counts(gold: Sequence[str], predicted: Sequence[str], label: str) -> tuple[int, int, int]:
    pairs = list(zip(gold, predicted, strict=True))
    tp = sum(g == p == label for g, p in pairs)
    fp = sum(p == label and g != label for g, p in pairs)
    fn = sum(g == label and p != label for g, p in pairs)
    return tp, fp, fn


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def span_scores(
    gold: Iterable[Iterable[Span]], predicted: Iterable[Iterable[Span]], types: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Exact-match P/R/F1 per type and overall, summed over documents.

    Predicted spans of a type outside ``types`` are ignored (the sample labels only those).
    """
    counts: Counter[tuple[str, str]] = Counter()
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        wanted = {span for span in gold_spans if span[2] in types}
        found = {span for span in predicted_spans if span[2] in types}
        for start, end, kind in found:
            counts[kind, "tp" if (start, end, kind) in wanted else "fp"] += 1
        for _start, _end, kind in wanted - found:
            counts[kind, "fn"] += 1
    table = {}
    for kind in (*types, "ALL"):
        keys = types if kind == "ALL" else (kind,)
        tp, fp, fn = (sum(counts[k, part] for k in keys) for part in ("tp", "fp", "fn"))
        precision, recall, f1 = prf(tp, fp, fn)
        table[kind] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "gold": tp + fn,
            "predicted": tp + fp,
        }
    return table


def sentiment_label(label: str | None) -> str:
    """The enricher's label on the sample's scale (MIXED and no sentiment count as neutral)."""
    return label.lower() if label in {"POSITIVE", "NEGATIVE"} else "neutral"


def measure_sentiment(enricher: Any, rows: Sequence[tuple[str, str]]) -> dict[str, Any]:
    gold = [label for label, _ in rows]
    started = time.perf_counter()
    predicted = []
    for _, sentence in rows:
        result = enricher.enrich(sentence, language="en")
        predicted.append(sentiment_label(result.sentiment.label if result.sentiment else None))
    seconds = time.perf_counter() - started
    per_class = {
        label: dict(
            zip(("precision", "recall", "f1"), prf(*_counts(gold, predicted, label)), strict=True)
        )
        for label in CLASSES
    }
    return {
        "sentences": len(rows),
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(rows), 3),
        "macro_f1": round(macro_f1(gold, predicted, CLASSES), 3),
        "per_class": {k: {m: round(v, 3) for m, v in d.items()} for k, d in per_class.items()},
        "ms_per_sentence": round(seconds * 1000 / len(rows), 2),
    }


def predicted_spans(enricher: Any, text: str) -> list[Span]:
    result = enricher.enrich(text, language="en")
    return [(m.start, m.end, e.type) for e in result.entities for m in e.mentions]


def measure_document_sentiment(
    enricher: Any, documents: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Document labels of the entity sample's excerpts against their hand labels."""
    gold = [doc["sentiment"] for doc in documents]
    predicted = []
    for doc in documents:
        sentiment = enricher.enrich(doc["text"], language="en").sentiment
        predicted.append(sentiment_label(sentiment.label if sentiment else None))
    hits = sum(g == p for g, p in zip(gold, predicted, strict=True))
    return {
        "documents": len(documents),
        "labels": dict(Counter(gold)),
        "accuracy": round(hits / len(documents), 3),
        "macro_f1": round(macro_f1(gold, predicted, CLASSES), 3),
    }


def measure_entities(enricher: Any, documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    gold = [[(span[0], span[1], span[2]) for span in doc["entities"]] for doc in documents]
    predicted = [predicted_spans(enricher, doc["text"]) for doc in documents]
    return {
        "documents": len(documents),
        "scores": span_scores(gold, predicted, ENTITY_TYPES),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.enrichment_quality")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    from newsflow.enrichment import get_enricher

    enricher = get_enricher("local")
    results: dict[str, Any] = {"sentiment": measure_sentiment(enricher, read_sentiment_sample())}
    if ENTITY_SAMPLE.is_file():
        documents = read_entity_sample()
        results["entities"] = measure_entities(enricher, documents)
        results["document_sentiment"] = measure_document_sentiment(enricher, documents)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
