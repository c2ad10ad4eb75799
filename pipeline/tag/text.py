"""The two views of an article's text the tagger works on: folded for matching, and its sentence
ends for context rules and evidence snippets."""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right

import ahocorasick_rs

from pipeline.clean import one_line
from pipeline.taxonomy import normalise

# A snippet fits one line of an alert or a table cell.
SNIPPET_CHARS = 240
# From here on (CJK radicals, kana, ideographs, hangul) characters need no word boundary.
CJK_START = 0x2E80
# A sentence ends after a CJK stop or a line break, or after a Latin stop (with a closing quote
# or bracket) that a space follows: not inside "2.0" or "U.S.". Each key maps to the number of
# its characters that come after the end it marks. The matcher adds these keys to its own
# automaton, so one pass over the text finds both the terms and the sentence ends.
_LATIN_STOPS = ".!?"
_CLOSERS = ("", *".!?\"'”’)]」』")
# A line break ends a sentence by itself: a stop before one needs no key of its own.
_SPACES = " \t\r\u00a0\u3000"
SENTENCE_END_KEYS: dict[str, int] = {
    stop + closer + space: 1 for stop in _LATIN_STOPS for closer in _CLOSERS for space in _SPACES
}
SENTENCE_END_KEYS.update(dict.fromkeys("\n。！？；", 0))
# For text whose folded form lost its sentence ends (NFKC turns "！" into "!"): the same keys
# over the original text, in a pass of their own.
_SENTENCE_ENDS = ahocorasick_rs.AhoCorasick(
    SENTENCE_END_KEYS, matchkind=ahocorasick_rs.MatchKind.Standard
)
_AFTER = list(SENTENCE_END_KEYS.values())
# Printable ASCII and the line break: what a text holds besides these decides how it is folded
# and whether its sentences need their whitespace collapsed (see ``Folded``).
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
# Each character's matching form, filled as characters are met (bounded by the code space).
_CHAR_FORMS: dict[int, str] = {}

Span = tuple[int, int]
# An accepted or candidate match: (start, end, node index, is a short form).
Match = tuple[int, int, int, bool]


def is_word(char: str) -> bool:
    """A character that makes a Latin word: a term next to one has no word boundary there."""
    return (char.isalnum() or char == "_") and ord(char) < CJK_START


def sentence_ends(text: str) -> list[int]:
    """Offsets where the sentences of ``text`` end, ascending."""
    found = _SENTENCE_ENDS.find_matches_as_indexes(text, overlapping=True)
    return [end - _AFTER[key] for key, _, end in found]


class Folded:
    """The text folded for matching, with a map back to the original offsets when they differ.

    ``same_ends`` says the folded text has its sentence ends where the text has them, so the
    matcher's pass over it finds them; otherwise they are read from the text itself.
    ``printable`` says its only whitespace is spaces and line breaks: with no double space
    (which the matcher's pass finds), a sentence is then on one line once stripped.
    """

    __slots__ = ("folded", "mapping", "printable", "same_ends")

    def __init__(self, text: str) -> None:
        self.mapping: tuple[list[int], list[int]] | None = None
        self.same_ends = True
        data = text.encode("utf-8", "surrogatepass")
        # Every character but printable ASCII and line breaks: in English text, a few quotes,
        # dashes or names.
        others = data.translate(None, _PLAIN_ASCII).decode("utf-8", "surrogatepass")
        self.printable = others.isprintable()
        if text.isascii():
            # ASCII is its own NFKC form, and folding ASCII never changes a length.
            self.folded = text.lower()
            return
        # The properties that matter here, NFKC form and case, are then those of these few
        # characters: an ASCII character next to a character that is in NFKC form alone and
        # combines with nothing before it (combining class 0) stays in NFKC form (checked for
        # every such pair), and when they also fold to themselves, folding is lower-casing the
        # ASCII letters, which bytes do without a table look-up per character. Measured on the
        # bench corpus: 0.21 million instructions per article, against 0.58 for the whole
        # text's NFKC check and casefold.
        if (
            others.casefold() == others
            and unicodedata.is_normalized("NFKC", others)
            and not any(map(unicodedata.combining, others))
        ):
            self.folded = data.lower().decode("utf-8", "surrogatepass")
            return
        if unicodedata.is_normalized("NFKC", text):
            folded = text.casefold()
            # Folding maps each character to one or more: equal lengths mean one each, and
            # folding leaves punctuation and spaces alone.
            if len(folded) == len(text):
                self.folded = folded
                return
        self.same_ends = False
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


def _collapsed(piece: str, plain: bool) -> str:
    """``one_line`` of a piece of a sentence, knowing whether its text is plain."""
    # In a plain text single spaces are the only whitespace but line breaks, which end
    # sentences, and the cuts fall next to spaces: three looks then tell a piece already on one
    # line, where ``one_line`` reads every character (a snippet is cut for most tags).
    if plain and piece[:1] != " " and piece[-1:] != " " and "\n" not in piece:
        return piece
    return one_line(piece)


