"""The story tiers, cheapest first: how one article relates to one earlier article.

1. translation    — the same regulator item in another language (same reference number);
2. duplicate      — the same canonical URL or the same normalised text, or the same regulator
                    item reached by another way;
3. near_duplicate — a syndicated or lightly edited copy: Jaccard similarity of shingles at least
                    ``NEAR_DUPLICATE_JACCARD``;
4. same_story     — another write-up of the same event within ``STORY_WINDOW``: similar titles,
                    bodies and tags, in the same language.

Two releases of one regulator series with different numbers (two same-template announcements,
this week's and last week's figures) are different items: no tier but their numbers joins them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pipeline.stories import minhash
from pipeline.stories.features import Fingerprint
from pipeline.stories.shingles import jaccard
from pipeline.stories.titles import overlap

LinkKind = Literal["translation", "duplicate", "near_duplicate", "same_story"]
# Tiers in order of precedence when an article matches several earlier ones: a copy in its own
# language first, then its translation, a near-copy, another write-up.
TIERS: tuple[LinkKind, ...] = ("duplicate", "translation", "near_duplicate", "same_story")

# The definition of a near-duplicate: syndicated and lightly edited copies score above.
NEAR_DUPLICATE_JACCARD = 0.8
# A pair whose signatures agree in under half their positions is not worth an exact check: at a
# true Jaccard of 0.8, 64 positions agree less than half the time with odds under one in 10⁶.
NEAR_PREFILTER = 0.5
# One event is written up within a week; later pieces are follow-ups, with stories of their own.
STORY_WINDOW = timedelta(days=7)
# Weights of the same-story score, and the score a pair must reach. Titles carry the event
# ("dealer and custodian bill"); bodies confirm it; tags are broad in this field (every article
# names the HKMA), so they weigh least. Tuned on the fixtures with bench/dedupe.py.
TITLE_WEIGHT = 0.5
BODY_WEIGHT = 0.35
TAG_WEIGHT = 0.15
SAME_STORY_MIN = 0.32
# Two regulator documents (a press release and the circular it announces, two regulators' joint
# statement) share a story only when they clearly name one event: a higher bar.
REGULATOR_PAIR_MIN = 0.4
# Below this title overlap a pair is not one event, however alike the bodies' vocabulary.
MIN_TITLE_OVERLAP = 0.15
# Below this body similarity two pieces share a name ("FinTech Week 2025") more than an event:
# a keynote and the week's opening, two explainers of one regime (bench/dedupe.py).
MIN_BODY_SIMILARITY = 0.15


@dataclass(frozen=True)
class Link:
    """Why an article joins an earlier one: the tier and its score (1.0 for exact tiers)."""

    kind: LinkKind
    of: str
    score: float

    def rank(self) -> tuple[int, float]:
        """Higher is better: an earlier tier first, then a higher score."""
        return (-TIERS.index(self.kind), self.score)


def compare(new: Fingerprint, old: Fingerprint) -> Link | None:
    """The strongest link from ``new`` to ``old``, or None when they are not one story."""
    if new.ref is not None and old.ref is not None and new.ref.key == old.ref.key:
        if new.ref.lang and old.ref.lang:
            same_lang = new.ref.lang == old.ref.lang
        else:
            same_lang = new.lang == old.lang
        return Link("duplicate" if same_lang else "translation", old.key, 1.0)
    if different_releases(new, old):
        return None
    if new.canonical and new.canonical == old.canonical:
        return Link("duplicate", old.key, 1.0)
    if new.content_hash and new.content_hash == old.content_hash:
        return Link("duplicate", old.key, 1.0)
    near = near_duplicate_score(new, old)
    if near is not None:
        return Link("near_duplicate", old.key, near)
    story = same_story_score(new, old)
    if story is not None:
        return Link("same_story", old.key, story)
    return None


def different_releases(new: Fingerprint, old: Fingerprint) -> bool:
    """Whether both are releases of one regulator series under different numbers."""
    if new.ref is None or old.ref is None:
        return False
    same_series = (new.ref.regulator, new.ref.series) == (old.ref.regulator, old.ref.series)
    return same_series and new.ref.number != old.ref.number


def near_duplicate_score(new: Fingerprint, old: Fingerprint) -> float | None:
    """The shingle Jaccard of a near-duplicate pair, or None below the threshold."""
    if new.near is None or old.near is None:
        return None
    estimate = minhash.estimate(new.near, old.near)
    if estimate < NEAR_PREFILTER:
        return None
    if new.shingles is not None and old.shingles is not None:
        score = jaccard(new.shingles, old.shingles)
    else:
        score = estimate
    return round(score, 3) if score >= NEAR_DUPLICATE_JACCARD else None


def same_story_score(new: Fingerprint, old: Fingerprint) -> float | None:
    """The same-story score of a pair in one language and window, or None below the bar."""
    if new.lang != old.lang or not within_window(new, old):
        return None
    title = overlap(new.title_terms, old.title_terms)
    if title < MIN_TITLE_OVERLAP:
        return None
    body = minhash.estimate(new.words, old.words)
    if body < MIN_BODY_SIMILARITY:
        return None
    tags = overlap(new.tags, old.tags)
    score = TITLE_WEIGHT * title + BODY_WEIGHT * body + TAG_WEIGHT * tags
    both_regulator = new.ref is not None and old.ref is not None
    bar = REGULATOR_PAIR_MIN if both_regulator else SAME_STORY_MIN
    return round(score, 3) if score >= bar else None


def within_window(new: Fingerprint, old: Fingerprint) -> bool:
    """Whether two articles appeared within ``STORY_WINDOW`` (or either is undated)."""
    if new.at is None or old.at is None:
        return True
    return abs(new.at - old.at) <= STORY_WINDOW
