"""Is this article a story we already have? Exact copies, near copies and their clusters.

* **exact**: the same text after whitespace normalisation. The copy records ``duplicate_of``
  and its enrichment is reused from the original (no second enricher call), see
  :func:`reused_enrichment`.
* **near**: a candidate found through shared LSH bands whose shingle Jaccard similarity with
  this text is at least :data:`~newsflow.fingerprints.NEAR_DUPLICATE_THRESHOLD`. The copy is
  enriched (the edits may matter) and records ``duplicate_of`` and ``similarity``.

Either way the copy joins the original's cluster: ``cluster_id`` is the first article of the
story, so every member shares it; a new story starts a cluster named after itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from newsflow.errors import PermanentError
from newsflow.fingerprints import (
    NEAR_DUPLICATE_THRESHOLD,
    Fingerprint,
    fingerprint,
    jaccard,
    normalise_text,
    shingles,
)
from newsflow.models import ArticleRecord, ArticleStatus, EnrichedArticle, Enrichment, ParsedArticle
from newsflow.storage.fingerprints import (
    ClusterMember,
    FingerprintLookup,
    FingerprintOwner,
)


class FingerprintStorage(Protocol):
    """The fingerprint items (:class:`newsflow.storage.fingerprints.FingerprintIndex`)."""

    def lookup(self, fingerprint: Fingerprint, article_id: str) -> FingerprintLookup: ...

    def register(
        self, lookup: FingerprintLookup, owner: FingerprintOwner, member: ClusterMember | None
    ) -> None: ...


class ParsedDocuments(Protocol):
    def get_parsed(self, key: str) -> ParsedArticle: ...


@dataclass(frozen=True)
class DuplicateVerdict:
    """What an article is to the stories already stored, and what registering it needs."""

    fingerprint: Fingerprint
    lookup: FingerprintLookup
    cluster_id: str
    duplicate_of: str | None = None
    kind: Literal["exact", "near"] | None = None
    similarity: float | None = None

    @property
    def reuses_enrichment(self) -> bool:
        return self.kind == "exact"


class DuplicateDetector:
    """Finds the original of a text by key lookups and confirms near copies by similarity."""

    def __init__(
        self,
        index: FingerprintStorage,
        documents: ParsedDocuments,
        threshold: float = NEAR_DUPLICATE_THRESHOLD,
    ) -> None:
        self._index = index
        self._documents = documents
        self._threshold = threshold

    def judge(
        self, article_id: str, text: str, print_: Fingerprint | None = None
    ) -> DuplicateVerdict:
        """``print_``: the text's fingerprint when the caller already has it."""
        print_ = print_ or fingerprint(text)
        lookup = self._index.lookup(print_, article_id)
        if lookup.exact is not None:
            return DuplicateVerdict(
                print_, lookup, lookup.exact.cluster_id, lookup.exact.article_id, "exact", 1.0
            )
        best: tuple[float, FingerprintOwner] | None = None
        for candidate in lookup.candidates:
            similarity = self._similarity(print_, candidate)
            if similarity >= self._threshold and (best is None or similarity > best[0]):
                best = (similarity, candidate)
        if best is None:
            return DuplicateVerdict(print_, lookup, cluster_id=article_id)
        similarity, original = best
        return DuplicateVerdict(
            print_, lookup, original.cluster_id, original.article_id, "near", round(similarity, 4)
        )

    def could_be_copies(self, first: Fingerprint, second: Fingerprint) -> bool:
        """Could judging one of these texts find the other as its original (the same text, or
        shingles similar enough)? Only then must the two be judged one after the other."""
        return (
            first.text_sha256 == second.text_sha256
            or jaccard(first.shingles, second.shingles) >= self._threshold
        )

    def register(
        self,
        verdict: DuplicateVerdict,
        *,
        article_id: str,
        article_key: str,
        url: str,
        title: str | None,
        at: datetime,
    ) -> None:
        """Claim the article's unclaimed keys and, for a copy, add it to its cluster (after its
        document). A new story gets no member item: it is its cluster's ``cluster_id``."""
        member = (
            None
            if verdict.duplicate_of is None
            else ClusterMember(
                cluster_id=verdict.cluster_id,
                article_id=article_id,
                url=url,
                title=title,
                duplicate_of=verdict.duplicate_of,
                duplicate_kind=verdict.kind,
                similarity=verdict.similarity,
                added_at=at,
            )
        )
        self._index.register(
            verdict.lookup, FingerprintOwner(article_id, article_key, verdict.cluster_id), member
        )

    def _similarity(self, print_: Fingerprint, candidate: FingerprintOwner) -> float:
        """Shingle Jaccard with the candidate's stored text; 0 if that text cannot be read."""
        try:
            document = self._documents.get_parsed(candidate.article_key)
        except PermanentError:  # gone or unreadable: not evidence of a duplicate
            return 0.0
        return jaccard(print_.shingles, shingles(document.text))


class EnrichedDocuments(Protocol):
    def get_json(self, key: str) -> Any: ...


def reused_enrichment(
    original: ArticleRecord | None, documents: EnrichedDocuments, document: ParsedArticle
) -> Enrichment | None:
    """The original's enrichment for an exact copy, or ``None`` when it must be enriched itself.

    ``None`` when the original is not ENRICHED (yet, or ever) or its document cannot be read or
    no longer has the same text: the copy then costs one enricher call but still ends ENRICHED.
    Mentions are kept only when the texts are identical to the character (their offsets).
    """
    if original is None or original.status is not ArticleStatus.ENRICHED:
        return None
    if not original.enriched_key:
        return None
    try:
        enriched = EnrichedArticle.model_validate(documents.get_json(original.enriched_key))
    except (PermanentError, ValidationError):
        return None
    if normalise_text(enriched.text) != normalise_text(document.text):
        return None
    same_offsets = enriched.text == document.text
    entities = [
        entity if same_offsets else entity.model_copy(update={"mentions": []})
        for entity in enriched.entities
    ]
    return Enrichment(
        entities=entities, sentiment=enriched.sentiment, enrichment=enriched.enrichment
    )
