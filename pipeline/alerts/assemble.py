"""From claimed outbox rows to what is sent: one ``Alert`` per story and channel (every rule
that fired for it), or one ``Digest`` per rule, channel and day. No IO."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.alerts.config import AlertsConfig
from pipeline.dates import local_time
from pipeline.models import Alert, AlertTag, Digest, StoryMember
from pipeline.store.alert_reads import OutboxRow

# Highest first: the severity a message of several rules carries.
SEVERITY_RANK = {"high": 0, "normal": 1, "low": 2}


@dataclass(frozen=True)
class Outgoing:
    """One message to send and the outbox rows it settles."""

    key: str
    channel: str
    content: Alert | Digest
    row_ids: tuple[int, ...]


def assemble(
    rows: Sequence[OutboxRow],
    members: Mapping[int, list[StoryMember]],
    tags: Mapping[int, list[AlertTag]],
    config: AlertsConfig,
) -> list[Outgoing]:
    """The messages ``rows`` make, in the order their first rows were queued."""
    groups: dict[str, list[OutboxRow]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        groups.setdefault(row.key, []).append(row)
    outgoing = []
    for key, group in groups.items():
        ids = tuple(row.id for row in group)
        if group[0].mode == "digest":
            content: Alert | Digest = _digest(group, members, tags, config)
        else:
            content = _alert(group, members, tags, config)
        outgoing.append(Outgoing(key, group[0].channel, content, ids))
    return outgoing


def _descriptions(rules: Sequence[str], config: AlertsConfig) -> tuple[str, ...]:
    known = {rule.id: rule.description for rule in config.rules}
    return tuple(known.get(rule, "") for rule in rules)


def _alert(
    group: Sequence[OutboxRow],
    members: Mapping[int, list[StoryMember]],
    tags: Mapping[int, list[AlertTag]],
    config: AlertsConfig,
) -> Alert:
    """One story's message: the first row's article, every rule of the group."""
    first = group[0]
    rules = tuple(dict.fromkeys(row.rule for row in group))
    severity = min((row.severity for row in group), key=lambda s: SEVERITY_RANK.get(s, 1))
    return Alert(
        id=first.id,
        key=first.key,
        story_id=first.story_id,
        article_id=first.article_id,
        channel=first.channel,
        rules=rules,
        title=first.title,
        source_id=first.source_id,
        url=first.url,
        published_at=first.published_at,
        created_at=first.created_at,
        event="new" if first.event == "new" else "update",
        severity=severity,
        rule_descriptions=_descriptions(rules, config),
        doc_type=first.doc_type,
        language=first.lang,
        regulator=first.regulator,
        snippet=first.snippet,
        status=first.status,
        attempts=first.attempts,
        sent_at=first.sent_at,
        last_error=first.last_error,
        tags=tuple(tags.get(first.article_id, ())),
        members=tuple(members.get(first.story_id, ())),
    )


def _digest(
    group: Sequence[OutboxRow],
    members: Mapping[int, list[StoryMember]],
    tags: Mapping[int, list[AlertTag]],
    config: AlertsConfig,
) -> Digest:
    """A rule's day on a channel: each story once, in the order it was queued."""
    first = group[0]
    by_story: dict[int, OutboxRow] = {}
    for row in group:
        by_story.setdefault(row.story_id, row)
    due = local_time(first.due_at)
    return Digest(
        key=first.key,
        rule=first.rule,
        channel=first.channel,
        day=due.date() if due else first.due_at.date(),
        severity=first.severity,
        rule_description=_descriptions([first.rule], config)[0],
        alerts=tuple(_alert([row], members, tags, config) for row in by_story.values()),
    )
