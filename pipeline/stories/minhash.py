"""MinHash signatures and their locality-sensitive bands.

A signature is ``PERMUTATIONS`` minimum hashes of a set, each under its own random hash
function; two signatures agree in a position with probability equal to the Jaccard similarity
of the two sets. datasketch uses ``(a·x + b) mod p``; these are multiply-shift hashes, the
high 32 bits of ``a·x + b`` modulo 2⁶⁴ (universal for odd ``a``), which spare numpy a modulo
over every shingle and permutation. The signature is cut into
``BANDS`` bands of ``ROWS`` values (its first ``BANDS`` × ``ROWS``; all of it estimates the
similarity); each band hashes to a 64-bit key the store indexes, and two texts become candidates
when any band agrees. With 8 bands of 4 rows a pair at Jaccard 0.8 agrees in some band with
probability 1 − (1 − 0.8⁴)⁸ ≈ 0.985, at 0.85 with 0.997, a pair at 0.3 with 0.06, so
near-duplicates are found and few unrelated texts need a closer look. ``bench/dedupe.py``
compares these signatures with datasketch's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pipeline.stories.shingles import Hashes

PERMUTATIONS = 64
# Eight bands, not sixteen: every band is a key filed in the store at a random place of its
# index, and at a million articles those random writes and reads were most of a batch's cost
# (bench/dedupe_scale.py); eight keep candidate recall at 0.985 or more for Jaccard 0.8 and up.
# They are the first eight of the sixteen filed before, so those filings still match.
BANDS = 8
ROWS = 4
# Fixed, so that signatures stored by one process compare with those of any other.
SEED = 1

_SHIFT = np.uint64(32)
# Odd multipliers and any offsets, 64 bits each; numpy's uint64 arithmetic wraps modulo 2**64.
_random = np.random.RandomState(SEED)
_A = _random.randint(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _random.randint(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)
# Odd 64-bit multipliers that fold a band's values and its position into one key.
_FOLD = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)
_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0xA0761D6478BD642F)

Signature = npt.NDArray[np.uint32]


def signature(hashes: Hashes, permutations: int = PERMUTATIONS) -> Signature:
    """The MinHash signature of a set of 32-bit hashes (all ones for an empty set)."""
    if len(hashes) == 0:
        return np.full(permutations, 0xFFFFFFFF, dtype=np.uint32)
    # Taking the high bits keeps the order, so the minimum is taken first and only it is
    # shifted; the matrix is computed in place. Both spare a pass over permutations × hashes,
    # a third of a fingerprint's cost (bench/pipeline.py).
    permuted = np.multiply(_A[:permutations, None], hashes[None, :])
    permuted += _B[:permutations, None]
    return (permuted.min(axis=1) >> _SHIFT).astype(np.uint32)


def estimate(first: Signature, second: Signature) -> float:
    """The Jaccard similarity two signatures estimate: the share of positions that agree."""
    return float(np.count_nonzero(first == second)) / len(first)


def band_keys(sig: Signature) -> list[int]:
    """One signed 64-bit key per band (what the store's index holds)."""
    rows = sig[: BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    folded = (rows * _FOLD[:ROWS]).sum(axis=1) ^ _BAND_SALT
    return [int(key) for key in folded.view(np.int64)]


def to_bytes(sig: Signature) -> bytes:
    """A signature as stored: little-endian 32-bit values."""
    return sig.astype("<u4").tobytes()


def from_bytes(blob: bytes) -> Signature:
    """A signature read back from the store."""
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)