class Sentences:
    """The sentences of a text, as the offsets where they end, and the snippets cut from them."""

    __slots__ = ("_by_sentence", "edges", "plain", "text")

    def __init__(self, text: str, ends: list[int], *, plain: bool = False) -> None:
        self.text = text
        # Sentence ``i`` is ``text[edges[i - 1]:edges[i]]``: the ends with the text's own
        # edges around them, so no sentence needs a case of its own.
        self.edges = [0, *ends, len(text)]
        # The text's only whitespace is single spaces and line breaks (see ``Folded``).
        self.plain = plain
        # A parent tag shows its children's matches again: each short sentence is cut once.
        self._by_sentence: dict[int, str] = {}

    def bounds(self, start: int, end: int) -> Span:
        """The sentence holding ``text[start:end]``; the sentences, when a term holds a stop
        ("GenA.I. Sandbox")."""
        edges = self.edges
        before = bisect_right(edges, start)
        return edges[before - 1], edges[bisect_left(edges, end, before)]

    def evidence(
        self, found: list[Match], limit: int, synthetic: dict[int, str]
    ) -> tuple[str, ...]:
        """Distinct snippets of the sentences around the first of ``found`` (in text order), at
        most ``limit``; a position in ``synthetic`` (a name the source attached) stands for
        itself."""
        edges = self.edges
        by_sentence = self._by_sentence
        if len(found) == 1 and not synthetic:
            # Most tags have one match: its sentence, without the bookkeeping below.
            start, end = found[0][0], found[0][1]
            index = bisect_right(edges, start)
            high = edges[index]
            snippet: str | None
            if high < end:
                snippet = self._cut(*self.bounds(start, end), start, end)
            else:
                snippet = by_sentence.get(index)
                if snippet is None:
                    snippet = self._sentence(index, start, end)
            return (snippet,) if snippet else ()
        snippets: list[str] = []
        previous = -1
        for start, end, _, _ in found:
            if synthetic and start in synthetic:
                snippet = synthetic[start]
            else:
                # Matches come in text order, so a sentence's matches follow each other: one
                # snippet per sentence needs only the previous sentence's number.
                index = bisect_right(edges, start)
                if index == previous:
                    continue
                previous = index
                if edges[index] < end:
                    # The term holds a stop ("GenA.I. Sandbox"): the sentences it spans.
                    return self._evidence_across(found, limit, synthetic)
                snippet = by_sentence.get(index)
                if snippet is None:
                    snippet = self._sentence(index, start, end)
            if snippet and snippet not in snippets:
                snippets.append(snippet)
                if len(snippets) == limit:
                    break
        return tuple(snippets)

    def _sentence(self, index: int, start: int, end: int) -> str:
        """The snippet of sentence ``index`` for the match ``start:end`` in it: a short sentence
        is its own snippet, whichever tag's match asks for it, and is cut once."""
        low, high = self.edges[index - 1], self.edges[index]
        if high - low > SNIPPET_CHARS:
            return self._cut(low, high, start, end)
        sentence = self.text[low:high].strip()
        if not self.plain:
            sentence = one_line(sentence)
        self._by_sentence[index] = sentence
        return sentence

    def _evidence_across(
        self, found: list[Match], limit: int, synthetic: dict[int, str]
    ) -> tuple[str, ...]:
        """``evidence`` when a match spans sentences: each span's sentences are one unit."""
        snippets: list[str] = []
        seen: set[Span] = set()
        for start, end, _, _ in found:
            snippet = synthetic.get(start) if synthetic else None
            if snippet is None:
                sentence = self.bounds(start, end)
                if sentence in seen:
                    continue
                seen.add(sentence)
                snippet = self._cut(*sentence, start, end)
            if snippet and snippet not in snippets:
                snippets.append(snippet)
                if len(snippets) == limit:
                    break
        return tuple(snippets)

    def _cut(self, low: int, high: int, start: int, end: int) -> str:
        """The sentence ``text[low:high]`` on one line, cut to ``SNIPPET_CHARS`` around the
        match ``start:end`` when longer."""
        text = self.text
        if high - low <= SNIPPET_CHARS:
            sentence = text[low:high].strip()
            return sentence if self.plain else one_line(sentence)
        while low < high and text[low].isspace():
            low += 1
        while high > low and text[high - 1].isspace():
            high -= 1
        if high - low <= SNIPPET_CHARS:
            return _collapsed(text[low:high], self.plain)
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
        body = _collapsed(text[cut_low:cut_high], self.plain)
        return ("…" if cut_low > low else "") + body + ("…" if cut_high < high else "")
