"""Entity types the small NER model gets wrong in news, fixed by cues that hold in general.

Measured on hand-labelled news excerpts (docs/BENCHMARKS.md, "Entities on news"), the model's
errors fall into classes, each with a cue a reader uses too:

* A place read as a person ("AUSTIN (KXAN) —", "a trip to Punta Cana"): a mention typed PERSON
  whose text is a known place name (:data:`PLACES`, countries, US states and cities of 50,000+
  people from GeoNames) is a LOCATION, unless something in the text marks a person: a title
  before it, a speech verb or an age after it, or the same word ending a longer person's name.
* A dateline ("KOBE -", "WEST PALM BEACH --", "HOUSTON, Texas (KTRK) --") is a place, found or
  not: the capitals at the start of a paragraph before a dash or a parenthesis.
* A person read as an organisation ("Nadia Mohamed, 27, won", "Symonette said"): a short
  capitalised name with a title before it, an age or a speech verb after it, is a PERSON.
* A title inside a person's span ("Detective Cowie Massy", "Prince Harry") is left out.
* The last word decides for names of streets ("Clarkia Drive", "Bruckner Boulevard": LOCATION)
  and of organisations ("... Tennis Association", "... Magistrates' Court": ORGANIZATION).

Applied by the local backend to its mentions before aggregation; plain Python, a set lookup
per mention.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from importlib.resources import files
from itertools import pairwise

from newsflow.enrichment.aggregation import RawMention

PERSON, ORGANIZATION, LOCATION = "PERSON", "ORGANIZATION", "LOCATION"


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


CONTEXT_CHARS = 40

TITLES = _word_set(
    """mr mrs ms miss mx dr prof professor sir dame lady lord prince princess duke duchess
    king queen president president-elect vice-president premier governor gov senator sen
    representative rep congressman congresswoman mayor councillor councilmember alderman
    detective det sergeant sgt inspector constable officer judge magistrate
    minister chancellor ambassador commissioner
    pope bishop archbishop cardinal rabbi imam rev reverend pastor
    coach captain capt colonel col lieutenant lt commander
    ceo chairman chairwoman spokesman spokeswoman spokesperson"""
)
"""Words that, right before a name, make it a person's ("Governor Jay Inslee")."""

SPEECH_VERBS = _word_set(
    """said says told tells added adds explained explains wrote writes stated states argued
    argues noted notes insisted insists warned warns announced announces apologized apologised
    apologizes apologises tweeted posted recalled recalls confirmed confirms denied denies
    admitted admits asked asks replied replies testified testifies acknowledged"""
)

STREET_WORDS = _word_set(
    """street st road rd avenue ave boulevard blvd drive lane highway hwy parkway terrace
    crescent square alley freeway expressway motorway"""
)
ORGANIZATION_WORDS = _word_set(
    """association union authority organization organisation agency office bank police
    council committee commission company co corp corporation inc ltd llc plc group university
    college institute ministry department fund foundation federation court tribunal bureau
    board party club society network airlines airways hospital school academy church
    administration assembly parliament senate congress"""
)

_WORD = re.compile(r"[\w'\u2019.-]+")
_AGE_AFTER = re.compile(r"\s*,\s*\d{1,3}\s*,")
_DATELINE = re.compile(
    r"(?m)^(?P<place>[A-Z][A-Z.'\u2019-]+(?: [A-Z][A-Z.'\u2019-]+){0,3})"
    r"(?:,\s+[A-Z][\w.]+(?: [A-Z][\w.]+)?)?\s*(?:\(|\u2014|\u2013|--|-\s)"
)


@cache
def places() -> frozenset[str]:
    """The gazetteer (casefolded), read once per process (about 12,000 names, 120 KB)."""
    data = files("newsflow.enrichment").joinpath("data", "places.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold() for line in data.splitlines() if line and not line.startswith("#")
    )


def _words(surface: str) -> list[str]:
    return _WORD.findall(surface)


def _bare(word: str) -> str:
    return word.strip(".'\u2019").casefold()


def _person_cue(text: str, start: int, end: int) -> bool:
    """A title right before, an age or a speech verb right after the span."""
    before = _words(text[max(0, start - CONTEXT_CHARS) : start])
    if before and _bare(before[-1]) in TITLES:
        return True
    after = text[end : end + CONTEXT_CHARS]
    if _AGE_AFTER.match(after):
        return True
    # "Lee said", not "three islands added to the list".
    following = [_bare(w) for w in _words(after)[:2]] + [""]
    return following[0] in SPEECH_VERBS and following[1] not in {"to", "by"}


