"""Distinct article text for tests: each seed gives its own sentences, so two test articles are
never near-duplicates (or one story) of each other unless a test means them to be."""

from __future__ import annotations

import random

_SUBJECTS = (
    "The regulator", "A licensed bank", "The exchange operator", "A payments firm",
    "The securities watchdog", "An insurance group", "The monetary authority", "A custodian",
    "The trade body", "A virtual asset platform", "The finance bureau", "A card scheme",
)
_VERBS = (
    "published", "reviewed", "extended", "tightened", "consulted on", "approved", "suspended",
    "clarified", "launched", "expanded", "withdrew", "audited", "proposed", "completed",
)
_OBJECTS = (
    "its guidance on custody of client assets", "a pilot for tokenised deposits",
    "rules for cross-border wealth products", "the licensing timetable for dealers",
    "a report on cyber resilience", "limits on leveraged trading", "its fee schedule",
    "a sandbox for artificial intelligence tools", "reporting templates for stablecoins",
    "the review of anti-money laundering controls", "a framework for green bonds",
    "settlement arrangements for retail payments", "capital rules for small brokers",
)
_TAILS = (
    "after months of industry feedback", "ahead of the new financial year",
    "following a spate of complaints", "in line with international standards",
    "to reduce compliance costs", "as demand from investors grew", "under a revised mandate",
    "with effect from the first quarter", "despite objections from smaller firms",
)


def sentences(seed: str, count: int = 12) -> list[str]:
    """``count`` sentences that are the same for one seed and unlike those of any other."""
    chooser = random.Random(seed)
    result = []
    for number in range(count):
        figure = chooser.randint(2, 980)
        result.append(
            f"{chooser.choice(_SUBJECTS)} {chooser.choice(_VERBS)} {chooser.choice(_OBJECTS)}"
            f" {chooser.choice(_TAILS)}, citing {figure} cases in review {seed} part {number}."
        )
    return result


def paragraphs(seed: str, count: int = 3) -> list[str]:
    """``count`` paragraphs of distinct prose for one seed."""
    lines = sentences(seed, count * 4)
    return [" ".join(lines[start : start + 4]) for start in range(0, len(lines), 4)]
