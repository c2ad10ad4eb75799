"""Find a taxonomy's terms in text: Aho-Corasick automata, word boundaries, case, context rules,
short forms and overlaps. The result is, per node, the spans of its accepted matches."""

from __future__ import annotations

import re

import ahocorasick

from pipeline.errors import ConfigError
from pipeline.tag.text import CJK_START, Folded, Sentences, Span, is_word
from pipeline.taxonomy import Node, Taxonomy, normalise, term_variants

# What the automata store for one spelling of one term, as a plain tuple because the scan
# reads it for every match: (node index, length, needs a left boundary, needs a right boundary,
# is a short form, may take a plural "s", the NFKC form a case-sensitive term must show).
_CJK = chr(CJK_START)
TermInfo = tuple[int, int, bool, bool, bool, bool, str | None]
# An accepted or candidate match: (start, end, node index, is a short form).
Match = tuple[int, int, int, bool]


class Matcher:
    """The automata of one taxonomy and the rules that accept or reject what they find."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._path = taxonomy.path
        nodes = taxonomy.nodes
        self._topic = [node.kind == "topic" for node in nodes]
        self._context = [node.requires_context for node in nodes]
        # Normalised term → node index, for names a source attaches to an article.
        self.lookup: dict[str, int] = {}
        # Split by first character: an automaton's root is searched linearly on every miss, so
        # hundreds of CJK first characters would slow the scan of every English article.
        self._latin = ahocorasick.Automaton()
        self._other = ahocorasick.Automaton()
        firsts: set[str] = set()
        for position, node in enumerate(nodes):
            self._add_node(position, node, firsts)
        # Where a non-Latin term can be: from a character one starts with to the next space.
        # English text then scans only the few words that hold such a character, instead of
        # walking this automaton's crowded root once per character.
        pattern = "".join(map(re.escape, sorted(firsts)))
        self._other_runs = re.compile(f"[{pattern}]\\S*") if pattern else None
        for automaton in (self._latin, self._other):
            if len(automaton):
                automaton.make_automaton()

    def _add_node(self, position: int, node: Node, firsts: set[str]) -> None:
        exact_terms = set(node.case_sensitive)
        topic = node.kind == "topic"
        for term in node.terms:
            self._add_term(
                position, node, term, firsts, exact=term in exact_terms, short=False, plural=topic
            )
        # Surnames and other short forms are capitalised words: matched with their case.
        for term in node.short_forms:
            self._add_term(position, node, term, firsts, exact=True, short=True, plural=False)

    def _add_term(
        self,
        position: int,
        node: Node,
        term: str,
        firsts: set[str],
        *,
        exact: bool,
        short: bool,
        plural: bool,
    ) -> None:
        for variant in term_variants(term):
            key = normalise(variant)
            if not short:
                self.lookup.setdefault(key, position)
            if key[0].isascii():
                automaton = self._latin
            elif any(char.isspace() for char in key):
                # The scan reads non-Latin terms only up to a space (see ``_other_runs``).
                raise ConfigError(
                    f"{self._path}: node {node.id!r}: term {term!r} starts with a non-Latin"
                    " character and holds a space; write it without the space"
                )
            else:
                automaton = self._other
                firsts.add(key[0])
            info: TermInfo = (
                position,
                len(key),
                is_word(key[0]),
                is_word(key[-1]),
                short,
                plural,
                normalise(variant, fold=False) if exact else None,
            )
            # One spelling can be a term of one node and a short form of others ("AI").
            known: tuple[TermInfo, ...] = automaton.get(key, ())
            automaton.add_word(key, (*known, info))

    def find(self, text: str, sentences: Sentences) -> dict[int, list[Span]]:
        """Accepted matches per node index, in text order."""
        if not text:
            return {}
        normalised = Folded(text)
        folded, mapping = normalised.folded, normalised.mapping
        candidates: list[Match] = []
        if len(self._latin):
            _scan(self._latin, folded, mapping, text, candidates)
        if self._other_runs is not None and not folded.isascii():
            for run in self._other_runs.finditer(folded):
                _scan(self._other, folded, mapping, text, candidates, run.start(), run.end())
        if not candidates:
            return {}
        context = self._context
        if any(context[c[2]] for c in candidates):
            candidates = [c for c in candidates if self._in_context(c, text, sentences)]
        if any(c[3] for c in candidates):
            candidates = _after_full_mentions(candidates, len(text))
        accepted = self._resolve(candidates, len(text))
        hits: dict[int, list[Span]] = {}
        for start, end, node, short in accepted:
            # The full mention may have lost to a longer name: then the short form goes too.
            if short and node not in hits:
                continue
            found = hits.get(node)
            if found is None:
                hits[node] = [(start, end)]
            else:
                found.append((start, end))
        return hits

    def _in_context(self, candidate: Match, text: str, sentences: Sentences) -> bool:
        words = self._context[candidate[2]]
        if not words:
            return True
        low, high = sentences.bounds(candidate[0], candidate[1])
        sentence = normalise(text[low:high])
        return any(word in sentence for word in words)

    def _resolve(self, candidates: list[Match], size: int) -> list[Match]:
        """Longest match first; an entity yields to any overlap, a topic only to topics.

        On a tie a short form wins: its node was named in full earlier, so the article has
        defined the abbreviation ("authorized institutions (AIs)"). Returns text order.
        """
        candidates.sort()
        # Most matches overlap nothing: only the clusters that do need the full rule.
        accepted: list[Match] = []
        cluster: list[Match] = []
        reach = -1
        for candidate in candidates:
            if candidate[0] >= reach:
                if len(cluster) == 1:
                    accepted.append(cluster[0])
                elif cluster:
                    accepted.extend(self._resolve_cluster(cluster))
                cluster = [candidate]
                reach = candidate[1]
            else:
                cluster.append(candidate)
                reach = max(reach, candidate[1])
        if len(cluster) == 1:
            accepted.append(cluster[0])
        elif cluster:
            accepted.extend(self._resolve_cluster(cluster))
        return accepted

    def _resolve_cluster(self, cluster: list[Match]) -> list[Match]:
        topic = self._topic
        ordered = sorted(cluster, key=lambda c: (c[0] - c[1], not c[3], c[0]))
        base = min(c[0] for c in cluster)
        size = max(c[1] for c in cluster) - base
        entities = bytearray(size)
        topics = bytearray(size)
        taken: set[Span] = set()
        accepted: list[Match] = []
        for match in ordered:
            start, end = match[0] - base, match[1] - base
            # One spelling at one place means one thing, even across kinds.
            if (start, end) in taken or topics.find(1, start, end) >= 0:
                continue
            if topic[match[2]]:
                topics[start:end] = b"\x01" * (end - start)
            else:
                if entities.find(1, start, end) >= 0:
                    continue
                entities[start:end] = b"\x01" * (end - start)
            taken.add((start, end))
            accepted.append(match)
        accepted.sort()
        return accepted


def _after_full_mentions(candidates: list[Match], size: int) -> list[Match]:
    """Drop short forms before their node's first full mention: they name someone else."""
    first_full: dict[int, int] = {}
    for start, _, node, short in candidates:
        if not short and start < first_full.get(node, size):
            first_full[node] = start
    return [c for c in candidates if not c[3] or first_full.get(c[2], c[0]) < c[0]]


