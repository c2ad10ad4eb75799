"""The paragraphs of a chosen body, less what is not the article's: the title heading, lists of
links and the headings that label them ("Related", "Read more"), with the dates and section
names listed under their links, lines printed twice and lines without letters.
"""

from __future__ import annotations

from pipeline.extract.textblocks import HEADING_TAGS, Block

__all__ = ["SENTENCE_END", "filter_blocks"]

# A paragraph this link-heavy is a list of links, not prose…
MAX_LINK_DENSITY = 0.5
# …and so is a short one with any links at all, unless it is a heading or ends a sentence.
SHORT_LINKED_CHARS = 60
# A heading over a list of links, or over nothing, labels furniture ("Read more", "Related
# topics") when it is this short; a longer one is a deck or a section's title.
MAX_LABEL_CHARS = 80
# How a sentence, or a quotation or aside ending one, ends.
SENTENCE_END = (".", "!", "?", "。", "！", "？", '"', "”", "’", ":", "：", ")")
_FULL_STOPS = (".", "!", "?", "。", "！", "？")


def filter_blocks(found: list[Block]) -> list[Block]:
    """Drop the title heading, link lists and their headings, repeated lines and lines without
    letters."""
    kept: list[Block] = []
    heading_at = -1  # position in ``kept`` of a heading nothing has followed yet
    listing = False  # under such a heading over links…
    between: list[Block] = []  # …the short lines after the last link, dropped…
    repeated = False  # …when the links before it had lines of their own (dates, sections)
    for block in found:
        text, tag, linked = block  # read once: a named tuple's fields are properties
        if tag == "h1":
            continue  # the title, read separately
        if kept and text == kept[-1].text:
            continue  # the same label printed twice (a mobile and a desktop copy)
        # Most lines start with a letter: tested first. The rest are looked at by ``map`` in C,
        # a third faster than a generator on the cells of a timetable ("08:00 - 09:30").
        if not (text[:1].isalpha() or any(map(str.isalpha, text))):
            continue  # ids, counters, dates of other stories
        # A list of links, or one short linked line that is no sentence.
        if (linked / len(text) if text else 0.0) > MAX_LINK_DENSITY or (
            linked
            and len(text) < SHORT_LINKED_CHARS
            and tag not in HEADING_TAGS
            and not text.endswith(SENTENCE_END)
        ):
            if heading_at >= 0:
                del kept[heading_at]  # "Read more", "Related": the label of the links
                heading_at, listing = -1, True
            repeated = repeated or bool(between)
            between.clear()  # the date and section of the story linked above
            continue
        label = len(text) < MAX_LABEL_CHARS
        if listing and label and tag not in HEADING_TAGS and not _sentence(text):
            between.append(block)
            continue
        if not repeated:
            kept.extend(between)  # lines under one link only: text after a link, not a list
        listing = repeated = False
        between.clear()
        heading_at = len(kept) if label and tag in HEADING_TAGS else -1
        kept.append(block)
    if not repeated:
        kept.extend(between)
    if heading_at >= 0:
        del kept[heading_at]  # a heading over nothing
    return kept


def _sentence(text: str) -> bool:
    """Whether ``text`` ends a sentence, within quotes or not ('In "Markets"' does not)."""
    return text.rstrip("\"”’'»").endswith(_FULL_STOPS)
