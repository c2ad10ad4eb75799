"""The Porter stemmer exactly as SQLite's FTS5 ``porter`` tokenizer applies it.

``newswatch search`` on SQLite finds "issuers" for "issuer" because its index holds stems; an
alert rule's ``query`` is matched in memory, so it stems words the same way, quirks included:
tokens of fewer than 3 or more than 64 UTF-8 bytes are left as they are, a suffix is removed
only when the word is longer than it, and within each step only the first suffix that matches
is considered (its condition failing ends the step).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

# FTS5 passes shorter and longer tokens (in bytes) through unstemmed.
MIN_STEMMED_BYTES = 3
MAX_STEMMED_BYTES = 64
# Articles reuse a small vocabulary; remembering stems makes a word's second sighting a lookup.
STEM_CACHE_SIZE = 1 << 16

_VOWELS = frozenset("aeiou")

StemCondition = Callable[[str], bool]
Rule = tuple[str, str, StemCondition]


def _is_vowel(char: str, y_is_vowel: bool) -> bool:
    return char in _VOWELS or (y_is_vowel and char == "y")


def _gobble_vc(stem: str, start: int, previous_consonant: bool) -> int:
    """The position after the first vowel-then-consonant run from ``start``, or 0 if none."""
    consonant = previous_consonant
    i = start
    while i < len(stem):
        consonant = not _is_vowel(stem[i], consonant)
        if not consonant:
            break
        i += 1
    i += 1
    while i < len(stem):
        consonant = not _is_vowel(stem[i], consonant)
        if consonant:
            return i + 1
        i += 1
    return 0


def _m_gt0(stem: str) -> bool:
    return _gobble_vc(stem, 0, False) > 0


def _m_gt1(stem: str) -> bool:
    n = _gobble_vc(stem, 0, False)
    return n > 0 and _gobble_vc(stem, n, True) > 0


def _m_eq1(stem: str) -> bool:
    n = _gobble_vc(stem, 0, False)
    return n > 0 and _gobble_vc(stem, n, True) == 0


def _o_star(stem: str) -> bool:
    """The stem ends consonant-vowel-consonant, the last not w, x or y."""
    if not stem or stem[-1] in "wxy":
        return False
    mask = 0
    consonant = False
    for char in stem:
        consonant = not _is_vowel(char, consonant)
        mask = (mask << 1) + consonant
    return (mask & 0b111) == 0b101


def _m_gt1_s_or_t(stem: str) -> bool:
    return stem[-1:] in ("s", "t") and _m_gt1(stem)


def _has_vowel(stem: str) -> bool:
    # FTS5's own reading of (*v*): a "y" counts as a vowel anywhere but first.
    return any(_is_vowel(char, i > 0) for i, char in enumerate(stem))


def _always(rest: str) -> bool:
    return True


# Each step's rules in FTS5's order: (suffix, replacement, condition on the rest).
_STEP2: tuple[Rule, ...] = tuple(
    (suffix, output, _m_gt0)
    for suffix, output in (
        ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
        ("izer", "ize"), ("logi", "log"), ("bli", "ble"), ("alli", "al"), ("entli", "ent"),
        ("eli", "e"), ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"),
        ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
        ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
    )
)  # fmt: skip
_STEP3: tuple[Rule, ...] = tuple(
    (suffix, output, _m_gt0)
    for suffix, output in (
        ("ical", "ic"), ("ness", ""), ("icate", "ic"), ("iciti", "ic"), ("ful", ""),
        ("ative", ""), ("alize", "al"),
    )
)  # fmt: skip
_STEP4: tuple[Rule, ...] = tuple(
    (suffix, "", _m_gt1_s_or_t if suffix == "ion" else _m_gt1)
    for suffix in (
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
        "ou", "ism", "ate", "iti", "ous", "ive", "ize",
    )
)  # fmt: skip
_STEP1B: tuple[Rule, ...] = (("eed", "ee", _m_gt0), ("ed", "", _has_vowel), ("ing", "", _has_vowel))
_STEP1B2: tuple[Rule, ...] = (
    ("at", "ate", _always),
    ("bl", "ble", _always),
    ("iz", "ize", _always),
)


def _apply(word: str, rules: tuple[Rule, ...]) -> tuple[str, bool]:
    """``word`` after the first rule whose suffix it ends with (and is longer than), and
    whether that rule's condition held."""
    for suffix, output, condition in rules:
        if len(word) > len(suffix) and word.endswith(suffix):
            stem = word[: -len(suffix)]
            if condition(stem):
                return stem + output, True
            return word, False
    return word, False


def _step1a(word: str) -> str:
    if not word.endswith("s"):
        return word
    if word.endswith("es"):
        if (len(word) > 4 and word.endswith("sses")) or (len(word) > 3 and word.endswith("ies")):
            return word[:-2]
        return word[:-1]
    return word if word.endswith("ss") else word[:-1]


def _step1b(word: str) -> str:
    stemmed, held = _apply(word, _STEP1B)
    # Only the removal of "ed" or "ing" goes on to the clean-up ("eed" → "ee" does not).
    if not held or (len(word) > len("eed") and word.endswith("eed")):
        return stemmed
    word, changed = _apply(stemmed, _STEP1B2)
    if changed or len(word) < 2:
        return word
    last = word[-1]
    if not _is_vowel(last, False) and last not in "lsz" and last == word[-2]:
        return word[:-1]
    if _m_eq1(word) and _o_star(word):
        return word + "e"
    return word


def _step5(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        if _m_gt1(stem) or (_m_eq1(stem) and not _o_star(stem)):
            word = stem
    if len(word) > 1 and word.endswith("ll") and _m_gt1(word[:-1]):
        word = word[:-1]
    return word


@lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(token: str) -> str:
    """The stem FTS5's porter tokenizer indexes for ``token`` (already folded to lower case)."""
    if token.isascii():
        return _stem_bytes(token)
    # FTS5 stems UTF-8 bytes: each byte of a non-ASCII letter counts as a consonant ("große"
    # loses its "e" as "groß" has two consonant bytes at its end). Latin-1 maps bytes to
    # characters one to one, so the same steps run on the same units.
    stemmed = _stem_bytes(token.encode("utf-8").decode("latin-1"))
    return stemmed.encode("latin-1").decode("utf-8", errors="replace")


def _stem_bytes(word: str) -> str:
    if len(word) < MIN_STEMMED_BYTES or len(word) > MAX_STEMMED_BYTES:
        return word
    word = _step1b(_step1a(word))
    if word.endswith("y") and _has_vowel(word[:-1]):
        word = word[:-1] + "i"
    for rules in (_STEP2, _STEP3, _STEP4):
        word, _ = _apply(word, rules)
    return _step5(word)