def _looks_like_name(words: list[str]) -> bool:
    return 1 <= len(words) <= 4 and all(w[:1].isupper() for w in words)


def retype_mentions(text: str, mentions: list[RawMention]) -> list[RawMention]:
    """The mentions with the rules of this module applied (see its docstring)."""
    surnames = {
        _bare(words[-1])
        for m in mentions
        if m.type == PERSON and len(words := _words(text[m.start : m.end])) > 1
    }
    split = [part for mention in mentions for part in _split_addresses(text, mention)]
    fixed = [_retype(text, mention, surnames) for mention in split]
    fixed = _same_person(text, fixed)
    return fixed + _datelines(text, fixed)


def _split_addresses(text: str, mention: RawMention) -> list[RawMention]:
    """ "Clarkia Drive Wellington Road" -> two streets: split after an inner street word."""
    words = list(_WORD.finditer(text, mention.start, mention.end))
    cuts = [  # an inner street word after a name ("St Eustatius" is a saint's, not a cut)
        w
        for w, following in pairwise(words[1:])
        if _bare(w.group()) in STREET_WORDS and following.group()[:1].isupper()
    ]
    if not cuts:
        return [mention]
    parts, start = [], mention.start
    for word in cuts:
        parts.append(RawMention(start, word.end(), LOCATION))
        start = text.index(text[word.end() : mention.end].lstrip()[:1], word.end())
    parts.append(RawMention(start, mention.end, LOCATION))
    return parts


def _same_person(text: str, mentions: list[RawMention]) -> list[RawMention]:
    """A one-word mention that is the first or last word of a person named here is that person.

    "Premier Andrew Alturo Fahie" is a person by its title; "held Fahie" and "said Fahie had"
    carry no cue of their own, and would otherwise outvote the full name.
    """
    edges = set()
    for m in mentions:
        words = _words(text[m.start : m.end])
        if m.type == PERSON and len(words) > 1:
            edges.update({_bare(words[0]), _bare(words[-1])})
    return [
        replace(m, type=PERSON)
        if m.type != PERSON
        and len(words := _words(text[m.start : m.end])) == 1
        and _bare(words[0]) in edges
        else m
        for m in mentions
    ]


def _retype(text: str, mention: RawMention, surnames: set[str]) -> RawMention:
    words = _words(text[mention.start : mention.end])
    if not words:
        return mention
    if len(words) > 1 and _bare(words[0]) in TITLES and words[1][:1].isupper():
        # "Detective Cowie Massy" -> "Cowie Massy", a person.
        start = text.index(words[1], mention.start)
        return RawMention(start, mention.end, PERSON)
    last = _bare(words[-1])
    if len(words) > 1 and last in STREET_WORDS:
        return replace(mention, type=LOCATION)
    if len(words) > 1 and last in ORGANIZATION_WORDS:
        return replace(mention, type=ORGANIZATION)
    cue = _person_cue(text, mention.start, mention.end)
    if mention.type != PERSON and cue and _looks_like_name(words):
        return replace(mention, type=PERSON)
    surface = " ".join(words)
    if (
        mention.type == PERSON
        and not cue
        and surface.casefold() in places()
        and not (len(words) == 1 and _bare(words[0]) in surnames)
    ):
        return replace(mention, type=LOCATION)
    return mention


def _datelines(text: str, mentions: list[RawMention]) -> list[RawMention]:
    """A LOCATION for each dateline no mention covers yet; a mention that is one is retyped."""
    places_at = {
        match.span("place")
        for match in _DATELINE.finditer(text)
        if len(match.group("place")) >= 3
        and not (len(match.group("place")) <= 4 and "." in match.group("place"))  # "U.S. -"
    }
    if not places_at:
        return []
    for index, mention in enumerate(mentions):
        if (mention.start, mention.end) in places_at:
            mentions[index] = replace(mention, type=LOCATION)
    return [
        RawMention(start, end, LOCATION)
        for start, end in sorted(places_at)
        if not any(m.start < end and start < m.end for m in mentions)
    ]
