"""VADER's lexicon adapted to news: words it lacks, and words news uses without their feeling.

VADER was built for social media. On hand-labelled news sentences (docs/BENCHMARKS.md,
"Sentiment on news") it misses most of what makes news negative, because the words are not in
its lexicon at all (``quarantine``, ``ransomware``, ``indicted``, ``blackouts``, ``wildfires``;
often only one inflection is listed: ``arrested`` but not ``busted``, ``rejects`` but not
``bans``), and it reads neutral topic words as opinions (``health care``, ``interest rates``,
``shares``, ``security``, ``the Justice Department``, a ``trust``).

:data:`NEWS_TERMS` adds or re-weights words on VADER's scale (-4 .. +4; for comparison VADER
has ``arrested`` -2.1, ``win`` +2.8): crime and courts, disasters and accidents, disease,
economic trouble, cyber attacks, and the plain positive news verbs (``rebounded``,
``donated``, ``elected``). :data:`TOPIC_WORDS` are toned down to the weight they carry when a
newspaper uses them as nouns of a topic. Whole classes of words are listed, with their common
inflections, not the words of the labelled sample; the sample's held-out half measures that.
Looking a word up stays a dict lookup: no cost per sentence.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping

_NEGATIVE: dict[float, str] = {
    -2.6: """homicide homicides manslaughter stabbing stabbings shooting shootings massacre
        bombing bombings airstrike airstrikes gunman gunmen hostage hostages kidnapped
        kidnapping trafficking smuggled laundering bribery corruption embezzlement extortion
        cocaine fentanyl overdose overdoses fatal casualties wildfire wildfires earthquake
        hurricane tornado famine pandemic epidemic ransomware malware cyberattack
        cyberattacks""",
    -2.0: """busted indicted indictment convicted charged raided bans lewd molested abused
        sued liable outbreak outbreaks quarantine lockdown coronavirus covid infections
        flood floods flooding drought blaze blazes inferno storms blackout blackouts outage
        outages evacuated evacuation displaced injuries wounded burials coffins deaths dies
        hackers hacking breach breached malicious phishing scam scams plunged plunges plummeted
        tumbled slumped layoffs bankruptcy insolvency downturn shortfall shortfalls
        sidelined misconduct harassment allegations plagues plagued""",
    -1.5: """alleged allegedly accusations accuses probe suspended suspension jail prison
        sentenced crashed collapsed surge virus disease illnesses heatwave hottest
        smoke shortage shortages inflation slump stalled stumped bewildered leaking
        leaks lawsuits recall recalls downgrade downgraded sanctions tariffs strikes
        protesters rioting riots unrest""",
    -0.8: """investigating investigation investigators warns alert alerts fine fined negative
        resigned resigns resignation""",
}
_POSITIVE: dict[float, str] = {
    2.0: """victory victories reborn rebounded rebound recovered recovery rescued
        breakthrough breakthroughs donated donates donation donations honoured honored
        landmark""",
    1.5: """elected elects reelected benefiting soared soars rallied upgraded modernised
        modernized seminal cured thrives thriving""",
}
NEWS_TERMS: dict[str, float] = {
    word: weight
    for table in (_NEGATIVE, _POSITIVE)
    for weight, words in table.items()
    for word in words.split()
}
"""Words added to VADER's lexicon, or re-weighted, with their valence."""

TOPIC_WORDS: dict[str, float] = {
    "care": 0.5,  # health care, child care, intensive care
    "trust": 0.0,  # an NHS trust, a land trust
    "interest": 0.0,  # interest rates
    "interests": 0.0,
    "share": 0.0,  # shares of a company
    "shares": 0.0,
    "shared": 0.3,
    "credit": 0.3,  # credit cards, credit ratings
    "security": 0.0,  # security forces, Social Security
    "justice": 0.0,  # the Justice Department, a Supreme Court justice
    "agreement": 0.8,
    "free": 1.0,  # free trade, tax-free
    "help": 0.6,  # "helped police with their inquiries"
    "helps": 0.6,
    "helped": 0.6,
}
"""Words VADER scores as opinions that news mostly uses as the name of a topic."""


def adapt_lexicon(lexicon: MutableMapping[str, float]) -> None:
    """Add :data:`NEWS_TERMS` and tone down :data:`TOPIC_WORDS` in a VADER lexicon, in place."""
    lexicon.update(NEWS_TERMS)
    lexicon.update(TOPIC_WORDS)


_CONCESSION = re.compile(
    r"^(?P<lead>\W*)(?:despite|in spite of|although|though|even though)\s+(?P<conceded>[^,;]+),\s*",
    re.IGNORECASE,
)
_CONCESSIVES = ("despite", "in spite of", "although", "though", "even though")
_LEADING = " \t\"'(-\u201c\u2018\u2013\u2014\u2022"  # quotes, dashes, bullets
_FAILED_TO = re.compile(
    r"\b(?P<verb>(?:fail(?:s|ed|ing)?|unable|refus(?:es|ed|ing)|declin(?:es|ed|ing))\s+to)\s+",
    re.IGNORECASE,
)


def news_rewrite(sentence: str) -> str:
    """The sentence as VADER should read it: news concession and failure turned into its rules.

    * Concession: "Despite the rain, the team won" -> "the rain, but the team won". VADER weighs
      the clause after "but" more, as the reader does; it has no rule for a leading "despite",
      "although" or "though", and it even counts "despite" as a negation of what follows.
    * Failure: "failed to win", "unable to agree", "refused to pay" -> "... to not win": the
      outcome did not happen, so its word is negated (VADER would add "win" as a success).

    Only the text given to VADER changes; offsets refer to the original sentence.
    """
    # Cheap guards first: most sentences have neither pattern and skip both regexes.
    if sentence.lstrip(_LEADING).lower().startswith(_CONCESSIVES):
        sentence = _CONCESSION.sub(r"\g<lead>\g<conceded>, but ", sentence, count=1)
    if " to " in sentence:
        sentence = _FAILED_TO.sub(r"\g<verb> not ", sentence)
    return sentence
