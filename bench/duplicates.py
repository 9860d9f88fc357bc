"""Near-duplicate detection on a labelled set: precision and recall of the similarity threshold.

The set is built at run time from the pages of a corpus (never stored): each page's extracted
text is the original, and generated edits of it are the copies a syndicated story shows up as:

* ``headline``: a new first line (a rewritten headline or standfirst);
* ``dropped``: about a quarter of the paragraphs removed;
* ``reordered``: paragraphs shuffled;
* ``added``: two paragraphs of another article appended;
* ``template``: the same paragraphs in another site's page (nav, sidebar, share links, footer),
  extracted again by the real parser;
* ``combined``: headline + one paragraph dropped + one added.

Negatives are pairs that must stay apart: for each original, the other article sharing the most
rare words with it (an unrelated article on the same topic, as close as the corpus offers) and
one random other article. A pair is judged a duplicate as the pipeline judges it: at least one
LSH band in common (a candidate) and shingle Jaccard at or above the threshold.

Band schemes: the same pairs judged with other numbers of bands and rows (the first
``bands * rows`` permutations of one signature, as :mod:`newsflow.fingerprints` would compute
them), with the candidates they make among every pair of unrelated originals. Each band is a
fingerprint item written per new story, so fewer bands is cheaper as long as recall holds.
"""

from __future__ import annotations

import html as html_lib
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, Any

from newsflow.extraction import parse_html
from newsflow.fingerprints import (
    BANDS,
    NEAR_DUPLICATE_THRESHOLD,
    NUM_PERMUTATIONS,
    ROWS,
    SHINGLE_WORDS,
    Fingerprint,
    band_keys,
    band_match_probability,
    fingerprint,
    jaccard,
    minhash,
)
from newsflow.text import count_words, word_tokens

