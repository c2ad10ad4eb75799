"""Text conditions of alert rules, decided in memory: a ``query`` as ``newswatch search`` reads
it, ``keywords`` as words or Chinese substrings, ``languages`` by prefix.

A query is matched against the words SQLite's index would hold for the article: runs of
letters and digits, lower-cased, accents removed, each reduced to its Porter stem
(``pipeline.alerts.porter``), title and text apart. So "issuer" finds "issuers", a "phrase"
must stand in one field in that order, and Chinese, which has no spaces, is a word only as a
whole run between punctuation, as in the search command (``keywords`` match Chinese anywhere).
Postgres's English stemmer reads a few words otherwise; SQLite's reading is the one followed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pipeline.alerts.porter import stem
from pipeline.querytext import ParsedQuery

# Distinct raw tokens whose index form is remembered; an article's vocabulary is a few hundred.
TERM_CACHE_SIZE = 1 << 16

# Latin letters, whose accents SQLite's index drops: up to the end of Latin Extended-B, and
# Latin Extended Additional (Vietnamese).
_ASCII_END = 0x80
_LATIN_END = 0x0250
_LATIN_EXTENDED = (0x1E00, 0x1EFF)
# Letters and digits (not "_", which SQLite's tokenizer splits on), with the combining accents
# that decomposed text carries, which belong to the word they mark.
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
# Chinese, Japanese and Korean characters: words there are not separated by spaces, so a
# keyword in these scripts is found anywhere, and they do not end an alphabetic word either
# ("HKMA" stands as a word in "金管局HKMA發出").
CJK_RANGES = (
    "\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
# A letter or digit of an alphabetic script: what may not touch either end of a Latin keyword.
_WORD_CHAR = f"[^\\W{CJK_RANGES}]"
_WORD_CHAR_RE = re.compile(_WORD_CHAR)
# A pattern that matches nowhere: an empty alternation would match everywhere.
_NOTHING = r"(?!)"


@lru_cache(maxsize=TERM_CACHE_SIZE)
def _index_term(token: str) -> str:
    """The term SQLite's ``porter unicode61 remove_diacritics 2`` tokenizer indexes."""
    if not token.isascii():
        token = _without_latin_accents(token)
    # SQLite folds case letter by letter: a final sigma is a sigma, "ß" stays as it is.
    return stem(token.lower().replace("ς", "σ"))


def _without_latin_accents(token: str) -> str:
    """``token`` with the accents of Latin letters removed ("café" → "cafe"); SQLite keeps
    those of other scripts (Greek "έ" stays) and every other character as it is."""
    kept: list[str] = []
    latin = False
    for char in token:
        if unicodedata.combining(char):
            if not latin:
                kept.append(char)
            continue
        code = ord(char)
        latin = code < _LATIN_END or _LATIN_EXTENDED[0] <= code <= _LATIN_EXTENDED[1]
        if latin and code >= _ASCII_END:
            decomposed = unicodedata.normalize("NFD", char)
            char = "".join(part for part in decomposed if not unicodedata.combining(part))
        kept.append(char)
    return "".join(kept)


def index_terms(text: str) -> tuple[str, ...]:
    """The indexed terms of ``text``, in order."""
    return tuple(_index_term(token) for token in _TOKEN.findall(text))


class IndexedText:
    """The title and text of an article as their indexed terms, for phrase look-ups."""

    def __init__(self, *fields: str) -> None:
        self.fields = tuple(index_terms(field) for field in fields)
        self.terms = frozenset(term for field in self.fields for term in field)

    def has(self, phrase: tuple[str, ...]) -> bool:
        """True when the terms of ``phrase`` stand in this order in one of the fields."""
        if not phrase or not self.terms.issuperset(phrase):
            return False
        if len(phrase) == 1:
            return True
        first, size = phrase[0], len(phrase)
        for terms in self.fields:
            at = -1
            while True:
                try:
                    at = terms.index(first, at + 1)
                except ValueError:
                    break
                if terms[at : at + size] == phrase:
                    return True
        return False


@dataclass(frozen=True)
class CompiledQuery:
    """A parsed query as phrases of indexed terms: every group needs one of its phrases and no
    excluded phrase may appear."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    excluded: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, parsed: ParsedQuery) -> CompiledQuery:
        """The query ``parsed`` in indexed terms."""
        return cls(
            tuple(tuple(index_terms(term) for term in group) for group in parsed.groups),
            tuple(index_terms(term) for term in parsed.excluded),
        )

    def matches(self, text: IndexedText) -> bool:
        """True when ``text`` satisfies the query as ``newswatch search`` would."""
        if not self.groups:
            return False
        if not all(any(text.has(phrase) for phrase in group) for group in self.groups):
            return False
        return not any(text.has(phrase) for phrase in self.excluded)


def unsearchable_terms(parsed: ParsedQuery) -> list[str]:
    """The terms of ``parsed`` that hold no word the index keeps (such as "_"): never found."""
    terms = [term for group in parsed.groups for term in group] + list(parsed.excluded)
    return [term for term in terms if not index_terms(term)]


class Keywords:
    """Keywords compiled for one condition: found in case-folded text (``str.casefold``),
    alphabetic ones as whole words, Chinese ones anywhere, a space inside a keyword matching
    any run of spaces."""

    def __init__(self, keywords: Iterable[str]) -> None:
        parts: list[str] = []
        for keyword in keywords:
            words = unicodedata.normalize("NFKC", keyword).casefold().split()
            if not words:
                continue  # the loader refuses blank keywords; one built in code finds nothing
            body = r"\s+".join(re.escape(word) for word in words)
            # An alphabetic end must not run on into a longer word ("HKMA" is not in "HKMAs");
            # a Chinese end needs no boundary, Chinese words having no spaces between them.
            if _WORD_CHAR_RE.match(words[-1][-1]):
                body += f"(?!{_WORD_CHAR})"
            parts.append(body)
        # No look-behind in the pattern: one in front of every alternative keeps the regex
        # engine from skipping ahead to a keyword's first letter, a third of the speed.
        self.pattern = re.compile("|".join(parts) if parts else _NOTHING)

    def found_in(self, folded: str) -> bool:
        """True when one of the keywords stands in ``folded`` (text already case-folded)."""
        at = 0
        while (found := self.pattern.search(folded, at)) is not None:
            start = found.start()
            alphabetic = _WORD_CHAR_RE.match(folded[start]) is not None
            if not alphabetic or start == 0 or _WORD_CHAR_RE.match(folded[start - 1]) is None:
                return True
            at = start + 1
        return False


def language_matches(wanted: Iterable[str], language: str | None) -> bool:
    """True when ``language`` is one of ``wanted`` or a variant of one ("zh" takes "zh-hk")."""
    if not language:
        return False
    have = language.strip().lower().replace("_", "-")
    for code in wanted:
        code = code.lower().replace("_", "-")
        if have == code or have.startswith(code + "-"):
            return True
    return False
