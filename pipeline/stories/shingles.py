"""Text reduced to what near-duplicate and same-story checks compare: tokens and shingles.

A token is a run of letters or digits in Latin (or any non-Han) script, or one Han character:
Chinese has no spaces, so its shingles are made of characters where English ones are made of
words. A shingle is ``SHINGLE_TOKENS`` consecutive tokens, hashed to 32 bits; two texts are as
alike as the Jaccard similarity of their shingle sets.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zlib

import numpy as np
import numpy.typing as npt

# Three tokens: three words in English, three characters in Chinese. Long enough that two
# unrelated texts share almost none, short enough that an edited sentence spoils few of them.
SHINGLE_TOKENS = 3
# Token hashes are cached: news text repeats a small vocabulary. The cache is emptied when it
# reaches this many entries, so a hostile stream of unique words cannot grow it without bound.
TOKEN_CACHE_LIMIT = 200_000

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+")
_HAN_CHAR = re.compile(rf"[{_HAN}]")
# Odd 64-bit multipliers that mix the hashes of a shingle's tokens into one.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)
_LOW_32 = np.uint64(0xFFFFFFFF)

_token_hashes: dict[str, int] = {}

Hashes = npt.NDArray[np.uint64]


@functools.lru_cache(maxsize=4)
def fold(text: str) -> str:
    """The text in NFKC, case-folded: how every comparison reads it. The last few are kept,
    since the content hash and the fingerprint of one article both read it."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text: str) -> list[str]:
    """The text's words (case-folded, NFKC) and Han characters, in order."""
    return _TOKEN.findall(fold(text))


def han_share(words: list[str]) -> float:
    """The share of tokens that are Han characters (0 for English, near 1 for Chinese)."""
    if not words:
        return 0.0
    return sum(1 for word in words if _HAN_CHAR.fullmatch(word)) / len(words)


def token_hashes(words: list[str]) -> Hashes:
    """A stable 32-bit hash of each token (the same in every process, unlike ``hash``)."""
    cache = _token_hashes
    if len(cache) > TOKEN_CACHE_LIMIT:
        cache.clear()
    for word in set(words).difference(cache):
        cache[word] = zlib.crc32(word.encode("utf-8"))
    return np.array([cache[word] for word in words], dtype=np.uint64)


def shingle_hashes(words: list[str], size: int = SHINGLE_TOKENS) -> Hashes:
    """The distinct 32-bit hashes of the text's ``size``-token shingles, sorted."""
    hashes = token_hashes(words)
    if len(hashes) == 0:
        return hashes
    if len(hashes) < size:
        size = len(hashes)
    count = len(hashes) - size + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        mixed += hashes[offset : offset + count] * _MIX[offset % len(_MIX)]
    return np.unique((mixed >> np.uint64(32)) & _LOW_32)


def jaccard(first: Hashes, second: Hashes) -> float:
    """The Jaccard similarity of two sets of hashes (each sorted and distinct)."""
    if len(first) == 0 or len(second) == 0:
        return 0.0
    shared = len(np.intersect1d(first, second, assume_unique=True))
    return shared / (len(first) + len(second) - shared)
