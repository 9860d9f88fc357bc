"""Content fingerprints: is this text one we have seen, exactly or nearly?

* **Exact**: the SHA-256 of the extracted text with whitespace collapsed
  (:func:`text_sha256`). Two pages whose text differs only in spacing or line breaks share it.
* **Near**: a MinHash signature over word shingles (:func:`fingerprint`), cut into LSH bands.
  Two texts whose shingle sets have Jaccard similarity ``s`` share at least one band with
  probability ``1 - (1 - s**ROWS)**BANDS`` (:func:`band_match_probability`): with 4 bands of
  one row, 0.94 at ``s = 0.5``, 0.99 at ``s = 0.7``, 0.68 at ``s = 0.25``. A shared band only
  makes a *candidate* (one S3 GET of its parsed document); the exact shingle Jaccard
  (:func:`jaccard`) against :data:`NEAR_DUPLICATE_THRESHOLD` decides, so precision does not
  depend on the bands. Every band is one fingerprint item written per new story, which is why
  there are few of them: 4 bands of one row find more copies at ``s = 0.5`` than the 16 bands
  of 4 rows used before (0.65) for a quarter of the writes (docs/BENCHMARKS.md,
  "Near-duplicates").

Words come from :func:`newsflow.text.word_tokens`, the one word rule of every stage, so a
shingle means the same thing in English, Chinese or Thai. The permutations are drawn from a
fixed seed: signatures written by one deployment stay comparable with the next one's.
Pure Python on purpose (no numpy in the fetch function): one multiply-mod per shingle and
permutation, :data:`NUM_PERMUTATIONS` of them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cache
from typing import Final

from newsflow.text import word_tokens

SHINGLE_WORDS: Final = 4
BANDS: Final = 4
ROWS: Final = 1
NUM_PERMUTATIONS: Final = BANDS * ROWS
NEAR_DUPLICATE_THRESHOLD: Final = 0.5
PERMUTATION_SEED: Final = 20261201

_MERSENNE_PRIME: Final = (1 << 61) - 1
_MAX_HASH: Final = (1 << 64) - 1


def normalise_text(text: str) -> str:
    """Whitespace collapsed to single spaces and trimmed: what "identical text" compares."""
    return " ".join(text.split())


def text_sha256(text: str) -> str:
    """The exact-duplicate key of a text (hex SHA-256 of :func:`normalise_text`)."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def _hash64(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """64-bit hashes of every run of ``size`` consecutive words (the whole text if shorter)."""
    words = word_tokens(text)
    if not words:
        return frozenset()
    if len(words) <= size:
        return frozenset({_hash64(" ".join(words))})
    return frozenset(
        _hash64(" ".join(words[start : start + size])) for start in range(len(words) - size + 1)
    )


def jaccard(left: frozenset[int], right: frozenset[int]) -> float:
    """Shared shingles over all shingles of either text; 0 when both are empty."""
    union = len(left | right)
    return len(left & right) / union if union else 0.0


def band_match_probability(similarity: float, bands: int = BANDS, rows: int = ROWS) -> float:
    """Chance that two texts of this shingle Jaccard similarity share at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


@cache
def _permutations(count: int = NUM_PERMUTATIONS) -> tuple[tuple[int, int], ...]:
    """The first ``count`` permutations of the fixed seed (a longer list starts the same)."""
    rng = random.Random(PERMUTATION_SEED)  # noqa: S311 - reproducible, not secret
    return tuple(
        (rng.randrange(1, _MERSENNE_PRIME), rng.randrange(0, _MERSENNE_PRIME)) for _ in range(count)
    )


def minhash(
    shingle_hashes: frozenset[int], permutations: int = NUM_PERMUTATIONS
) -> tuple[int, ...]:
    """One minimum per permutation ``(a*x + b) mod p``; all-max for an empty set."""
    if not shingle_hashes:
        return (_MAX_HASH,) * permutations
    values = tuple(shingle_hashes)
    p = _MERSENNE_PRIME
    return tuple(min((a * x + b) % p for x in values) for a, b in _permutations(permutations))


def band_keys(signature: tuple[int, ...], bands: int = BANDS, rows: int = ROWS) -> list[str]:
    """One short key per band: ``<band index>#<hash of its rows>``.

    ``bands`` and ``rows`` other than the module's are for comparing schemes (the bench)."""
    keys = []
    for band in range(bands):
        rows_of_band = signature[band * rows : (band + 1) * rows]
        digest = hashlib.blake2b(
            b"".join(value.to_bytes(8, "big") for value in rows_of_band), digest_size=8
        ).hexdigest()
        keys.append(f"{band}#{digest}")
    return keys


@dataclass(frozen=True)
class Fingerprint:
    """What a text is recognised by: its exact key, its shingles and its LSH bands."""

    text_sha256: str
    shingles: frozenset[int]
    bands: tuple[str, ...]


def fingerprint(text: str) -> Fingerprint:
    shingle_hashes = shingles(text)
    return Fingerprint(
        text_sha256=text_sha256(text),
        shingles=shingle_hashes,
        bands=tuple(band_keys(minhash(shingle_hashes))) if shingle_hashes else (),
    )