def _scan(
    automaton: ahocorasick.Automaton,
    norm: str,
    mapping: tuple[list[int], list[int]] | None,
    text: str,
    out: list[Match],
    low_bound: int = 0,
    high_bound: int | None = None,
) -> None:
    """Append the automaton's matches in ``norm[low_bound:high_bound]`` that pass the boundary
    and case rules; offsets stay those of the whole text."""
    # This loop runs for every match in every article: the word test is inlined (``is_word``),
    # and the offsets are mapped back only when folding changed them.
    size = len(norm)
    append = out.append
    for last, terms in automaton.iter(norm, low_bound, size if high_bound is None else high_bound):
        first = terms[0]
        start = last - first[1] + 1
        end = last + 1
        if first[2] and start:
            char = norm[start - 1]
            if (char.isalnum() or char == "_") and char < _CJK:
                continue
        if mapping:
            low, high = mapping[0][start], mapping[1][last]
        else:
            low, high = start, end
        glued = False
        if first[3] and end < size:
            char = norm[end]
            glued = (char.isalnum() or char == "_") and char < _CJK
        for node, _, _, _, short, plural, exact in terms:
            if exact is not None:
                found = text[low:high]
                # Compare in NFKC form only when the raw text differs ("ＨＫＭＡ").
                if found != exact and normalise(found, fold=False) != exact:
                    continue
            if not glued:
                append((low, high, node, short))
            elif plural and norm[end] == "s" and (end + 1 == size or not is_word(norm[end + 1])):
                append((low, mapping[1][end] if mapping else end + 1, node, short))
            elif text[high - 1].islower() and text[high].isupper():
                append((low, high, node, short))
