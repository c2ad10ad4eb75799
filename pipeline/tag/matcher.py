"""Find a taxonomy's terms in text: one Aho-Corasick automaton, word boundaries, case, context
rules, short forms and overlaps. The result is, per node, the spans of its accepted matches,
and the text's sentences."""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from operator import itemgetter

import ahocorasick_rs

from pipeline.tag.text import (
    CJK_START,
    SENTENCE_END_KEYS,
    Folded,
    Match,
    Sentences,
    Span,
    is_word,
)
from pipeline.tag.text import sentence_ends as read_sentence_ends
from pipeline.taxonomy import Node, normalise, term_variants

_CJK = chr(CJK_START)
_ASCII_WORD = frozenset(string.ascii_letters + string.digits + "_")
_START = itemgetter(0)
# A double space means a snippet needs its whitespace collapsed (see ``Sentences``).
_DOUBLE_SPACE = "  "
# Closes the last cluster of ``Matcher._resolve``: it starts after any match ends.
_SENTINEL: Match = (1 << 62, 1 << 62, -1, False)
# What the scan knows of a spelling, as plain tuples because it reads them for every match:
# (the node, when the spelling is one node's full term with no case or rule to check, else -1;
# needs a left boundary; needs a right boundary; terms), each term being (node index, is a
# short form, may take a plural "s", the NFKC form a case-sensitive term must show, rule). One
# spelling can be a term of one node and a short form of others ("AI"). A sentence end is
# stored as the number of its characters after the end (see ``SENTENCE_END_KEYS``).
TermInfo = tuple[int, bool, bool, str | None, int]
# The rule: what the scan does with a match besides keeping it. A short form counts only after
# a full term of its node ended earlier in the text (else it names someone else): the scan
# remembers which nodes it met in full. The matches of a node with a context rule, short forms
# included, wait for the sentences to be known.
PLAIN, NAMES, SHORT, CONTEXT = 0, 1, 2, 3
KeyInfo = tuple[int, bool, bool, tuple[TermInfo, ...]]


