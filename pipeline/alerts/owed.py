"""Which outbox rows a batch owes: the rules each placed article fires, per story and channel.

An alert is about a story. An article that starts a story raises a row for every rule it
matches on each of the rule's channels; one that joins a story (a translation, another outlet,
a copy) raises nothing on a channel where the story was alerted already, so the Chinese version
of an HKMA release or the SFC's copy of a joint statement adds no second message. A changed
item raises a row only for rules with ``updates = true``. Rows of one story, channel and event
share a key and go out as one message; a digest rule's rows share the key of its day.

No IO: the store says which stories were alerted, and writes what this returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pipeline.alerts.config import AlertRule
from pipeline.alerts.config_rules import DEFAULT_DIGEST_AT
from pipeline.alerts.rules import MatchSubject, matching_rules
from pipeline.dates import HONG_KONG
from pipeline.models import OwedAlert


@dataclass(frozen=True)
class Placed:
    """An article just stored in its story (or just updated), as the rules see it."""

    article_id: int
    story_id: int
    subject: MatchSubject
    published_at: datetime | None
    # Joined a story that held an article before it.
    joined: bool
    # "new", or "update:<content hash>" for a changed stored item.
    event: str = "new"


def alert_key(story_id: int, channel: str, event: str) -> str:
    """The idempotency key of a story's immediate alert on a channel (one message)."""
    return _key(f"{story_id}|{channel}|{event}")


def digest_key(rule: str, channel: str, day: date) -> str:
    """The idempotency key of a rule's digest for one Hong Kong day on a channel."""
    return _key(f"digest|{rule}|{channel}|{day.isoformat()}")


def _key(text: str) -> str:
    # The same form as migration 0006 gives the rows it carries over.
    return "nw-" + hashlib.sha1(text.encode()).hexdigest()[:20]


def digest_due(after: datetime, at: time | None) -> datetime:
    """The first Hong Kong ``at`` strictly after ``after`` (aware, in Hong Kong time)."""
    local = after.astimezone(HONG_KONG)
    due = datetime.combine(local.date(), at or DEFAULT_DIGEST_AT, tzinfo=HONG_KONG)
    return due if due > local else due + timedelta(days=1)


def owed_alerts(
    placed: Sequence[Placed],
    rules: Sequence[AlertRule],
    *,
    alerted: set[tuple[int, str]],
    now: datetime,
    baseline_before: datetime | None = None,
) -> list[OwedAlert]:
    """The rows ``placed`` owes, in order; ``alerted`` (story, channel) pairs are taken as
    alerted already and grow with the rows returned."""
    owed: list[OwedAlert] = []
    for item in placed:
        fired = matching_rules(rules, item.subject)
        if item.event != "new":
            fired = [rule for rule in fired if rule.updates]
        baselined = (
            item.event == "new"
            and baseline_before is not None
            and item.published_at is not None
            and item.published_at < baseline_before
        )
        opened: set[tuple[int, str]] = set()
        for rule in fired:
            for channel in rule.channels:
                row = _row(item, rule, channel, now, baselined, alerted)
                if row is not None:
                    owed.append(row)
                    if row.mode == "immediate" and row.event == "new":
                        opened.add((item.story_id, channel))
        # Added after the article's rules: two rules it fires on one channel are one message.
        alerted |= opened
    return owed


def _row(
    item: Placed,
    rule: AlertRule,
    channel: str,
    now: datetime,
    baselined: bool,
    alerted: set[tuple[int, str]],
) -> OwedAlert | None:
    if rule.mode == "digest":
        due = digest_due(now, rule.digest_at)
        key = digest_key(rule.id, channel, due.date())
    elif item.event == "new" and item.joined and (item.story_id, channel) in alerted:
        return None
    else:
        due, key = now, alert_key(item.story_id, channel, item.event)
    return OwedAlert(
        rule=rule.id,
        story_id=item.story_id,
        article_id=item.article_id,
        channel=channel,
        key=key,
        due_at=due,
        event=item.event,
        mode=rule.mode,
        severity=rule.severity,
        baselined=baselined,
    )
