"""Content fingerprints: is this text one we have seen, exactly or nearly?

* **Exact**: the SHA-256 of the extracted text with whitespace collapsed
  (:func:`text_sha256`). Two pages whose text differs only in spacing or line breaks share it.
* **Near**: a MinHash signature over word shingles (:func:`fingerprint`), cut into LSH bands.
  Two texts whose shingle sets have Jaccard similarity ``s`` share at least one band with
  probability ``1 - (1 - s**ROWS)**BANDS``: about 0.64 at ``s = 0.5``, 0.99 at ``s = 0.7``,
  0.06 at ``s = 0.25``. A shared band only makes a *candidate*; the exact shingle Jaccard
  (:func:`jaccard`) against :data:`NEAR_DUPLICATE_THRESHOLD` decides.

Words come from :func:`newsflow.text.word_tokens`, the one word rule of every stage, so a
shingle means the same thing in English, Chinese or Thai. The permutations are drawn from a
fixed seed: signatures written by one deployment stay comparable with the next one's.
Pure Python on purpose (no numpy in the fetch function): about 64 multiply-mods per shingle.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cache
from typing import Final

from newsflow.text import word_tokens

SHINGLE_WORDS: Final = 4
NUM_PERMUTATIONS: Final = 64
BANDS: Final = 16
ROWS: Final = NUM_PERMUTATIONS // BANDS
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


@cache
def _permutations() -> tuple[tuple[int, int], ...]:
    rng = random.Random(PERMUTATION_SEED)  # noqa: S311 - reproducible, not secret
    return tuple(
        (rng.randrange(1, _MERSENNE_PRIME), rng.randrange(0, _MERSENNE_PRIME))
        for _ in range(NUM_PERMUTATIONS)
    )


def minhash(shingle_hashes: frozenset[int]) -> tuple[int, ...]:
    """One minimum per permutation ``(a*x + b) mod p``; all-max for an empty set."""
    if not shingle_hashes:
        return (_MAX_HASH,) * NUM_PERMUTATIONS
    values = tuple(shingle_hashes)
    p = _MERSENNE_PRIME
    return tuple(min((a * x + b) % p for x in values) for a, b in _permutations())


def band_keys(signature: tuple[int, ...]) -> list[str]:
    """One short key per band: ``<band index>#<hash of its rows>``."""
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(
            b"".join(value.to_bytes(8, "big") for value in rows), digest_size=8
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