class Matcher:
    """The automaton of one taxonomy and the rules that accept or reject what it finds."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        """Build the automaton; matches name nodes by their position in ``nodes``."""
        self._topic = [node.kind == "topic" for node in nodes]
        self._context = [node.requires_context for node in nodes]
        # Normalised term → node index, for names a source attaches to an article.
        self.lookup: dict[str, int] = {}
        self._keys: dict[str, KeyInfo] = {}
        for position, node in enumerate(nodes):
            self._add_node(position, node)
        # Terms, sentence ends and double spaces share one automaton, so an article is walked
        # once. A match names its pattern by number: a double space first, then the sentence
        # ends, then the terms, so one comparison tells a term from the rest.
        self.patterns = [_DOUBLE_SPACE, *SENTENCE_END_KEYS, *self._keys]
        self._values: list[int | KeyInfo] = [0, *SENTENCE_END_KEYS.values(), *self._keys.values()]
        self._first_term = 1 + len(SENTENCE_END_KEYS)
        # The DFA: every state has a full transition table, the fastest walk (bench/automata.py).
        self._automaton = ahocorasick_rs.AhoCorasick(
            self.patterns,
            matchkind=ahocorasick_rs.MatchKind.Standard,
            implementation=ahocorasick_rs.Implementation.DFA,
        )

    def _add_node(self, position: int, node: Node) -> None:
        exact_terms = set(node.case_sensitive)
        topic = node.kind == "topic"
        for term in node.terms:
            rule = CONTEXT if node.requires_context else NAMES if node.short_forms else PLAIN
            self._add_term(
                position, term, rule, exact=term in exact_terms, short=False, plural=topic
            )
        # Surnames and other short forms are capitalised words: matched with their case.
        for term in node.short_forms:
            rule = CONTEXT if node.requires_context else SHORT
            self._add_term(position, term, rule, exact=True, short=True, plural=False)

    def _add_term(
        self, position: int, term: str, rule: int, *, exact: bool, short: bool, plural: bool
    ) -> None:
        keys = self._keys
        for variant in term_variants(term):
            key = normalise(variant)
            if not short:
                self.lookup.setdefault(key, position)
            info: TermInfo = (
                position,
                short,
                plural,
                normalise(variant, fold=False) if exact else None,
                rule,
            )
            known = keys.get(key)
            terms = (*known[3], info) if known else (info,)
            only = position if len(terms) == 1 and not exact and rule == PLAIN else -1
            keys[key] = (only, is_word(key[0]), is_word(key[-1]), terms)

    def find(self, text: str) -> tuple[dict[int, list[Match]], Sentences]:
        """Accepted matches per node index, in text order, and the text's sentences."""
        folded = Folded(text)
        candidates: list[Match] = []
        special: list[Match] = []
        ends: list[int] = []
        spaced = False
        if text:
            matches = self._automaton.find_matches_as_indexes(folded.folded, overlapping=True)
            spaced = _scan(
                matches, self._values, self._first_term, folded, text, candidates, special, ends
            )
        if not folded.same_ends:
            ends = read_sentence_ends(text)
        sentences = Sentences(text, ends, plain=folded.printable and not spaced)
        if special:
            # The folded text is already normalised wherever its offsets are the text's.
            source = text if folded.mapping is not None else folded.folded
            candidates.extend(self._second_look(special, source, sentences))
        if not candidates:
            return {}, sentences
        return self._resolve(candidates), sentences

    def _second_look(self, special: list[Match], source: str, sentences: Sentences) -> list[Match]:
        """Keep the matches that meet their node's context rule, and the short forms that
        come after a full mention of their node (else they name someone else)."""
        context = self._context
        kept: list[Match] = []
        first_full: dict[int, int] = {}
        for match in special:
            words = context[match[2]]
            if words:
                low, high = sentences.bounds(match[0], match[1])
                sentence = normalise(source[low:high])
                if not any(word in sentence for word in words):
                    continue
            kept.append(match)
            if not match[3] and match[0] < first_full.get(match[2], len(source)):
                first_full[match[2]] = match[0]
        return [m for m in kept if not m[3] or first_full.get(m[2], m[0]) < m[0]]

    def _resolve(self, candidates: list[Match]) -> dict[int, list[Match]]:
        """The accepted matches per node, in text order: longest match first; an entity yields
        to any overlap, a topic only to topics.

        On a tie a short form wins: its node was named in full earlier, so the article has
        defined the abbreviation ("authorized institutions (AIs)").
        """
        # By start alone: comparing whole tuples costs more, and the clusters sort their own.
        candidates.sort(key=_START)
        candidates.append(_SENTINEL)
        hits: dict[int, list[Match]] = {}
        get = hits.get
        # Most matches overlap nothing: only the clusters that do need the full rule.
        alone: Match | None = None  # the current cluster's match, while it has one
        cluster: list[Match] = []
        reach = -1
        for candidate in candidates:
            if candidate[0] < reach:
                if alone is not None:
                    cluster = [alone]
                    alone = None
                cluster.append(candidate)
                if candidate[1] > reach:
                    reach = candidate[1]
                continue
            if alone is not None:
                found = get(alone[2])
                if found is not None:
                    found.append(alone)
                # The full mention may have lost to a longer name: then the short form goes.
                elif not alone[3]:
                    hits[alone[2]] = [alone]
            elif cluster:
                for match in self._resolve_cluster(cluster):
                    found = get(match[2])
                    if found is not None:
                        found.append(match)
                    elif not match[3]:
                        hits[match[2]] = [match]
                cluster = []
            alone = candidate
            reach = candidate[1]
        return hits

    def _resolve_cluster(self, cluster: list[Match]) -> list[Match]:
        topic = self._topic
        if len(cluster) == 2:
            # Most clusters are a name and a term inside it: the rule below, spelled out.
            first, second = cluster
            if (first[0] - first[1], not first[3], first[0]) <= (
                second[0] - second[1],
                not second[3],
                second[0],
            ):
                winner, loser = first, second
            else:
                winner, loser = second, first
            if topic[winner[2]] or not topic[loser[2]] or winner[:2] == loser[:2]:
                return [winner]
            return cluster
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


