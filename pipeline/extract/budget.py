"""What a page may cost to read: limits checked on the markup before the HTML parser sees it.

The parser (lexbor) and the stages after it are linear in the size of ordinary pages, but not
in every shape of markup: lexbor scans its stack of open elements for each block element, so
deep nesting costs the square of the depth (10,000 nested ``<div>``s 0.1 s, 100,000 30 s), and
unclosed formatting tags (``<b>``, ``<font>``…) are re-created by the parser in every paragraph
that follows, each copy one more element for the stages after it. Nothing checked while lexbor
parses can stop it, so the markup is measured first:

1. the count of ``<``, an upper bound on the number of tags, at memory speed;
2. when there are more tags than ``MAX_DEPTH`` (fewer cannot nest deeper), one scan of the tag
   names estimates the nesting: each opening tag one level deeper, its closing tag one level
   back, void elements (``<br>``) and elements the next sibling closes (``<p>``, ``<li>``,
   ``<td>``…) no level at all. Summed over the tags it also gives the work of nesting, and
   the unclosed formatting tags at each tag how many elements the parser may re-create. The
   scan (``nesting.py``) is numpy's over the page's bytes, with no Python per tag.

The estimates read tags where a browser does not (inside scripts and comments) and take a
closing tag the parser would ignore as closing, so they stay near the real depth of ordinary
pages (tens of levels; the estimate reads at most about 420 on the evaluation sets) and catch
the shapes above, but markup written against the estimate can still cost more.

Formatting tags that differ in their attributes are all re-created (the parser keeps three
alike at most, but any number that differ): 2,000 such tags make a million elements, 1.4 s and
400 MB. So on a page of fewer tags than ``MAX_DEPTH`` but more than ``REOPEN_SCAN_FLOOR``, the
formatting tags are found (one automaton pass over every spelling of them), and when more than
``PLAIN_COPIES`` have attributes their copies are summed; the few real pages with that many
(icons written ``<i class=…>``) pay that sum, the rest do not. The tags between two formatting
tags are counted as the ``<`` between them, a bound that the comments and the ``<`` in scripts
raise a little above the real count.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import NoReturn

import ahocorasick_rs
import numpy as np

from pipeline.errors import PageTooComplex
from pipeline.extract.nesting import nesting_steps, running_depth

# Tags ("<" characters, a bound on them). The costliest shape per tag, a page of tiny
# paragraphs ("<p>x" repeated), takes 0.25 s to extract at 100,000, and 600,000 tiny elements
# 0.7 s; the largest real page of the evaluation sets has about 20,000.
MAX_TAGS = 100_000
# Estimated nesting depth, and the tag count above which a page is scanned. lexbor takes
# 0.04 s for 7,000 nested <div>s and 0.1 s for 10,000 (the square of the depth); the stages
# after it stay linear. The costliest page of fewer tags, never scanned (36 unclosed formatting
# tags before 7,000 paragraphs), takes 0.28 s. Real pages nest tens of elements deep (the
# estimate reads at most about 420 on the evaluation sets); the under 1% with more tags pay a
# scan of a few milliseconds.
MAX_DEPTH = 7_000
# Estimated depth summed over the tags: lexbor's stack scans, and the stages that walk an
# element's subtree for each container around it, cost this much. 6,999 nested <div>s with
# more below them, 25 million in all, take 0.03 s, and 450 million 0.45 s; real pages reach
# about 1 million, and no page under MAX_DEPTH tags can pass 24.5 million.
MAX_NESTING_WORK = 25_000_000
# Unclosed formatting elements summed over the tags that follow them: how many elements the
# parser may re-create, each costing the stages after it about a microsecond (0.25 s at the
# limit). 36 unclosed formatting tags (three of each kind, the most the parser keeps alike)
# before 7,000 paragraphs make about as many; the pages of the evaluation sets reach about 7,200.
MAX_REOPENED = 250_000
# A copy of a formatting element with attributes counts this many: its attributes are copied
# too (1,000 differing <b id=…> before 1,000 paragraphs: 0.36 s, against 0.25 s for as many
# plain copies).
ATTRIBUTED_COPY_WEIGHT = 2
# Below this many tags no page can pass MAX_REOPENED: its weighted copies are at most twice its
# formatting tags times the tags after them, 2 × (700 / 2)² = 245,000.
REOPEN_SCAN_FLOOR = 700
# Formatting tags the parser keeps alike (three of each of twelve kinds): with no more than
# these with attributes, a page of at most MAX_DEPTH tags stays under MAX_REOPENED.
PLAIN_COPIES = 36

# Formatting elements the parser re-creates after a block closes around them (not <a> and
# <nobr>, of which it keeps one).
FORMATTING = frozenset(
    ["b", "big", "code", "em", "font", "i", "s", "small", "strike", "strong", "tt", "u"]
)

# The byte every tag starts with, counted in a numpy array of the page's bytes.
_LESS_THAN = ord("<")


def _formatting_spellings() -> tuple[list[bytes], list[tuple[str, bool, bool]]]:
    """Every spelling of a formatting tag as the tag scan reads one, with its name, whether it
    closes and whether attributes follow: the name in any case after "<" or "<\\" (opening),
    "</" or "<\\/" (closing), then what ends the name: ">", or a space or "/" before
    attributes."""
    spellings: list[bytes] = []
    kinds: list[tuple[str, bool, bool]] = []
    for name in sorted(FORMATTING):
        for cased in product(*((letter, letter.upper()) for letter in name)):
            for start, closing in (("<", False), ("<\\", False), ("</", True), ("<\\/", True)):
                for end in "\t\n\f\r />":
                    spellings.append(f"{start}{''.join(cased)}{end}".encode())
                    kinds.append((name, closing, end != ">"))
    return spellings, kinds


# One automaton pass finds them (6,048 spellings) in 60-90 µs on a page of 170 KB, where a
# regex, which tries every "<" of the page, takes 170-230 µs.
_FORMATTING_SPELLINGS, _FORMATTING_KINDS = _formatting_spellings()
_FORMATTING_TAGS = ahocorasick_rs.BytesAhoCorasick(_FORMATTING_SPELLINGS)


@dataclass(frozen=True, slots=True)
class PageShape:
    """Estimates of what reading a page costs, compared with the limits above."""

    tags: int  # "<" characters
    depth: int  # deepest estimated nesting
    nesting_work: int  # estimated depth summed over the tags
    reopened: int  # unclosed formatting elements summed over the tags that follow them


def check_budget(markup: bytes | str, url: str) -> None:
    """Raise ``PageTooComplex`` naming ``url``, the limit and the measure when ``markup`` is
    past a limit; pages with fewer tags than ``MAX_DEPTH`` pay one ``count`` of ``<``."""
    if len(markup) <= MAX_DEPTH:
        return  # fewer characters than any limit
    tags = _count_tags(markup)
    if tags > MAX_TAGS:
        _refuse(url, f"more than {MAX_TAGS:,} tags ({tags:,})")
    if tags <= MAX_DEPTH:
        # Cannot nest deeper nor sum past the limits below; formatting tags that differ in
        # their attributes are re-created without the parser's cap, so those are counted.
        if tags > REOPEN_SCAN_FLOOR:
            raw = _as_bytes(markup)
            formatting = _formatting_tags(raw)
            if _attributed_openings(formatting) > PLAIN_COPIES:
                _check_reopened(url, _reopened(raw, formatting))
        return
    shape = measure(markup, tags)
    if shape.depth > MAX_DEPTH:
        _refuse(url, f"nesting deeper than {MAX_DEPTH:,} elements (about {shape.depth:,})")
    if shape.nesting_work > MAX_NESTING_WORK:
        _refuse(
            url,
            f"nesting summed over its tags past {MAX_NESTING_WORK:,} levels "
            f"(about {shape.nesting_work:,})",
        )
    _check_reopened(url, shape.reopened)


def _check_reopened(url: str, reopened: int) -> None:
    if reopened > MAX_REOPENED:
        _refuse(
            url,
            f"unclosed formatting tags re-created past {MAX_REOPENED:,} times (about {reopened:,})",
        )


def _as_bytes(markup: bytes | str) -> bytes:
    # Tag names are ASCII: the scans read a page's bytes, whatever its text is.
    return markup if isinstance(markup, bytes) else markup.encode("utf-8", "surrogatepass")


def _formatting_tags(raw: bytes) -> list[tuple[int, int, int]]:
    """The formatting tags in ``raw``, in order: the index of each one's spelling, its start
    and its end."""
    return _FORMATTING_TAGS.find_matches_as_indexes(raw)


def _attributed_openings(formatting: list[tuple[int, int, int]]) -> int:
    return sum(
        _FORMATTING_KINDS[index][2] and not _FORMATTING_KINDS[index][1]
        for index, _, _ in formatting
    )


def _attributed_formatting(markup: bytes | str) -> int:
    """How many formatting tags open with attributes."""
    return _attributed_openings(_formatting_tags(_as_bytes(markup)))


def measure(markup: bytes | str, tags: int | None = None) -> PageShape:
    """The estimates ``check_budget`` compares with the limits, from one scan of the tags
    (``tags``: the count of ``<``, when the caller has it already)."""
    raw = _as_bytes(markup)
    depths = running_depth(nesting_steps(raw))
    return PageShape(
        tags=_count_tags(markup) if tags is None else tags,
        depth=int(depths.max(initial=0)),
        nesting_work=int(depths.sum()),
        reopened=_reopened(raw, _formatting_tags(raw)),
    )


def _count_tags(markup: bytes | str) -> int:
    if isinstance(markup, str):
        return markup.count("<")
    # numpy compares a byte array four times faster than bytes.count scans for one byte, which
    # every page over MAX_DEPTH characters pays (a sixth of the whole check on most pages).
    return int(np.count_nonzero(np.frombuffer(markup, np.uint8) == _LESS_THAN))


def _refuse(url: str, reason: str) -> NoReturn:
    raise PageTooComplex(f"{url}: page refused unread: {reason}")


def _reopened(raw: bytes, formatting: list[tuple[int, int, int]]) -> int:
    """Open formatting elements summed over the other tags: each is a copy the parser may make
    in every block that follows while it stays unclosed. Formatting tags nested in each other
    (<font><b>…) are not counted against themselves: the parser keeps them open, copying none.
    """
    if not formatting:
        return 0
    # The other tags between two formatting tags are the "<" between them, found by their
    # places among all the page's "<".
    tag_starts = np.flatnonzero(np.frombuffer(raw, np.uint8) == _LESS_THAN)
    places = np.searchsorted(tag_starts, [start for _, start, _ in formatting])
    following = np.diff(places, append=len(tag_starts)) - 1
    # Only the formatting tags change the count, a few hundred on real pages: a Python loop
    # over them, each count weighted by the number of other tags it holds for.
    open_tags = _OpenFormatting()
    total = 0
    for (index, _, _), others in zip(formatting, following.tolist(), strict=True):
        open_tags.add(*_FORMATTING_KINDS[index])
        total += open_tags.copies * others
    return total


class _OpenFormatting:
    """Unclosed formatting elements, as many as the parser would copy into a new block."""

    def __init__(self) -> None:
        # Per tag name: whether each open element has attributes (oldest first), and how many
        # open ones have them and how many not.
        self._open: dict[str, tuple[list[bool], list[int]]] = {}
        self.copies = 0

    def add(self, name: str, closing: bool, attributed: bool) -> None:
        """Open or close one formatting element."""
        kinds, counts = self._open.setdefault(name, ([], [0, 0]))
        before = _copies(counts)
        if not closing:
            kinds.append(attributed)
            counts[attributed] += 1
        elif kinds:
            counts[kinds.pop()] -= 1  # the most recent; a closing tag with none open is ignored
        self.copies += _copies(counts) - before


def _copies(counts: list[int]) -> int:
    """Copies the parser makes of one tag name's open elements, weighted by their cost: three
    alike at most (same attributes), while those with attributes may all differ."""
    plain, attributed = counts
    return attributed * ATTRIBUTED_COPY_WEIGHT + min(plain, 3)
