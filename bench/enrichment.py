"""3. Enrichment speed and memory: ``get_enricher("local")`` against bare spaCy + VADER.

Same texts, same process, order alternating per text. Three ways to get entities and sentiment:

* ``newsflow``: ``get_enricher("local").enrich(text, language)`` - NER, rule-based sentences,
  VADER per sentence, entity aggregation with offsets and per-entity sentiment, pydantic models.
* ``bare``: the same model loaded with its ``tok2vec`` and ``ner`` components (what "spaCy NER"
  usually means), ``doc.ents`` read out, and one VADER call on the whole text.
* ``bare_ner_only``: the components newsflow runs (``ner`` without the shared ``tok2vec``, which
  only feeds the tagger and parser in this model, plus a sentencizer) and VADER per sentence,
  i.e. the same model work with none of newsflow's aggregation: the cost of the wrapper itself.

Texts longer than the enricher's analysed window are cut the same way for all three. Peak
memory comes from a separate process per variant (:mod:`bench.memprobe`) so that the numbers
are not polluted by the rest of the benchmark.

The Comprehend backend is run offline too, against a stand-in client that answers with no
entities and neutral sentiment: that measures its CPU time without network and, above all, the
chunks it would send, from which the billed Comprehend units follow.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bench.bare_nlp import load_bare
from bench.costs import comprehend_units, dynamodb_item_bytes
from bench.stats import ratio, summary
from bench.timing import Sample, timed
from newsflow.enrichment import get_enricher
from newsflow.enrichment.comprehend import ComprehendEnricher
from newsflow.enrichment.local import analysed_part
from newsflow.models import Enrichment
from newsflow.pipeline import TOP_ENTITIES_ON_ITEM
from newsflow.storage import entity_pk
from newsflow.text import count_words

GOAL_RATIO = 1.2
MAX_ENTITY_ITEMS = 25  # EnrichSettings.MAX_ENTITY_ITEMS default: entity items per article


class _OfflineComprehend:
    """Answers BatchDetect* like Comprehend would for text with nothing in it; records calls."""

    def __init__(self) -> None:
        self.meta = SimpleNamespace(service_model=SimpleNamespace(api_version="2017-11-27"))
        self.calls: dict[str, list[list[int]]] = {"entities": [], "sentiment": []}

    def batch_detect_entities(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:  # noqa: N803
        self.calls["entities"].append([len(t) for t in TextList])
        return {"ResultList": [{"Index": i, "Entities": []} for i in range(len(TextList))]}

    def batch_detect_sentiment(self, TextList: list[str], LanguageCode: str) -> dict[str, Any]:  # noqa: N803
        self.calls["sentiment"].append([len(t) for t in TextList])
        neutral = {"Positive": 0.05, "Negative": 0.05, "Neutral": 0.9, "Mixed": 0.0}
        return {
            "ResultList": [
                {"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": neutral}
                for i in range(len(TextList))
            ]
        }


def _per_1000_words(samples: Sequence[Sample], words: Sequence[int]) -> dict[str, Any]:
    cpu = [s.cpu_ms * 1000 / w for s, w in zip(samples, words, strict=True) if w]
    wall = [s.wall_ms * 1000 / w for s, w in zip(samples, words, strict=True) if w]
    total_cpu_s = sum(s.cpu_ms for s in samples) / 1000
    total_wall_s = sum(s.wall_ms for s in samples) / 1000
    return {
        "ms_per_1000_words": {"cpu": summary(cpu), "wall": summary(wall)},
        "ms_per_doc": {
            "cpu": summary([s.cpu_ms for s in samples]),
            "wall": summary([s.wall_ms for s in samples]),
        },
        "docs_per_s_cpu": round(len(samples) / total_cpu_s, 2) if total_cpu_s else None,
        "docs_per_s_wall": round(len(samples) / total_wall_s, 2) if total_wall_s else None,
        "words_per_s_cpu": round(sum(words) / total_cpu_s) if total_cpu_s else None,
    }


def run(
    texts: Sequence[tuple[str, str | None]],
    *,
    memory: bool = True,
    progress: Any = None,
) -> dict[str, Any]:
    """``texts``: (text, language) pairs, English, long enough for the enrich stage."""
    _, load_sample, _ = timed(lambda: get_enricher("local"))
    enricher = get_enricher("local")
    max_chars = int(getattr(enricher, "max_chars", 100_000))
    bare = load_bare(ner_only=False)
    ner_only = load_bare(ner_only=True)
    warm = texts[0][0]
    enricher.enrich(warm, texts[0][1])
    bare(warm)
    ner_only(warm)

    variants: dict[str, list[Sample]] = {"newsflow": [], "bare": [], "bare_ner_only": []}
    words: list[int] = []
    entity_items: list[int] = []
    enrichment_bytes: list[int] = []
    item_extra_bytes: list[int] = []
    entity_item_bytes: list[int] = []
    for index, (text, language) in enumerate(texts):
        analysed = analysed_part(text, max_chars)
        words.append(count_words(analysed))
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("newsflow", partial(enricher.enrich, text, language)),
            ("bare", partial(bare, analysed)),
            ("bare_ner_only", partial(ner_only, analysed)),
        ]
        shift = index % len(runs)
        for name, function in runs[shift:] + runs[:shift]:
            result, sample, error = timed(function)
            if error is not None:
                raise error
            variants[name].append(sample)
            if name == "newsflow" and result is not None:
                keys = {entity_pk(e.text) + e.type for e in result.entities[:MAX_ENTITY_ITEMS]}
                entity_items.append(len(keys))
                enrichment_bytes.append(len(result.model_dump_json().encode("utf-8")))
                item_extra_bytes.append(_article_item_extra_bytes(result))
                entity_item_bytes.extend(_entity_item_bytes(result))
        if progress is not None and (index + 1) % 25 == 0:
            progress(f"enrichment: {index + 1}/{len(texts)} texts")

    report: dict[str, Any] = {
        "texts": len(texts),
        "words": summary([float(w) for w in words], 1),
        "model_load_ms": {"newsflow_first_get_enricher": round(load_sample.wall_ms, 1)},
        "variants": {name: _per_1000_words(s, words) for name, s in variants.items()},
        "entity_items_per_article_mean": _mean(entity_items),
        "enrichment_json_bytes_mean": _mean(enrichment_bytes),
        "article_item_extra_bytes_mean": _mean(item_extra_bytes),
        "entity_item_bytes_mean": _mean(entity_item_bytes),
    }
    flow = report["variants"]["newsflow"]["ms_per_1000_words"]["cpu"]["median"]
    report["ratio"] = {
        "newsflow_to_bare_cpu_median": ratio(
            flow, report["variants"]["bare"]["ms_per_1000_words"]["cpu"]["median"]
        ),
        "newsflow_to_bare_ner_only_cpu_median": ratio(
            flow, report["variants"]["bare_ner_only"]["ms_per_1000_words"]["cpu"]["median"]
        ),
    }
    report["goal_ratio"] = GOAL_RATIO
    main_ratio = report["ratio"]["newsflow_to_bare_cpu_median"]
    report["goal_met"] = main_ratio is not None and main_ratio <= GOAL_RATIO
    report["comprehend_offline"] = comprehend_offline(texts)
    if memory:
        report["memory"] = memory_probes(texts)
    return report


# Stand-ins of typical length for the parts of stored items the text does not determine.
_ARTICLE_ID = "0" * 32
_DAY = "2026-01-01"
_URL = "https://www.example-news-site.com/2026/01/01/a-typical-article-path-of-some-length"
_TITLE = "A headline of typical length for a news article, about seventy chars"


def _article_item_extra_bytes(result: Enrichment) -> int:
    """Bytes save_enriched adds to the article item (status, key, sentiment, entities)."""
    return dynamodb_item_bytes(
        {
            "status": "ENRICHED",
            "enriched_key": f"enriched/dt={_DAY}/{_ARTICLE_ID}.json",
            "sentiment": result.sentiment.model_dump(mode="json") if result.sentiment else None,
            "top_entities": [
                {"text": e.text, "type": e.type, "count": e.count, "salience": e.salience}
                for e in result.entities[:TOP_ENTITIES_ON_ITEM]
            ],
            "entity_keys": [
                f"{entity_pk(e.text)}|{_DAY}#{_ARTICLE_ID}#{e.type}"
                for e in result.entities[:MAX_ENTITY_ITEMS]
            ],
            "updated_at": f"{_DAY}T00:00:00.000000+00:00",
        }
    )


def _entity_item_bytes(result: Enrichment) -> list[int]:
    return [
        dynamodb_item_bytes(
            {
                "pk": entity_pk(e.text),
                "sk": f"{_DAY}#{_ARTICLE_ID}#{e.type}",
                "entity": e.text,
                "type": e.type,
                "article_id": _ARTICLE_ID,
                "url": _URL,
                "title": _TITLE,
                "published": _DAY,
                "count": e.count,
                "salience": e.salience,
                "sentiment": e.sentiment.model_dump(mode="json") if e.sentiment else None,
            }
        )
        for e in result.entities[:MAX_ENTITY_ITEMS]
    ]


def _mean(values: Sequence[int]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def comprehend_offline(texts: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """CPU of the Comprehend backend without network, and the units its calls would bill."""
    client = _OfflineComprehend()
    enricher = ComprehendEnricher(cast(Any, client))
    samples: list[Sample] = []
    entity_units: list[int] = []
    sentiment_units: list[int] = []
    calls: list[int] = []
    for text, language in texts:
        before = {kind: len(found) for kind, found in client.calls.items()}
        _, sample, error = timed(partial(enricher.enrich, text, language))
        if error is not None:
            raise error
        samples.append(sample)
        new = {kind: found[before[kind] :] for kind, found in client.calls.items()}
        entity_units.append(comprehend_units(n for batch in new["entities"] for n in batch))
        sentiment_units.append(comprehend_units(n for batch in new["sentiment"] for n in batch))
        calls.append(len(new["entities"]) + len(new["sentiment"]))
    return {
        "ms_per_doc_cpu_without_network": summary([s.cpu_ms for s in samples]),
        "entity_units_per_article_mean": _mean(entity_units),
        "sentiment_units_per_article_mean": _mean(sentiment_units),
        "batch_calls_per_article_mean": _mean(calls),
        "characters_per_article_mean": _mean([len(t) for t, _ in texts]),
    }


def memory_probes(texts: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """Peak RSS and tracemalloc peak of each variant, each in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as folder:
        path = Path(folder) / "texts.json"
        path.write_text(json.dumps(list(texts)), encoding="utf-8")
        return {variant: _probe(variant, path) for variant in ("newsflow", "bare")}


def _probe(variant: str, texts_file: Path) -> Mapping[str, Any]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "bench.memprobe", variant, str(texts_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1:]}
    result: Mapping[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