def _scan(
    matches: list[tuple[int, int, int]],
    values: list[int | KeyInfo],
    first_term: int,
    folded: Folded,
    text: str,
    out: list[Match],
    special: list[Match],
    ends: list[int],
) -> bool:
    """Append the automaton's matches (pattern, start, end) in the folded text that pass the
    boundary and case rules to ``out`` (or ``special``, for the nodes that need a second look),
    with offsets in ``text``, and the sentence ends among them to ``ends``. True when the
    folded text holds a double space."""
    # This loop runs for every match and sentence end of every article: the word test is
    # inlined (``is_word``, with a set for the ASCII characters most neighbours are), and
    # offsets are mapped back only when folding changed them.
    norm, mapping = folded.folded, folded.mapping
    size = len(norm)
    end_at, keep, keep_aside = ends.append, out.append, special.append
    named: set[int] = set()
    word, cjk = _ASCII_WORD, _CJK
    spaced = False
    for index, start, end in matches:
        if index < first_term:
            if index:
                end_at(end - values[index])  # type: ignore[operator]
            else:
                spaced = True
            continue
        only, left, right, terms = values[index]  # type: ignore[misc]
        if left and start:
            char = norm[start - 1]
            if char in word or ("\x7f" < char < cjk and char.isalnum()):
                continue
        if mapping:
            low, high = mapping[0][start], mapping[1][end - 1]
        else:
            low, high = start, end
        glued: tuple[int, bool] | None = None
        if right and end < size:
            char = norm[end]
            if char in word or ("\x7f" < char < cjk and char.isalnum()):
                # Only a plural "s" or a ticker glued on ("BitcoinBTC") can keep the match.
                if char != "s" and not text[high].isupper():
                    continue
                glued = _glued_ends(norm, mapping, text, high, end)
        if only >= 0 and glued is None:
            keep((low, high, only, False))
            continue
        for node, short, plural, exact, rule in terms:
            if rule == SHORT and node not in named:
                continue
            if exact is not None:
                found = text[low:high]
                # Compare in NFKC form only when the raw text differs ("ＨＫＭＡ").
                if found != exact and normalise(found, fold=False) != exact:
                    continue
            stop = high
            if glued is not None:
                if plural and glued[0] >= 0:
                    stop = glued[0]
                elif not glued[1]:
                    continue
            if not rule:
                keep((low, stop, node, short))
            else:
                _keep_by_rule((low, stop, node, short), rule, named, keep, keep_aside)

    return spaced


def _keep_by_rule(
    match: Match,
    rule: int,
    named: set[int],
    keep: Callable[[Match], None],
    keep_aside: Callable[[Match], None],
) -> None:
    """Keep a match of a node whose terms have a rule (see ``PLAIN``)."""
    if rule == CONTEXT:
        keep_aside(match)
        return
    if rule == NAMES:
        named.add(match[2])
    keep(match)


def _glued_ends(
    norm: str,
    mapping: tuple[list[int], list[int]] | None,
    text: str,
    high: int,
    end: int,
) -> tuple[int, bool]:
    """How a match that a word character follows may still count: where it ends with a topic's
    plural "s" (-1 when the "s" begins a longer word), and whether a capital follows its
    lower-case end (scraped text glues ticker links to names: "BitcoinBTC"). ``high`` is where
    the match ends in the text, ``end`` where it ends in ``norm``."""
    plural = norm[end] == "s" and (end + 1 == len(norm) or not is_word(norm[end + 1]))
    plural_high = (mapping[1][end] if mapping else end + 1) if plural else -1
    return plural_high, text[high - 1].islower() and text[high].isupper()
