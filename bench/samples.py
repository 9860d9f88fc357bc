"""Generated article pages: the built-in sample when no corpus is given, and the pages the
throughput run serves.

Every page is made here from invented names and sentence templates (no third-party text): an
English news article inside the usual furniture (navigation, a "most read" box, a cookie
notice, a comment thread, a footer). Each page comes with snippet annotations in the corpus
format, ``with`` from the article body and ``without`` from the furniture, so the quality
metric runs on the built-in sample too. Deterministic for a given seed.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field

PEOPLE = (
    "Helen Carter", "Tomasz Nowicki", "Amara Okafor", "Lucas Brennan", "Ingrid Solberg",
    "Rafael Duarte", "Mei Lin Tan", "Owen Pritchard", "Fatima Haddad", "Jonas Weber",
    "Priya Raman", "Samuel Osei", "Clara Montague", "Daniel Ferreira", "Nadia Petrova",
)  # fmt: skip
ORGANISATIONS = (
    "the Harbour Authority", "Atlantic Structures", "the Green Coast Alliance",
    "Northfield University", "the Regional Transport Board", "Brightwater Energy",
    "the Fisheries Council", "Meridian Bank", "the National Weather Office",
    "Copperline Railways", "the City Museum Trust", "Solent Water",
)  # fmt: skip
PLACES = (
    "Portsmouth", "Aberdeen", "Lisbon", "Gdansk", "Rotterdam", "Cork", "Bergen", "Halifax",
    "Valparaiso", "Hobart", "Marseille", "Tallinn",
)  # fmt: skip
TOPICS = (
    ("bridge", "a new harbour bridge", "construction"),
    ("ferry", "an electric ferry service", "the trial"),
    ("flood", "new flood defences", "the works"),
    ("rail", "a reopened coastal railway", "the line"),
    ("museum", "a maritime museum extension", "the project"),
    ("wind", "an offshore wind farm", "the turbines"),
    ("school", "a harbour-side school", "the building"),
    ("market", "a covered fish market", "the market"),
)
SENTENCES = (
    "{person} said on {day} that {topic} would change daily life in {place} for the better.",
    "Officials from {org} confirmed that {noun} would cost less than the first estimate.",
    "Residents of {place} have argued about {topic} for more than a decade.",
    "{person}, who leads {org}, warned that delays could push the budget up again.",
    "According to {org}, the first phase of {noun} should be finished by the spring.",
    "Critics, including {person}, said the plans ignored the needs of older residents.",
    "The council in {place} voted by a wide margin to go ahead with {topic}.",
    "Engineers will begin surveying the site in {month}, {person} told reporters.",
    "{org} said it was disappointed by the decision and would study the details.",
    "Local businesses welcomed {noun}, saying it would bring visitors back to {place}.",
    "A report published by {org} found that traffic had fallen by a fifth since {month}.",
    "{person} described the vote as a great victory for commuters and families.",
    "Some fishermen fear that {noun} will harm the estuary and its wildlife.",
    "The weather office expects a mild winter, which could speed up {noun}.",
    "In a statement, {org} thanked volunteers who had collected thousands of signatures.",
    "{person} added that public meetings would be held in every district before work starts.",
    "Ticket prices will stay the same for at least two years, {org} promised.",
    "Not everyone is convinced: {person} called the timetable unrealistic and expensive.",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
MONTHS = ("March", "April", "June", "September", "October", "November")
COMMENTS = (
    "Great news, about time something happened here!",
    "I will believe it when I see it finished.",
    "Who is paying for all of this? Not the people who voted for it.",
)
NAV = ("Home", "World", "Business", "Sport", "Culture", "Weather")


@dataclass
class SamplePage:
    path: str
    html: bytes
    title: str
    expected: list[str] = field(default_factory=list)  # "with" snippets
    unwanted: list[str] = field(default_factory=list)  # "without" snippets


def _sentence(rng: random.Random, topic: tuple[str, str, str], place: str) -> str:
    template = rng.choice(SENTENCES)
    return template.format(
        person=rng.choice(PEOPLE),
        org=rng.choice(ORGANISATIONS),
        place=place,
        topic=topic[1],
        noun=topic[2],
        day=rng.choice(DAYS),
        month=rng.choice(MONTHS),
    )


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def make_page(index: int, *, seed: int = 7, paragraphs: int = 9) -> SamplePage:
    """One article page; ``index`` picks topic, place and sentences."""
    rng = random.Random(seed * 100_003 + index)  # noqa: S311 - test data, not secrets
    topic = TOPICS[index % len(TOPICS)]
    place = PLACES[(index // len(TOPICS)) % len(PLACES)]
    title = f"{place} backs {topic[1]} (report {index + 1})"
    body_paragraphs = [
        " ".join(_capitalise(_sentence(rng, topic, place)) for _ in range(rng.randint(3, 5)))
        for _ in range(paragraphs)
    ]
    author = rng.choice(PEOPLE)
    most_read = [f"{rng.choice(PLACES)} {word} in numbers" for word in ("budget", "tides", "votes")]
    cookie = "We use cookies to improve your experience. Manage your cookie settings."
    footer = f"Copyright {2026} Harbour Gazette Media Group. All rights reserved. Privacy policy."
    comment = rng.choice(COMMENTS)
    esc = html.escape
    nav = " ".join(f'<a href="/{n.lower()}">{n}</a>' for n in NAV)
    paras = "\n".join(f"<p>{esc(p)}</p>" for p in body_paragraphs)
    aside = "".join(f'<li><a href="/read/{i}">{esc(t)}</a></li>' for i, t in enumerate(most_read))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(title)} | Harbour Gazette</title>
<meta property="og:title" content="{esc(title)}">
<meta name="author" content="{esc(author)}">
<meta property="article:published_time" content="2026-10-{1 + index % 28:02d}T07:45:00Z">
<meta property="og:site_name" content="Harbour Gazette">
</head><body>
<div class="cookie-banner">{cookie}</div>
<header><nav>{nav}</nav></header>
<main><article>
<h1>{esc(title)}</h1>
<p class="byline">By <span class="author">{esc(author)}</span></p>
{paras}
</article>
<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>{esc(comment)}</p></div></section>
</main>
<aside class="sidebar"><h3>Most read</h3><ul>{aside}</ul></aside>
<footer><p>{footer}</p></footer>
</body></html>
"""
    picks = sorted(rng.sample(range(len(body_paragraphs)), 3))
    expected = [body_paragraphs[i].split(". ")[0] for i in picks]
    unwanted = [cookie, footer, most_read[0], comment]
    return SamplePage(
        path=f"/news/{topic[0]}/{index + 1:05d}.html",
        html=page.encode("utf-8"),
        title=title,
        expected=expected,
        unwanted=unwanted,
    )


def make_pages(count: int, *, seed: int = 7, start: int = 0) -> list[SamplePage]:
    return [make_page(i, seed=seed) for i in range(start, start + count)]


def article_text(index: int, *, seed: int = 11, paragraphs: int = 9) -> str:
    """Plain English article text (paragraph per line), for enrichment without a corpus."""
    rng = random.Random(seed * 100_003 + index)  # noqa: S311 - test data, not secrets
    topic = TOPICS[index % len(TOPICS)]
    place = PLACES[index % len(PLACES)]
    return "\n".join(
        " ".join(_capitalise(_sentence(rng, topic, place)) for _ in range(rng.randint(3, 5)))
        for _ in range(paragraphs)
    )
