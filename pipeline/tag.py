"""Tag text with the entities and topics of a taxonomy, keeping the evidence for every tag.

Matching runs Aho-Corasick automata over the normalised text (NFKC, case-folded): one for terms
that start with a Latin character and one for the rest (CJK), run only on text that holds one of
their first characters. A term a node marks case-sensitive (short acronyms such as "AI", "SFC",
"LEAP") is matched folded and then kept only if the text has it in exactly that case. Rules, in
the order they apply:

- A term that starts or ends with a Latin letter or digit needs a word boundary there: "AI" is
  never found in "SAID" or "paid". CJK terms match without spaces. Two exceptions on the right
  edge: a topic term may take a plural "s" ("stablecoins"), and a lower-case end followed by a
  capital counts as a boundary, because scraped text glues ticker links to names ("BitcoinBTC").
- A node with ``requires_context`` is found only when one of those words is in the same
  sentence ("Whale" with "blockchain" or "platform"; never "whale watching").
- Where matches overlap, the longest wins. An entity yields to any longer overlapping match, so
  a place inside a longer name is not counted ("Hong Kong Monetary Authority" is not also Hong
  Kong, "數碼港元" is the e-HKD and not Cyberport). A topic yields only to a longer topic: a topic
  word inside an entity's name still counts for the topic (the GenAI Sandbox is about GenAI,
  Hong Kong Fintech Week about fintech).
- Short forms (a surname, an abbreviation) count only after one of the node's full terms
  appeared earlier; then they win over another node's term of the same spelling, as when an
  HKMA circular defines "authorized institutions (AIs)" and "AI" no longer means the topic.
- A node's parent is implied by its children: its count is its own matches plus its emitted
  children's, its evidence comes from all of them. A topic is emitted once its count reaches
  its ``min_count``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import ahocorasick

from pipeline.models import Article, Tag
from pipeline.taxonomy import Node, Taxonomy, load_taxonomy, normalise, term_variants

__all__ = ["Tagger", "load_taxonomy"]

# Snippets kept per tag: enough to show why a tag is there, few enough to store with each link.
EVIDENCE_LIMIT = 3
# A snippet fits one line of an alert or a table cell.
SNIPPET_CHARS = 240
# From here on (CJK radicals, kana, ideographs, hangul) characters need no word boundary.
_CJK_START = 0x2E80
# Candidate sentence ends; a Latin stop only ends a sentence before a space (not in "2.0").
_STOPS = re.compile(r"[.!?。！？；\n]")
_LATIN_STOPS = frozenset(".!?")
_CLOSERS = frozenset(".!?\"'”’)]」』")
_SLUG_JUNK = re.compile(r"[\W_]+")
# Each character's matching form, filled as characters are met (bounded by the code space).
_CHAR_FORMS: dict[int, str] = {}

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Term:
    """What the automata store for one spelling of one term."""

    node: int
    length: int
    left: bool  # starts with a letter or digit: the character before must not be one
    right: bool  # ends with a letter or digit: the character after must not be one
    short: bool
    plural: bool
    exact: str | None  # the NFKC form the text must show, for a case-sensitive term


def _is_word(char: str) -> bool:
    return (char.isalnum() or char == "_") and ord(char) < _CJK_START


def _slug(name: str) -> str:
    return _SLUG_JUNK.sub("-", normalise(name)).strip("-")


class _Normalised:
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


class _Sentences:
    """Sentence bounds of a text, found once and only when evidence or context needs them."""

    __slots__ = ("_ends", "_snippets", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._ends: list[int] | None = None
        # A parent tag shows its children's matches again: each snippet is cut once.
        self._snippets: dict[tuple[int, int, int], str] = {}

    def _find_ends(self) -> list[int]:
        text, size = self.text, len(self.text)
        ends: list[int] = []
        for found in _STOPS.finditer(text):
            end = found.end()
            if found.group() in _LATIN_STOPS:
                while end < size and text[end] in _CLOSERS:
                    end += 1
                if end < size and not text[end].isspace():
                    continue
            ends.append(end)
        return ends

    def bounds(self, start: int, end: int) -> Span:
        """The sentence holding ``text[start:end]``."""
        if self._ends is None:
            self._ends = self._find_ends()
        ends = self._ends
        before = bisect_right(ends, start)
        after = bisect_left(ends, end)
        return (
            ends[before - 1] if before else 0,
            ends[after] if after < len(ends) else len(self.text),
        )

    def snippet(self, start: int, end: int) -> str:
        """The sentence around a match, cut to ``SNIPPET_CHARS`` around it when longer."""
        low, high = self.bounds(start, end)
        # A short sentence is its own snippet, whichever of its matches asks.
        key = (low, high, -1) if high - low <= SNIPPET_CHARS else (start, end, 0)
        cached = self._snippets.get(key)
        if cached is None:
            cached = self._snippets[key] = self._cut(low, high, start, end)
        return cached

    def _cut(self, low: int, high: int, start: int, end: int) -> str:
        text = self.text
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


class Tagger:
    """Finds a taxonomy's entities and topics in text, with counts and evidence."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.version = taxonomy.version
        nodes = taxonomy.nodes
        index = {node.id: position for position, node in enumerate(nodes)}
        self._parent = [index[n.parent] if n.parent else -1 for n in nodes]
        self._lineage: list[tuple[int, ...]] = []
        for position in range(len(nodes)):
            chain: list[int] = []
            parent = self._parent[position]
            while parent >= 0:
                chain.append(parent)
                parent = self._parent[parent]
            self._lineage.append(tuple(chain))
        self._topic = [node.kind == "topic" for node in nodes]
        self._context = [node.requires_context for node in nodes]
        self._lookup: dict[str, int] = {}
        # Split by first character: an automaton's root is searched linearly on every miss, so
        # hundreds of CJK first characters would slow the scan of every English article.
        self._latin = ahocorasick.Automaton()
        self._other = ahocorasick.Automaton()
        self._firsts: set[str] = set()
        for position, node in enumerate(nodes):
            self._add_node(position, node)
        # Which characters can start a non-Latin term: text with none skips that automaton.
        firsts = "".join(map(re.escape, sorted(self._firsts)))
        self._other_firsts = re.compile(f"[{firsts}]") if firsts else None
        for automaton in (self._latin, self._other):
            if len(automaton):
                automaton.make_automaton()

    @classmethod
    def from_path(cls, path: str | Path) -> Tagger:
        """A tagger for the taxonomy file at ``path``; ``ConfigError`` if the file is wrong."""
        return cls(load_taxonomy(path))

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node of the taxonomy, in file order."""
        return self.taxonomy.nodes

    def node(self, node_id: str) -> Node:
        """The node with this id (name, kind, type, parent, regulator…); ``KeyError`` if none."""
        return self.taxonomy.node(node_id)

    def _add_node(self, position: int, node: Node) -> None:
        exact_terms = set(node.case_sensitive)
        topic = node.kind == "topic"
        for term in node.terms:
            self._add_term(position, term, exact=term in exact_terms, short=False, plural=topic)
        # Surnames and other short forms are capitalised words: matched with their case.
        for term in node.short_forms:
            self._add_term(position, term, exact=True, short=True, plural=False)

    def _add_term(
        self, position: int, term: str, *, exact: bool, short: bool, plural: bool
    ) -> None:
        for variant in term_variants(term):
            key = normalise(variant)
            if not short:
                self._lookup.setdefault(key, position)
            if key[0].isascii():
                automaton = self._latin
            else:
                automaton = self._other
                self._firsts.add(key[0])
            # One spelling can be a term of one node and a short form of others ("AI").
            terms: list[_Term] = automaton.get(key, [])
            terms.append(
                _Term(
                    node=position,
                    length=len(key),
                    left=_is_word(key[0]),
                    right=_is_word(key[-1]),
                    short=short,
                    plural=plural,
                    exact=normalise(variant, fold=False) if exact else None,
                )
            )
            automaton.add_word(key, terms)

    def tag(self, text: str, title: str = "") -> list[Tag]:
        """Tags for an article's text and title, most mentioned first."""
        return self._tag(text, title, ())

    def tag_article(self, article: Article) -> list[Tag]:
        """Tags for an article's title and text, plus the entities and categories its source gave.

        A given name that is a node's term tags that node; any other becomes ``ce:<slug>`` (an
        entity of type company) or ``category:<slug>`` (a topic of type category).
        """
        attached = [(name, "entity") for name in article.entities]
        attached += [(name, "category") for name in article.categories]
        return self._tag(article.text, article.title, attached)

    def _tag(self, text: str, title: str, attached: Sequence[tuple[str, str]]) -> list[Tag]:
        title = title.strip()
        offset = len(title) + 2 if title else 0
        combined = f"{title}\n\n{text}" if title else text
        sentences = _Sentences(combined)
        hits = self._find(combined, sentences)
        synthetic: dict[int, str] = {}
        unknown: dict[str, Tag] = {}
        for name, origin in attached:
            self._attach(name.strip(), origin, len(combined), hits, synthetic, unknown)
        if not hits and not unknown:
            return []
        # The lead is the first paragraph: up to the first line break, since paragraphs are
        # separated by blank lines in clean text and by single breaks in raw extractions.
        lead_low = offset + len(text) - len(text.lstrip())
        lead_high = combined.find("\n", lead_low)
        lead = (lead_low, lead_high if lead_high >= 0 else len(combined))
        tags = self._aggregate(hits, sentences, synthetic, len(title), lead)
        tags.extend(unknown.values())
        tags.sort(key=lambda t: (-t.count, t.id))
        return tags

    def _find(self, text: str, sentences: _Sentences) -> dict[int, list[Span]]:
        """Accepted matches per node index, in text order."""
        if not text:
            return {}
        normalised = _Normalised(text)
        folded, mapping = normalised.folded, normalised.mapping
        candidates: list[tuple[int, int, _Term]] = []
        if len(self._latin):
            self._scan(self._latin, folded, mapping, text, candidates)
        if self._other_firsts and not folded.isascii() and self._other_firsts.search(folded):
            self._scan(self._other, folded, mapping, text, candidates)
        if not candidates:
            return {}
        candidates = [c for c in candidates if self._in_context(c, text, sentences)]
        # A short form refers back: without an earlier full mention it names someone else.
        first_full: dict[int, int] = {}
        for start, _, term in candidates:
            if not term.short and start < first_full.get(term.node, len(text)):
                first_full[term.node] = start
        candidates = [
            c for c in candidates if not c[2].short or first_full.get(c[2].node, c[0]) < c[0]
        ]
        accepted = self._resolve(candidates, len(text))
        accepted.sort(key=lambda c: c[0])
        hits: dict[int, list[Span]] = {}
        for start, end, term in accepted:
            # The full mention may have lost to a longer name: then the short form goes too.
            if term.short and term.node not in hits:
                continue
            hits.setdefault(term.node, []).append((start, end))
        return hits

    @staticmethod
    def _scan(
        automaton: ahocorasick.Automaton,
        norm: str,
        mapping: tuple[list[int], list[int]] | None,
        text: str,
        out: list[tuple[int, int, _Term]],
    ) -> None:
        size = len(norm)
        for last, terms in automaton.iter(norm):
            first = terms[0]
            start, end = last - first.length + 1, last + 1
            if first.left and start and _is_word(norm[start - 1]):
                continue
            if mapping:
                low, high = mapping[0][start], mapping[1][end - 1]
            else:
                low, high = start, end
            glued = first.right and end < size and _is_word(norm[end])
            for term in terms:
                if term.exact is not None:
                    found = text[low:high]
                    # Compare in NFKC form only when the raw text differs ("ＨＫＭＡ").
                    if found != term.exact and normalise(found, fold=False) != term.exact:
                        continue
                if not glued:
                    out.append((low, high, term))
                elif (
                    term.plural
                    and norm[end] == "s"
                    and (end + 1 == size or not _is_word(norm[end + 1]))
                ):
                    out.append((low, mapping[1][end] if mapping else end + 1, term))
                elif text[high - 1].islower() and text[high].isupper():
                    out.append((low, high, term))

    def _in_context(
        self, candidate: tuple[int, int, _Term], text: str, sentences: _Sentences
    ) -> bool:
        words = self._context[candidate[2].node]
        if not words:
            return True
        low, high = sentences.bounds(candidate[0], candidate[1])
        sentence = normalise(text[low:high])
        return any(word in sentence for word in words)

    def _resolve(
        self, candidates: list[tuple[int, int, _Term]], size: int
    ) -> list[tuple[int, int, _Term]]:
        """Longest match first; an entity yields to any overlap, a topic only to topics.

        On a tie a short form wins: its node was named in full earlier, so the article has
        defined the abbreviation ("authorized institutions (AIs)").
        """
        candidates.sort(key=lambda c: (c[0] - c[1], not c[2].short, c[0]))
        entities = bytearray(size)
        topics = bytearray(size)
        taken: set[Span] = set()
        accepted: list[tuple[int, int, _Term]] = []
        for start, end, term in candidates:
            # One spelling at one place means one thing, even across kinds.
            if (start, end) in taken or topics.find(1, start, end) >= 0:
                continue
            if self._topic[term.node]:
                topics[start:end] = b"\x01" * (end - start)
            else:
                if entities.find(1, start, end) >= 0:
                    continue
                entities[start:end] = b"\x01" * (end - start)
            taken.add((start, end))
            accepted.append((start, end, term))
        return accepted

    def _attach(
        self,
        name: str,
        origin: str,
        position: int,
        hits: dict[int, list[Span]],
        synthetic: dict[int, str],
        unknown: dict[str, Tag],
    ) -> None:
        """Add a name the source attached: to its node, or as a tag of its own."""
        if not name:
            return
        node = self._lookup.get(normalise(name))
        if node is not None:
            # The text's own mentions are better evidence; the name only stands in for none.
            if node not in hits:
                place = position + len(synthetic)
                synthetic[place] = name
                hits[node] = [(place, place)]
            return
        slug = _slug(name)
        if not slug:
            return
        tag_id = f"ce:{slug}" if origin == "entity" else f"category:{slug}"
        previous = unknown.get(tag_id)
        if previous is not None:
            unknown[tag_id] = replace(previous, count=previous.count + 1)
        elif origin == "entity":
            unknown[tag_id] = Tag(tag_id, name, "entity", "company", 1, (name,))
        else:
            unknown[tag_id] = Tag(tag_id, name, "topic", "category", 1, (name,))

    def _aggregate(
        self,
        hits: dict[int, list[Span]],
        sentences: _Sentences,
        synthetic: dict[int, str],
        title_end: int,
        lead: Span,
    ) -> list[Tag]:
        """Tags for the matched nodes and the parents they imply, children before parents."""
        involved = set(hits)
        for node in list(hits):
            involved.update(self._lineage[node])
        spans = {node: list(found) for node, found in hits.items()}
        tags: list[Tag] = []
        nodes = self.taxonomy.nodes
        for node in sorted(involved, key=lambda n: -len(self._lineage[n])):
            found = spans.get(node)
            if not found or len(found) < nodes[node].min_count:
                continue
            parent = self._parent[node]
            if parent >= 0:
                spans.setdefault(parent, []).extend(found)
            found.sort()
            tags.append(self._make_tag(nodes[node], found, sentences, synthetic, title_end, lead))
        return tags

    @staticmethod
    def _make_tag(
        node: Node,
        found: list[Span],
        sentences: _Sentences,
        synthetic: dict[int, str],
        title_end: int,
        lead: Span,
    ) -> Tag:
        return Tag(
            id=node.id,
            name=node.name,
            kind=node.kind,
            type=node.type,
            count=len(found),
            evidence=_evidence(found, sentences, synthetic),
            in_title=any(start < title_end for start, _ in found),
            in_lead=any(lead[0] <= start < lead[1] for start, _ in found),
        )


def _evidence(
    found: Iterable[Span], sentences: _Sentences, synthetic: dict[int, str]
) -> tuple[str, ...]:
    """The distinct sentences around the first matches, at most ``EVIDENCE_LIMIT``."""
    snippets: list[str] = []
    seen: set[Span] = set()
    for start, end in found:
        snippet = synthetic.get(start)
        if snippet is None:
            # One snippet per sentence, even when a long one was cut around several matches.
            sentence = sentences.bounds(start, end)
            if sentence in seen:
                continue
            seen.add(sentence)
            snippet = sentences.snippet(start, end)
        if snippet and snippet not in snippets:
            snippets.append(snippet)
            if len(snippets) == EVIDENCE_LIMIT:
                break
    return tuple(snippets)
