"""Backend-independent aggregation: raw mentions -> distinct entities, segment scores -> sentiment.

Both backends reduce their model output to the same two inputs and call the functions here, so
an article enriched locally and one enriched by Amazon Comprehend follow one set of rules:

* :class:`RawMention` — one entity mention, as character offsets into the *original* text and a
  type already mapped to the newsflow vocabulary (PERSON, ORGANIZATION, LOCATION, ...).
* :class:`ScoredSegment` — a stretch of text (a sentence for the local backend, a chunk of a few
  sentences for Comprehend) with its sentiment: a polarity in -1..1 and four scores summing to 1.

Entity rules (:func:`build_entities`):

* Mentions are trimmed of a leading "the " and a trailing possessive ("'s", either apostrophe),
  so "the White House" and "Apple's" become "White House" and "Apple"; offsets are adjusted so that
  ``text[start:end] == mention.text`` always holds.
* Mentions are grouped by a case-insensitive key. A one-word group ("Zelensky") is folded into
  the longest multi-word PERSON/ORGANIZATION group that starts or ends with that word
  ("Volodymyr Zelensky") when the types agree or the short form is a PERSON/ORGANIZATION (models
  often confuse the two for a bare surname or brand). A bare LOCATION ("Washington") is never
  folded into a PERSON ("George Washington").
* Spellings of one name merge within a document: a one-word group also folds into a group whose
  first or last word has the same *loose key* (:func:`loose_name_key`: accents dropped, doubled
  letters single, common transliteration pairs such as kh/k, q/g/k, ph/f, ou/u, y/i made one), so
  "Jagessar" joins "Sita Jaggesar" and "Velazquez" "Marjorie Velázquez"; one-word groups with the
  same loose key merge with each other ("Zelensky", "Zelenskyy"); and two PERSON groups with the
  same first name and loosely equal last names are one person ("Muammar Gaddafi", "Muammar
  Qaddafi"). Different first names never merge ("Sita Jaggesar" and "Melissa Jagessar").
* The canonical text is the longest surface form; the type is the majority vote of the mentions
  (ties go to the type of the canonical form).
* Salience is the entity's share of position-weighted mentions: a mention at the start of the
  text weighs 2, one at the very end weighs 1, linearly in between. Saliences sum to 1 over the
  entities of a document; entities are sorted by salience, then by first appearance.
* An entity's sentiment is the plain mean over the segments that mention it.

Document sentiment (:func:`aggregate_sentiment`): the length-weighted mean of the segment scores
and polarities. MIXED means that both strongly positive and strongly negative segments carry real
weight: ``mixed = min(1, 2 * min(share_strongly_positive, share_strongly_negative))`` is moved
into ``scores.mixed`` (the other scores shrink so the four still sum to 1), and the label is
MIXED when ``scores.mixed >= 0.4`` — e.g. at least 20% of the text strongly positive *and* 20%
strongly negative, or Comprehend itself scoring the chunks MIXED. Otherwise the label follows the
polarity: >= 0.05 POSITIVE, <= -0.05 NEGATIVE, NEUTRAL in between (VADER's usual cut-offs).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from newsflow.models import Entity, Mention, Sentiment, SentimentLabel, SentimentScores

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
STRONG_POLARITY = 0.5
MIXED_LABEL_MIN = 0.4
MERGEABLE_TYPES = frozenset({"PERSON", "ORGANIZATION"})

_LEADING_ARTICLE = re.compile(r"the\s+", re.IGNORECASE)  # used with .match()
_TRAILING_POSSESSIVE = re.compile(r"(?:['\u2019]s|(?<=s)['\u2019])$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class RawMention:
    """One mention as a backend found it: offsets into the original text, newsflow type."""

    start: int
    end: int
    type: str


@dataclass(frozen=True, slots=True)
class ScoredSegment:
    """A sentence or chunk and its sentiment; ``positive + negative + neutral + mixed == 1``."""

    start: int
    end: int
    polarity: float
    positive: float
    negative: float
    neutral: float
    mixed: float = 0.0


@dataclass(slots=True)
class _Group:
    key: str
    mentions: list[tuple[int, int, str, str]] = field(
        default_factory=list
    )  # start, end, text, type

    @property
    def tokens(self) -> list[str]:
        return self.key.split(" ")

    def majority_type(self) -> str:
        return _vote([m[3] for m in self.mentions], self.canonical_type())

    def canonical(self) -> tuple[int, int, str, str]:
        surfaces = Counter(m[2] for m in self.mentions)
        # Longest surface form; then the most frequent; then the earliest.
        return min(self.mentions, key=lambda m: (-len(m[2]), -surfaces[m[2]], m[0]))

    def canonical_type(self) -> str:
        return self.canonical()[3]


def _vote(types: list[str], tie_break: str) -> str:
    counts = Counter(types)
    best = max(counts.values())
    winners = {t for t, n in counts.items() if n == best}
    if tie_break in winners:
        return tie_break
    return next(t for t in types if t in winners)


def normalise_entity_key(surface: str) -> str:
    """Case-insensitive key used to merge mentions ("The White House" -> "white house")."""
    key = _WHITESPACE.sub(" ", surface.replace("\u2019", "'")).strip()
    article = _LEADING_ARTICLE.match(key)
    if article and article.end() < len(key):
        key = key[article.end() :]
    key = _TRAILING_POSSESSIVE.sub("", key)
    return key.strip().casefold()


_TRANSLITERATION = (
    ("kh", "k"), ("gh", "g"), ("dh", "d"), ("th", "t"), ("ph", "f"), ("sch", "sh"),
    ("ck", "k"), ("q", "k"), ("c", "k"), ("g", "k"), ("ou", "u"), ("oo", "u"), ("ee", "i"),
    ("y", "i"), ("w", "v"), ("j", "i"), ("z", "s"),
)  # fmt: skip
_DOUBLED = re.compile(r"(.)\1+")


def loose_name_key(word: str) -> str:
    """A spelling-tolerant key for one word of a name: "Gaddafi", "Qaddafi" and "Kadhafi",
    "Jaggesar" and "Jagessar", "Velázquez" and "Velazquez", "Zelenskyy" and "Zelensky" share one.
    Used only within one document, to merge mentions that are already near each other."""
    letters = "".join(
        ch for ch in unicodedata.normalize("NFKD", word.casefold()) if ch.isalpha() and ch.isascii()
    )
    for spelled, said in _TRANSLITERATION:
        letters = letters.replace(spelled, said)
    return _DOUBLED.sub(r"\1", letters)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a mention span past surrounding whitespace, a leading "the " and a possessive."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    article = _LEADING_ARTICLE.match(text, start, end)
    if article and article.end() < end:
        start = article.end()
    possessive = _TRAILING_POSSESSIVE.search(text[start:end])
    if possessive and possessive.start() > 0:
        end = start + possessive.start()
    return start, end


def build_entities(
    text: str, mentions: Iterable[RawMention], segments: Sequence[ScoredSegment] = ()
) -> list[Entity]:
    """Merge raw mentions into distinct entities (see the module docstring for the rules)."""
    groups: dict[str, _Group] = {}
    seen: set[tuple[int, int]] = set()
    for raw in sorted(mentions, key=lambda m: (m.start, m.end)):
        start, end = _trim(text, raw.start, raw.end)
        if start >= end or (start, end) in seen:
            continue
        surface = text[start:end]
        key = normalise_entity_key(surface)
        if not key:
            continue
        seen.add((start, end))
        groups.setdefault(key, _Group(key)).mentions.append((start, end, surface, raw.type))

    merged = _fold_short_forms(list(groups.values()))
    if not merged:
        return []

    length = max(len(text), 1)

    def weight(start: int) -> float:
        return 2.0 - min(start, length) / length

    total = sum(weight(m[0]) for g in merged for m in g.mentions)
    segment_starts = [s.start for s in segments]
    entities: list[tuple[float, int, Entity]] = []
    for group in merged:
        ordered = sorted(group.mentions)
        salience = sum(weight(m[0]) for m in ordered) / total
        canonical = group.canonical()
        entity = Entity(
            text=canonical[2],
            type=group.majority_type(),
            count=len(ordered),
            salience=round(min(max(salience, 0.0), 1.0), 6),
            mentions=[Mention(start=m[0], end=m[1], text=m[2]) for m in ordered],
            sentiment=_entity_sentiment(ordered, segments, segment_starts),
        )
        entities.append((-salience, ordered[0][0], entity))
    entities.sort(key=lambda item: (item[0], item[1]))
    return [entity for _, _, entity in entities]


def _merge_spellings(groups: list[_Group]) -> list[_Group]:
    """Merge one-word groups with one loose key, and PERSON names differing only in spelling."""
    kept: list[_Group] = []
    by_key: dict[tuple[str, ...], _Group] = {}
    for group in sorted(groups, key=lambda g: (-len(g.mentions), g.mentions[0][0])):
        tokens = group.tokens
        if len(tokens) == 1 and group.majority_type() in MERGEABLE_TYPES:
            key: tuple[str, ...] | None = ("one", loose_name_key(tokens[0]))
        elif len(tokens) > 1 and group.majority_type() == "PERSON":
            key = ("person", *tokens[:-1], loose_name_key(tokens[-1]))
        else:
            key = None
        target = by_key.get(key) if key and key[-1] else None
        if target is None:
            kept.append(group)
            if key and key[-1]:
                by_key[key] = group
        else:
            target.mentions.extend(group.mentions)
    return kept


def _fold_short_forms(groups: list[_Group]) -> list[_Group]:
    """Fold one-word groups into the multi-word PERSON/ORGANIZATION group they abbreviate."""
    groups = _merge_spellings(groups)
    types = {id(g): g.majority_type() for g in groups}
    by_edge_word: dict[str, list[_Group]] = {}
    for g in groups:
        tokens = g.tokens
        if len(tokens) > 1 and types[id(g)] in MERGEABLE_TYPES:
            for edge in {
                tokens[0],
                tokens[-1],
                loose_name_key(tokens[0]),
                loose_name_key(tokens[-1]),
            }:
                by_edge_word.setdefault(edge, []).append(g)
    if not by_edge_word:
        return groups
    # Longest form first (words, then characters); then the most mentioned; then the earliest.
    rank = {
        id(g): (-len(g.tokens), -len(g.key), -len(g.mentions), g.mentions[0][0]) for g in groups
    }
    kept: list[_Group] = []
    for group in groups:
        target = None
        if " " not in group.key:
            short_type = types[id(group)]
            candidates = [
                g
                for edge in dict.fromkeys((group.key, loose_name_key(group.key)))
                for g in by_edge_word.get(edge, ())
                if short_type == types[id(g)] or short_type in MERGEABLE_TYPES
            ]
            if candidates:
                target = min(candidates, key=lambda g: rank[id(g)])
        if target is None:
            kept.append(group)
        else:
            target.mentions.extend(group.mentions)
    return kept


def _entity_sentiment(
    mentions: list[tuple[int, int, str, str]],
    segments: Sequence[ScoredSegment],
    starts: list[int],
) -> Sentiment | None:
    picked: dict[int, ScoredSegment] = {}
    for start, _end, _text, _type in mentions:
        index = bisect.bisect_right(starts, start) - 1
        if index >= 0 and segments[index].start <= start < segments[index].end:
            picked[index] = segments[index]
    if not picked:
        return None
    return aggregate_sentiment(list(picked.values()), weights=[1.0] * len(picked))


def aggregate_sentiment(
    segments: Sequence[ScoredSegment], weights: Sequence[float] | None = None
) -> Sentiment | None:
    """Combine segment sentiments; weights default to segment length (characters)."""
    if not segments:
        return None
    if weights is None:
        weights = [float(max(s.end - s.start, 1)) for s in segments]
    total = polarity = positive = negative = neutral = mixed = strong_pos = strong_neg = 0.0
    for w, segment in zip(weights, segments, strict=True):
        total += w
        polarity += w * segment.polarity
        positive += w * segment.positive
        negative += w * segment.negative
        neutral += w * segment.neutral
        mixed += w * segment.mixed
        if segment.polarity >= STRONG_POLARITY:
            strong_pos += w
        elif segment.polarity <= -STRONG_POLARITY:
            strong_neg += w
    if total <= 0:
        return None
    polarity, positive, negative, neutral, mixed = (
        polarity / total,
        positive / total,
        negative / total,
        neutral / total,
        mixed / total,
    )
    coexistence = min(1.0, 2.0 * min(strong_pos, strong_neg) / total)
    keep = 1.0 - coexistence
    scores = SentimentScores(
        positive=round(positive * keep, 6),
        negative=round(negative * keep, 6),
        neutral=round(neutral * keep, 6),
        mixed=round(mixed * keep + coexistence, 6),
    )
    return Sentiment(
        label=_label(polarity, scores.mixed),
        score=round(min(max(polarity, -1.0), 1.0), 6),
        scores=scores,
    )


def _label(polarity: float, mixed: float) -> SentimentLabel:
    if mixed >= MIXED_LABEL_MIN:
        return "MIXED"
    if polarity >= POSITIVE_THRESHOLD:
        return "POSITIVE"
    if polarity <= NEGATIVE_THRESHOLD:
        return "NEGATIVE"
    return "NEUTRAL"
