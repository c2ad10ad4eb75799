"""Titles reduced to the words that name an event.

Outlets dress one headline differently: "Opinion | X", "Exclusive: X", "X - Outlet",
"X | Outlet". Those are cut, then the title becomes a set of terms: English words past a small
stop list, folded to a crude stem ("dealers" and "dealer" agree); for Chinese, pairs of
adjacent characters, since a Chinese word is most often two characters.
"""

from __future__ import annotations

import functools
import itertools
import re

from pipeline.stories.shingles import han_share, tokens

# A suffix after " - " or " | " of at most this many words is an outlet's name, not the title.
MAX_OUTLET_WORDS = 4
# Words every title in this field shares, or that carry no event: they would link everything.
STOP_WORDS = frozenset(
    (
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "into",
        "is", "it", "its", "of", "on", "or", "over", "than", "that", "the", "this", "to", "under",
        "was", "were", "will", "with", "new", "says", "said", "after", "amid", "about", "more",
        "hong", "kong", "hk",
    )
)
_PREFIX = re.compile(
    r"^\s*(?:opinion|analysis|exclusive|breaking|explainer|editorial|update[d]?|watch|live)"
    r"\s*[|:：–—-]\s*",
    re.IGNORECASE,
)
_SUFFIX = re.compile(r"\s+[|–—-]\s+([^|–—-]+)$")
# Stems are cached: news repeats a small vocabulary, and stemming every body word costs more
# than the rest of a fingerprint.
STEM_CACHE = 100_000
# Whole words spelt two ways, and endings: "-ise" words (tokenise, authorise) take the "-ize".
_AMERICAN = {"licence": "license", "licences": "licenses", "licenced": "licensed"}
_SPELLINGS = (
    ("isation", "ization"), ("isations", "izations"), ("ised", "ized"), ("ising", "izing"),
    ("ises", "izes"), ("ise", "ize"),
)
_STEMS = ("ings", "ing", "ers", "er", "ies", "es", "s", "ed")


def bare_title(title: str) -> str:
    """The title without an opinion/exclusive prefix or an outlet's name after a dash or bar."""
    bare = _PREFIX.sub("", title.strip())
    suffix = _SUFFIX.search(bare)
    if suffix is not None and _is_short(suffix[1]):
        rest = bare[: suffix.start()]
        if len(tokens(rest)) > MAX_OUTLET_WORDS:
            bare = rest
    return bare.strip()


def _is_short(text: str) -> bool:
    """Whether a title's tail is short enough to be an outlet's name (Chinese: 8 characters)."""
    words = tokens(text)
    if han_share(words) > 0.5:
        return len(words) <= 2 * MAX_OUTLET_WORDS
    return len(words) <= MAX_OUTLET_WORDS


@functools.lru_cache(maxsize=STEM_CACHE)
def stem(word: str) -> str:
    """A crude English stem: enough that plural and singular, noun and verb, British and
    American spelling ("licence", "tokenised") agree."""
    word = _AMERICAN.get(word, word)
    for british, american in _SPELLINGS:
        if word.endswith(british) and len(word) > len(british) + 2:
            word = word[: -len(british)] + american
            break
    for ending in _STEMS:
        if len(word) > len(ending) + 3 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def title_terms(title: str) -> frozenset[str]:
    """The terms of a title: stemmed English words, or Chinese character pairs."""
    words = tokens(bare_title(title))
    if han_share(words) > 0.5:
        han = [word for word in words if len(word) == 1]
        return frozenset(first + second for first, second in itertools.pairwise(han))
    return frozenset(
        stem(word) for word in words if word not in STOP_WORDS and (len(word) > 2 or word.isdigit())
    )


def overlap(first: frozenset[str], second: frozenset[str]) -> float:
    """The Jaccard similarity of two term sets."""
    if not first or not second:
        return 0.0
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)
