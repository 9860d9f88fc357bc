"""Duplicate detection when the records of a batch run at once: copies still find each other
(their judge-then-register runs one at a time), texts that cannot be copies of each other do
not wait for each other, even when they share an LSH band."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from newsflow.duplicates import DuplicateDetector
from newsflow.fingerprints import fingerprint
from newsflow.models import IngestMessage
from newsflow.pipeline import Outcome

from .test_duplicates import PARAGRAPHS, SAME_TOPIC, STORY, SYNDICATED, Stack, stack

__all__ = ["stack"]  # the fixture, shared with the sequential tests

# A follow-up that repeats the story's first paragraph: it shares LSH bands with the story (a
# candidate), but far fewer shingles than a near copy needs.
FOLLOW_UP = "\n\n".join(
    [
        PARAGRAPHS[0],
        "Fishermen on the quay said the new crossing would change the tides near the old pier.",
        "A local school will run a competition to name the bridge, the council announced.",
        "Shop owners on the high street expect more visitors once the work is finished.",
    ]
)


def ingest_at_once(stack: Stack, pages: dict[str, str]) -> dict[str, str]:
    """Every page through the fetch stage in its own thread; URL -> article id."""
    for url, text in pages.items():
        stack.fetcher.serve(url, text)
    with ThreadPoolExecutor(max_workers=len(pages)) as workers:
        results = dict(
            zip(
                pages,
                workers.map(lambda url: stack.fetch.run(IngestMessage(url=url)), pages),
                strict=True,
            )
        )
    assert {result.outcome for result in results.values()} == {Outcome.FETCHED}
    return {url: result.article_id for url, result in results.items()}


def test_copies_fetched_at_once_still_find_each_other(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN lookups that wait (a while) for the others: left alone, every record would look
    # before any registered
    all_looking = threading.Barrier(3, timeout=0.5)
    lookup_alone = stack.index.lookup

    def lookup(*args: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            all_looking.wait()
        return lookup_alone(*args)

    monkeypatch.setattr(stack.index, "lookup", lookup)
    # WHEN a story, an exact copy and a near copy are fetched at the same time
    ids = ingest_at_once(
        stack,
        {
            "https://gazette.example/bridge": STORY,
            "https://wire.example/bridge": " ".join(PARAGRAPHS),
            "https://coast.example/bridge": SYNDICATED,
        },
    )
    # THEN one of them is the original and the two others point to it, in its cluster
    records = [stack.table.get(article_id) for article_id in ids.values()]
    originals = [r.article_id for r in records if r is not None and r.duplicate_of is None]
    assert len(originals) == 1
    assert {r.cluster_id for r in records if r is not None} == set(originals)


@pytest.mark.parametrize("other", [SAME_TOPIC, FOLLOW_UP], ids=["same topic", "follow-up"])
def test_texts_that_cannot_be_copies_are_judged_at_the_same_time(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, other: str
) -> None:
    # GIVEN two texts that are no copies of each other (the follow-up even shares LSH bands with
    # the story), and lookups that wait for each other
    story, follow = fingerprint(STORY), fingerprint(other)
    assert not DuplicateDetector(stack.index, stack.fetch.documents).could_be_copies(story, follow)
    if other == FOLLOW_UP:
        assert set(story.bands) & set(follow.bands)
    both_looking = threading.Barrier(2, timeout=10)
    lookup_alone = stack.index.lookup

    def lookup(*args: Any) -> Any:
        both_looking.wait()  # broken unless the two lookups overlap
        return lookup_alone(*args)

    monkeypatch.setattr(stack.index, "lookup", lookup)
    # WHEN both are fetched at the same time
    ids = ingest_at_once(
        stack,
        {"https://gazette.example/bridge": STORY, "https://ferries.example/fears": other},
    )
    # THEN each is its own story
    for article_id in ids.values():
        record = stack.table.get(article_id)
        assert record is not None and (record.duplicate_of, record.cluster_id) == (None, article_id)