if TYPE_CHECKING:
    from bench.corpus import Page

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
# (bands, rows) compared on the same pairs; (16, 4) is the scheme used until December 2026.
BAND_SCHEMES = ((16, 4), (8, 2), (6, 3), (8, 1), (6, 1), (4, 1), (3, 1), (2, 1))
SCHEME_PERMUTATIONS = 64
MIN_WORDS = 150  # shorter texts are not the stories syndication copies
SEED = 14
EDITS = ("headline", "dropped", "reordered", "added", "template", "combined")
OTHER_TEMPLATE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title></head><body>
<header><a href="/">The Daily Wire Service</a> <a href="/news">News</a> <a href="/world">World</a>
<a href="/business">Business</a> <a href="/subscribe">Subscribe</a></header>
<aside><h3>Most read</h3><ul><li><a href="/a">Markets close higher on tech rally</a></li>
<li><a href="/b">Storm warning issued for the coast</a></li></ul></aside>
<main><article><h1>{title}</h1><p class="meta">Published by our wire desk. Share on social media</p>
{paragraphs}
<p class="share">Share this article: Facebook, X, LinkedIn, Email</p></article></main>
<footer>Copyright The Daily Wire Service. All rights reserved. Terms. Privacy. Cookies.</footer>
</body></html>"""


@dataclass(frozen=True)
class Pair:
    kind: str  # an edit name, or "same_topic" / "random" for the negatives
    duplicate: bool
    left: Fingerprint
    right: Fingerprint


def _paragraphs(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def _edit(kind: str, paragraphs: list[str], donor: list[str], rng: random.Random) -> str | None:
    """The text of an edited copy, or ``None`` when the edit needs the page template."""
    parts = list(paragraphs)
    if kind == "headline":
        return "\n".join(["Update: a new headline written for this copy of the story", *parts[1:]])
    if kind == "dropped":
        keep = sorted(rng.sample(range(len(parts)), max(1, round(len(parts) * 0.75))))
        return "\n".join(parts[i] for i in keep)
    if kind == "reordered":
        rng.shuffle(parts)
        return "\n".join(parts)
    if kind == "added":
        return "\n".join([*parts, *donor[:2]])
    if kind == "combined":
        del parts[rng.randrange(len(parts))]
        return "\n".join(["Breaking: this story was updated", *parts[1:], *donor[:1]])
    return None


def _template_copy(title: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
    page = OTHER_TEMPLATE.format(title=html_lib.escape(title), paragraphs=body)
    return parse_html(page.encode("utf-8"), "https://wire.example/copy").text


def _rare_words(texts: Sequence[str]) -> list[set[str]]:
    """Each text's words that occur in few texts: what tells its topic apart."""
    words = [set(w for w in word_tokens(t) if len(w) > 3) for t in texts]
    frequency = Counter(w for bag in words for w in bag)
    limit = max(2, len(texts) // 20)
    return [{w for w in bag if frequency[w] <= limit} for bag in words]


def _same_topic(index: int, rare: list[set[str]]) -> int:
    """The other article sharing the most rare words with article ``index``."""
    scores = [(len(rare[index] & other), -j) for j, other in enumerate(rare) if j != index]
    return -max(scores)[1]


def build_pairs(
    originals: list[tuple[str, str]], progress: Callable[[str], None] | None = None
) -> list[Pair]:
    rng = random.Random(SEED)  # noqa: S311 - a reproducible labelled set, not a secret
    prints = [fingerprint(text) for _, text in originals]
    rare = _rare_words([text for _, text in originals])
    pairs: list[Pair] = []
    for index, (title, text) in enumerate(originals):
        paragraphs = _paragraphs(text)
        donor = _paragraphs(originals[(index + 1) % len(originals)][1])
        for kind in EDITS:
            edited = _edit(kind, paragraphs, donor, rng)
            if edited is None:
                edited = _template_copy(title, paragraphs)
            pairs.append(Pair(kind, True, prints[index], fingerprint(edited)))
        topic = _same_topic(index, rare)
        other = rng.choice([j for j in range(len(originals)) if j not in (index, topic)])
        pairs.append(Pair("same_topic", False, prints[index], prints[topic]))
        pairs.append(Pair("random", False, prints[index], prints[other]))
        if progress and index % 25 == 24:
            progress(f"duplicates: {index + 1}/{len(originals)} originals")
    return pairs


def _judge(pair: Pair, threshold: float) -> bool:
    candidate = bool(set(pair.left.bands) & set(pair.right.bands))
    return candidate and jaccard(pair.left.shingles, pair.right.shingles) >= threshold


def evaluate(pairs: list[Pair]) -> dict[str, Any]:
    rows = []
    for threshold in THRESHOLDS:
        judged = [(pair, _judge(pair, threshold)) for pair in pairs]
        tp = sum(1 for pair, said in judged if said and pair.duplicate)
        fp = sum(1 for pair, said in judged if said and not pair.duplicate)
        fn = sum(1 for pair, said in judged if not said and pair.duplicate)
        rows.append(
            {
                "threshold": threshold,
                "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                "recall": round(tp / (tp + fn), 4) if tp + fn else None,
                "true_positives": tp,
                "false_positives": fp,
                "false_negatives": fn,
            }
        )
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in (*EDITS, "same_topic", "random"):
        chosen = [pair for pair in pairs if pair.kind == kind]
        similarities = [jaccard(p.left.shingles, p.right.shingles) for p in chosen]
        by_kind[kind] = {
            "pairs": len(chosen),
            "median_jaccard": round(median(similarities), 3) if similarities else None,
            "min_jaccard": round(min(similarities), 3) if similarities else None,
            "max_jaccard": round(max(similarities), 3) if similarities else None,
            "candidate_rate": round(
                sum(bool(set(p.left.bands) & set(p.right.bands)) for p in chosen) / len(chosen), 3
            )
            if chosen
            else None,
            "judged_duplicate_at_threshold": round(
                sum(_judge(p, NEAR_DUPLICATE_THRESHOLD) for p in chosen) / len(chosen), 3
            )
            if chosen
            else None,
        }
    return {"thresholds": rows, "by_kind": by_kind}


def compare_schemes(
    pairs: list[Pair], schemes: Sequence[tuple[int, int]] = BAND_SCHEMES
) -> list[dict[str, Any]]:
    """Recall, false positives and stray candidates of each (bands, rows) on the same pairs."""
    signatures: dict[int, tuple[int, ...]] = {}

    def signature(print_: Fingerprint) -> tuple[int, ...]:
        key = id(print_)
        if key not in signatures:
            signatures[key] = minhash(print_.shingles, SCHEME_PERMUTATIONS)
        return signatures[key]

    originals = list({id(pair.left): pair.left for pair in pairs}.values())
    results = []
    for bands, rows in schemes:

        def keys(print_: Fingerprint, bands: int = bands, rows: int = rows) -> set[str]:
            return set(band_keys(signature(print_), bands, rows)) if print_.shingles else set()

        tp = fp = fn = 0
        for pair in pairs:
            said = bool(keys(pair.left) & keys(pair.right)) and (
                jaccard(pair.left.shingles, pair.right.shingles) >= NEAR_DUPLICATE_THRESHOLD
            )
            tp += said and pair.duplicate
            fp += said and not pair.duplicate
            fn += (not said) and pair.duplicate
        original_keys = [keys(print_) for print_ in originals]
        stray = sum(1 for a, b in itertools.combinations(original_keys, 2) if a & b)
        unrelated = len(original_keys) * (len(original_keys) - 1) // 2
        results.append(
            {
                "bands": bands,
                "rows": rows,
                "items_per_new_story": bands + 1,  # + the exact-text key
                "recall": round(tp / (tp + fn), 4) if tp + fn else None,
                "false_positives": fp,
                "false_negatives": fn,
                "candidate_odds_at_0_5": round(band_match_probability(0.5, bands, rows), 3),
                "candidate_odds_at_0_7": round(band_match_probability(0.7, bands, rows), 3),
                "unrelated_pairs": unrelated,
                "unrelated_pairs_sharing_a_band": stray,
            }
        )
    return results


def run(
    pages: list[Page], originals: int, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    from bench.corpus import spread  # here: the pure parts load without the bench package

    texts: list[tuple[str, str]] = []
    for page in pages:
        try:
            parsed = parse_html(page.html, page.url)
        except Exception:  # noqa: S112 - a page the parser refuses is simply not used
            continue
        if count_words(parsed.text) >= MIN_WORDS and len(_paragraphs(parsed.text)) >= 4:
            texts.append((parsed.title or "Untitled", parsed.text))
    texts = spread(texts, originals)
    if len(texts) < 10:
        raise RuntimeError(f"only {len(texts)} usable articles in the corpus (need 10)")
    started = time.perf_counter()
    for _, text in texts:
        fingerprint(text)
    per_article_ms = (time.perf_counter() - started) * 1000 / len(texts)
    pairs = build_pairs(texts, progress)
    result = evaluate(pairs)
    result["band_schemes"] = compare_schemes(pairs)
    result.update(
        originals=len(texts),
        positives=sum(p.duplicate for p in pairs),
        negatives=sum(not p.duplicate for p in pairs),
        chosen_threshold=NEAR_DUPLICATE_THRESHOLD,
        shingle_words=SHINGLE_WORDS,
        permutations=NUM_PERMUTATIONS,
        bands=BANDS,
        rows=ROWS,
        fingerprint_ms_per_article=round(per_article_ms, 2),
        median_words=median(count_words(text) for _, text in texts),
    )
    return result
