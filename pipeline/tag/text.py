"""The two views of an article's text the tagger works on: folded for matching, and split into
sentences (lazily) for context rules and evidence snippets."""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right

import ahocorasick

from pipeline.taxonomy import normalise

# A snippet fits one line of an alert or a table cell.
SNIPPET_CHARS = 240
# From here on (CJK radicals, kana, ideographs, hangul) characters need no word boundary.
CJK_START = 0x2E80
# A sentence ends after a CJK stop or a line break, or after a Latin stop (with a closing quote
# or bracket) that a space follows: not inside "2.0" or "U.S.". The ends are found with an
# automaton, which walks an article about three times as fast as the equivalent regex; each key
# maps to the characters after the end it marks.
_LATIN_STOPS = ".!?"
_CLOSERS = ("", *".!?\"'”’)]」』")
_SPACES = " \n\t\r\u00a0\u3000"
_SENTENCE_ENDS = ahocorasick.Automaton()
for _stop in _LATIN_STOPS:
    for _closer in _CLOSERS:
        for _space in _SPACES:
            _SENTENCE_ENDS.add_word(_stop + _closer + _space, 1)
for _stop in "\n。！？；":
    _SENTENCE_ENDS.add_word(_stop, 0)
_SENTENCE_ENDS.make_automaton()
# Each character's matching form, filled as characters are met (bounded by the code space).
_CHAR_FORMS: dict[int, str] = {}

Span = tuple[int, int]


def is_word(char: str) -> bool:
    """A character that makes a Latin word: a term next to one has no word boundary there."""
    return (char.isalnum() or char == "_") and ord(char) < CJK_START


class Folded:
    """The text folded for matching, with a map back to the original offsets when they differ."""

    __slots__ = ("folded", "mapping")

    def __init__(self, text: str) -> None:
        self.mapping: tuple[list[int], list[int]] | None = None
        if text.isascii():
            # ASCII is its own NFKC form, and folding ASCII never changes a length.
            self.folded = text.lower()
            return
        if unicodedata.is_normalized("NFKC", text):
            folded = text.casefold()
            # Folding maps each character to one or more: equal lengths mean one each.
            if len(folded) == len(text):
                self.folded = folded
                return
        # Chinese text carries full-width punctuation ("，" "（"), which NFKC turns into one
        # ASCII character each: when every character maps to one, a table keeps offsets.
        chars = set(text)
        for char in chars:
            if ord(char) not in _CHAR_FORMS:
                _CHAR_FORMS[ord(char)] = normalise(char)
        if all(len(_CHAR_FORMS[ord(c)]) == 1 and not unicodedata.combining(c) for c in chars):
            self.folded = text.translate(_CHAR_FORMS)
            return
        self._map(text)

    def _map(self, text: str) -> None:
        folded: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        index, size = 0, len(text)
        while index < size:
            # A base character and its combining marks normalise together.
            end = index + 1
            while end < size and unicodedata.combining(text[end]):
                end += 1
            piece = normalise(text[index:end])
            folded.append(piece)
            starts.extend([index] * len(piece))
            ends.extend([end] * len(piece))
            index = end
        self.folded = "".join(folded)
        self.mapping = (starts, ends)


class Sentences:
    """Sentence bounds of a text, found once and only when evidence or context needs them."""

    __slots__ = ("_ends", "_snippets", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._ends: list[int] | None = None
        # A parent tag shows its children's matches again: each snippet is cut once.
        self._snippets: dict[Span, str] = {}

    def bounds(self, start: int, end: int) -> Span:
        """The sentence holding ``text[start:end]``; the sentences, when a term holds a stop
        ("GenA.I. Sandbox")."""
        ends = self._ends
        if ends is None:
            ends = self._ends = [last + 1 - after for last, after in _SENTENCE_ENDS.iter(self.text)]
        before = bisect_right(ends, start)
        after = bisect_left(ends, end, before)
        return (
            ends[before - 1] if before else 0,
            ends[after] if after < len(ends) else len(self.text),
        )

    def snippet(self, sentence: Span, start: int, end: int) -> str:
        """The sentence around a match, cut to ``SNIPPET_CHARS`` around it when longer."""
        low, high = sentence
        # A short sentence is its own snippet, whichever of its matches asks.
        key = sentence if high - low <= SNIPPET_CHARS else (start, -end)
        cached = self._snippets.get(key)
        if cached is None:
            cached = self._snippets[key] = self._cut(low, high, start, end)
        return cached

    def _cut(self, low: int, high: int, start: int, end: int) -> str:
        text = self.text
        if high - low <= SNIPPET_CHARS:
            # Most sentences: splitting drops the surrounding whitespace as well.
            return " ".join(text[low:high].split())
        while low < high and text[low].isspace():
            low += 1
        while high > low and text[high - 1].isspace():
            high -= 1
        if high - low <= SNIPPET_CHARS:
            return " ".join(text[low:high].split())
        width = SNIPPET_CHARS - 2  # room for an ellipsis at each end
        middle = (start + end) // 2
        cut_low = max(low, min(middle - width // 2, high - width))
        cut_high = min(high, cut_low + width)
        # Cut between words where the window allows it without losing the match.
        if cut_low > low:
            space = text.find(" ", cut_low, start)
            cut_low = space + 1 if space >= 0 else cut_low
        if cut_high < high:
            space = text.rfind(" ", end, cut_high)
            cut_high = space if space >= 0 else cut_high
        body = " ".join(text[cut_low:cut_high].split())
        return ("…" if cut_low > low else "") + body + ("…" if cut_high < high else "")
