"""The tokens, word runs and body terms the story tiers and content hash read: the fast paths
(a byte-table split, cached term hashes, a sort for distinct values) give exactly what the
plain definitions give, in every script, so stored hashes and signatures still match."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import zlib

import numpy as np
import pytest
from support.shared import shared_path

from pipeline.dedupe import content_hash, normalise_for_hash
from pipeline.stories import minhash, shingles
from pipeline.stories.features import body_terms
from pipeline.stories.shingles import distinct_sorted, fold, split_runs, tokens, word_runs
from pipeline.stories.titles import STOP_WORDS, stem

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The patterns as written before the byte table: the reference the split must agree with.
TOKEN_PATTERN = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+")
WORD_RUN_PATTERN = re.compile(r"[^\W_]+")
NON_WORD = re.compile(r"[\W_]+")

EDGE_TEXTS = [
    "",
    "   ",
    "HKMA's stablecoin_licensing regime: 3.5% of U.S. banks—“it’s done”.",
    "«citation» ‘single’ – en dash…ellipsis’s end’",
    "curly’金管局“quotes”穩定幣—dash",
    "snake_case and__double under_scores_",
    "Café déjà-vu naïve façade ÆSIR straße",
    "金管局今日（12月4日）宣布，穩定幣發行人制度生效。HKMA 2025年報",
    "混合text與English，數字123和ＦＵＬＬＷＩＤＴＨ１２３",
    "tabs\tand\x0bvertical\x0cfeeds\x1cfile\x1dgroup\x1erecord\x1funit\x85next\u2028line",
    "non\u00a0breaking\u3000ideographic\u2003em space",
    "emoji 🚀 rocket, math 𝐀𝐁𝐂 bold, combining e\u0301 accent",
    "Арабские ٣٤٥ цифры и русский текст; ελληνικά γράμματα",
    "lone \ud800 surrogate and \udfff another",
    "ＡＢＣ　全形　ａｂｃ！？",
    "ends with punctuation...",
    "___",
    "a",
]


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_tokens_and_runs_match_the_patterns(text: str) -> None:
    folded = fold(text)
    assert tokens(text) == TOKEN_PATTERN.findall(folded)
    assert word_runs(text) == WORD_RUN_PATTERN.findall(folded)
    assert normalise_for_hash(text) == NON_WORD.sub(" ", folded).strip()


def test_a_split_piece_that_is_not_ascii_goes_to_the_pattern() -> None:
    # One piece holds ASCII letters joined to a curly apostrophe and to Han characters.
    assert split_runs("it’s 金管局abc", TOKEN_PATTERN) == ["it", "s", "金", "管", "局", "abc"]
    assert split_runs("it’s 金管局abc", WORD_RUN_PATTERN) == ["it", "s", "金管局abc"]


def test_content_hash_is_unchanged_by_the_split() -> None:
    # The hash stored for an article before must be the hash computed now: copies are found by it.
    for text in EDGE_TEXTS[2:12]:
        body = (text + " ") * 20
        reference = NON_WORD.sub(" ", fold(body)).strip()
        assert content_hash(body) == hashlib.sha256(reference.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    "values",
    [[], [5], [5, 5], [3, 1, 2, 3, 1], list(range(1000, 0, -1)) * 2, [2**63, 0, 2**64 - 1, 0]],
)
def test_distinct_sorted_is_np_unique(values: list[int]) -> None:
    array = np.array(values, dtype=np.uint64)
    found = distinct_sorted(array)
    assert found.dtype == np.uint64
    assert np.array_equal(found, np.unique(array))


def test_token_hashes_are_the_crc32_of_each_token() -> None:
    words = ["hkma", "金", "stablecoin", "hkma"]
    hashes = shingles.token_hashes(words)
    assert hashes.dtype == np.uint64
    assert hashes.tolist() == [zlib.crc32(w.encode("utf-8")) for w in words]


def reference_body_terms(words: list[str]) -> np.ndarray:
    """``body_terms`` as first written: each distinct word stemmed, then hashed."""
    distinct = set(words)
    terms = [stem(word) for word in distinct if len(word) > 2 and word not in STOP_WORDS]
    han = [word for word in words if len(word) == 1 and not word.isascii()]
    terms.extend(first + second for first, second in itertools.pairwise(han))
    return np.unique(np.array([zlib.crc32(t.encode("utf-8")) for t in terms], dtype=np.uint64))


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_body_terms_are_the_stems_and_pairs_hashed(text: str) -> None:
    words = tokens(text * 3)
    # Twice: the second reads every word's term from the cache.
    for _ in range(2):
        found = body_terms(words)
        assert found.dtype == np.uint64
        assert np.array_equal(found, reference_body_terms(words))


@pytest.mark.parametrize("size", [0, 1, 3, 40, 500])
def test_signature_is_the_minimum_of_each_permutations_high_bits(size: int) -> None:
    rng = np.random.default_rng(size)
    hashes = distinct_sorted(rng.integers(0, 2**32, size=size, dtype=np.uint64))
    found = minhash.signature(hashes)
    if size == 0:
        assert found.tolist() == [0xFFFFFFFF] * minhash.PERMUTATIONS
        return
    permuted = (minhash._A[:, None] * hashes[None, :] + minhash._B[:, None]) >> np.uint64(32)
    assert found.dtype == np.uint32
    assert np.array_equal(found, permuted.min(axis=1).astype(np.uint32))


@pytest.mark.shared
def test_tokens_match_the_patterns_on_every_evaluation_page() -> None:
    index = shared_path("eval", "pages", "index.jsonl")
    checked = 0
    for line in index.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for text in (row.get("title") or "", row.get("body_text") or ""):
            folded = fold(text)
            assert tokens(text) == TOKEN_PATTERN.findall(folded), row.get("url")
            assert word_runs(text) == WORD_RUN_PATTERN.findall(folded), row.get("url")
            words = tokens(text)
            assert np.array_equal(body_terms(words), reference_body_terms(words)), row.get("url")
            checked += 1
    assert checked > 400
