"""The piece of an article's text a search result shows: around the first word searched for."""

from __future__ import annotations

# Characters of text shown around the first match; about two lines of a terminal table.
SNIPPET_CHARS = 200
# How much of the snippet comes before the first match, so the match has some context.
SNIPPET_LEAD = 60


def make_snippet(body: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """A piece of ``body`` around the first of ``words`` it contains (else its opening)."""
    folded = body.casefold()
    found = [p for p in (folded.find(w.casefold()) for w in words) if p >= 0]
    start = max(0, min(found) - SNIPPET_LEAD) if found else 0
    if start:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < start + SNIPPET_LEAD else start
    piece = " ".join(body[start : start + width].split())
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(body) else ""
    return f"{prefix}{piece}{suffix}"
