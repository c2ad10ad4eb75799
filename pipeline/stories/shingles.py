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
# Runs of letters and digits, Han included: the words of a content hash.
_WORD_RUN = re.compile(r"[^\W_]+")
# Every ASCII byte but letters and digits becomes a space; the UTF-8 bytes of other characters
# stay. Splitting what is left on whitespace gives the runs both patterns above find in ASCII,
# in one C pass each, where the patterns' own scan costs twice as much (bench/pipeline.py).
_ASCII_GAPS = bytes(c if c >= 0x80 or chr(c).isalnum() else 0x20 for c in range(256))
# Punctuation English text carries beyond ASCII (curly quotes, dashes, guillemets; folding made
# an ellipsis three stops), as UTF-8: made gaps too, most English texts are then plain ASCII and
# skip the patterns. A UTF-8 sequence starts at its lead byte, so it is only ever the character
# it encodes.
_COMMON_MARKS = tuple(
    mark.encode("utf-8") for mark in "\u2019\u2018\u201c\u201d\u2013\u2014\u00ab\u00bb"
)
_HAN_CHAR = re.compile(rf"[{_HAN}]")
# Odd 64-bit multipliers that mix the hashes of a shingle's tokens into one.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)

_token_hashes: dict[str, int] = {}

Hashes = npt.NDArray[np.uint64]


@functools.lru_cache(maxsize=4)
def fold(text: str) -> str:
    """The text in NFKC, case-folded: how every comparison reads it. The last few are kept,
    since the content hash and the fingerprint of one article both read it."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text: str) -> list[str]:
    """The text's words (case-folded, NFKC) and Han characters, in order."""
    return split_runs(fold(text), _TOKEN)


def word_runs(text: str) -> list[str]:
    """The text's runs of letters and digits (case-folded, NFKC; Han runs kept whole), in order."""
    return split_runs(fold(text), _WORD_RUN)


def split_runs(folded: str, pattern: re.Pattern[str]) -> list[str]:
    """``pattern.findall(folded)``, for a pattern whose matches hold no ASCII character but
    letters and digits, and no whitespace.

    Such a match never spans a gap the byte table makes, so the pieces between gaps that are
    plain ASCII are matches as they are, and the pattern reads only the others (a word with a
    curly apostrophe, a run of Chinese).
    """
    plain, pieces = _pieces(folded)
    if plain:
        return list(pieces)
    found: list[str] = []
    for piece in pieces:
        if piece.isascii():
            found.append(piece)
        else:
            found.extend(pattern.findall(piece))
    return found


@functools.lru_cache(maxsize=4)
def _pieces(folded: str) -> tuple[bool, tuple[str, ...]]:
    """Whether the text is plain ASCII, and its pieces between the byte table's gaps. The last
    few are kept: the content hash and the fingerprint of one article split one text."""
    data = folded.encode("utf-8", "surrogatepass").translate(_ASCII_GAPS)
    if not data.isascii():
        for mark in _COMMON_MARKS:
            if mark in data:
                data = data.replace(mark, b" ")
    return data.isascii(), tuple(data.decode("utf-8", "surrogatepass").split())


def distinct_sorted(values: Hashes) -> Hashes:
    """The distinct values, ascending: ``np.unique`` without its general machinery, which
    costs four times a sort on the few hundred values of an article."""
    if len(values) < 2:
        return values.copy()
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def han_share(words: list[str]) -> float:
    """The share of tokens that are Han characters (0 for English, near 1 for Chinese)."""
    if not words:
        return 0.0
    return sum(1 for word in words if _HAN_CHAR.fullmatch(word)) / len(words)


def token_hash(token: str) -> int:
    """A stable 32-bit hash of a token (the same in every process, unlike ``hash``)."""
    return zlib.crc32(token.encode("utf-8", "surrogatepass"))


def token_hashes(words: list[str]) -> Hashes:
    """A stable 32-bit hash of each token (the same in every process, unlike ``hash``)."""
    cache = _token_hashes
    if len(cache) > TOKEN_CACHE_LIMIT:
        cache.clear()
    # Most tokens are known: one look-up each, and a second pass only when one was missing.
    found = list(map(cache.get, words))
    if None in found:
        for index, word in enumerate(words):
            if found[index] is None:
                known = cache.get(word)
                if known is None:
                    known = cache[word] = token_hash(word)
                found[index] = known
    return np.array(found, dtype=np.uint64)


def shingle_hashes(words: list[str], size: int = SHINGLE_TOKENS) -> Hashes:
    """The distinct 32-bit hashes of the text's ``size``-token shingles, sorted."""
    hashes = token_hashes(words)
    if len(hashes) == 0:
        return hashes
    if len(hashes) < size:
        size = len(hashes)
    count = len(hashes) - size + 1
    mixed = hashes[:count] * _MIX[0]
    for offset in range(1, size):
        mixed += hashes[offset : offset + count] * _MIX[offset % len(_MIX)]
    # The high half of each mixed value: shifting leaves nothing above the low 32 bits.
    mixed >>= np.uint64(32)
    return distinct_sorted(mixed)


def jaccard(first: Hashes, second: Hashes) -> float:
    """The Jaccard similarity of two sets of hashes (each sorted and distinct)."""
    if len(first) == 0 or len(second) == 0:
        return 0.0
    shared = len(np.intersect1d(first, second, assume_unique=True))
    return shared / (len(first) + len(second) - shared)
