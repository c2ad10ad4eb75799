"""What every form of an alert message says the same way: Hong Kong times, the regulator an alert
concerns, its topics, the subject line, and a digest's groups. Pure functions, no IO; the text,
HTML and JSON renderers all read their facts from here so the three cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.dates import local_time
from pipeline.models import Alert, Digest, StoryMember

# Regulators a digest groups by, in the order a desk reads them: (label, entity id and source
# id prefix). The ids are those of taxonomy.toml's nodes and sources.toml's sources.
REGULATORS: tuple[tuple[str, str], ...] = (("HKMA", "hkma"), ("SFC", "sfc"))
# The group of an alert that concerns no regulator above, or has no topic tag.
OTHER = "other"
# Severities the subject line flags; "normal" and "low" would only be noise in an inbox.
FLAGGED_SEVERITIES = frozenset({"high", "critical", "urgent"})
# A subject line past this many characters is cut: mail clients and chat previews show less.
MAX_SUBJECT_CHARS = 200
LANGUAGE_NAMES = {
    "en": "English",
    "zh-hant": "Traditional Chinese",
    "zh-hans": "Simplified Chinese",
    "zh": "Chinese",
}
UNDATED = "undated"


@dataclass(frozen=True)
class DigestGroup:
    """The alerts of a digest under one regulator and one topic, each story once."""

    regulator: str
    topic: str
    topic_name: str
    alerts: tuple[Alert, ...]


def hk_time(moment: datetime | None) -> str:
    """``moment`` as a Hong Kong wall-clock time a reader recognises ("2025-11-19 16:30 HKT")."""
    local = local_time(moment)
    return local.strftime("%Y-%m-%d %H:%M HKT") if local else UNDATED


def hk_iso(moment: datetime | None) -> str | None:
    """``moment`` in ISO 8601 with the Hong Kong offset, None when unknown."""
    local = local_time(moment)
    return local.isoformat() if local else None


def event_name(event: str) -> str:
    """``new`` or ``update`` (the outbox may keep an update's content hash after a colon)."""
    return "update" if event.startswith("update") else event


def language_name(code: str | None) -> str:
    """A language code with its name: ``English (en)``; ``unknown`` without one."""
    if not code:
        return "unknown"
    name = LANGUAGE_NAMES.get(code.lower())
    return f"{name} ({code})" if name else code


def doc_type_name(doc_type: str) -> str:
    """A document type as words: ``press_release`` → ``press release``."""
    return doc_type.replace("_", " ") if doc_type else "unknown"


def one_line(text: str) -> str:
    """``text`` on one line: a title with a line break would split a subject header."""
    return " ".join(text.split())


def story_versions(alert: Alert) -> tuple[StoryMember, ...]:
    """Every article of the alert's story; the alert's own article alone when none was read."""
    if alert.members:
        return alert.members
    return (
        StoryMember(
            article_id=alert.article_id,
            source_id=alert.source_id,
            title=alert.title,
            url=alert.url,
            language=alert.language,
            published_at=alert.published_at,
            role="lead",
        ),
    )


def regulators(alert: Alert) -> tuple[str, ...]:
    """The regulators ``alert`` concerns: from its source (``hkma-…``, ``sfc-…``) or its tags."""
    tag_ids = {tag.id.casefold() for tag in alert.tags if tag.kind == "entity"}
    source = alert.source_id.casefold()
    return tuple(
        label for label, ident in REGULATORS if ident in tag_ids or source.startswith(ident)
    )


def topics(alert: Alert) -> tuple[tuple[str, str], ...]:
    """The alert's topic tags as (id, name), strongest first; ``other`` when it has none."""
    found = tuple((tag.id, tag.name or tag.id) for tag in alert.tags if tag.kind == "topic")
    return found or ((OTHER, OTHER),)


def origin(alert: Alert) -> str:
    """Who published the item, as a subject shows it: the regulator for its own sources, else
    the source id (a newspaper writing about the SFC is not the SFC)."""
    if alert.regulator:
        source = alert.source_id.casefold()
        for label, ident in REGULATORS:
            if source.startswith(ident):
                return label
    return alert.source_id


def alert_subject(alert: Alert) -> str:
    """One line: ``[HIGH] SFC: <title>``; an update says so after the origin."""
    parts: list[str] = []
    if alert.severity.casefold() in FLAGGED_SEVERITIES:
        parts.append(f"[{alert.severity.upper()}]")
    label = origin(alert)
    if event_name(alert.event) == "update":
        label += " update"
    parts.append(f"{label}: {one_line(alert.title)}")
    return _cut(" ".join(parts))


def digest_subject(digest: Digest) -> str:
    """One line: ``newswatch digest: <rule> — <day> (<n> stories)``."""
    count = len({alert.story_id for alert in digest.alerts})
    stories = "story" if count == 1 else "stories"
    return _cut(f"newswatch digest: {digest.rule} — {digest.day.isoformat()} ({count} {stories})")


def _cut(subject: str) -> str:
    if len(subject) <= MAX_SUBJECT_CHARS:
        return subject
    return subject[: MAX_SUBJECT_CHARS - 1].rstrip() + "…"


def digest_groups(digest: Digest) -> tuple[DigestGroup, ...]:
    """The digest's alerts by regulator (HKMA, SFC, other) then topic (by name, ``other``
    last); a story under several topics is listed in each, once."""
    grouped: dict[tuple[str, str], list[Alert]] = {}
    names: dict[str, str] = {}
    for alert in _by_time(digest.alerts):
        for regulator in regulators(alert) or (OTHER,):
            for topic_id, topic_name in topics(alert):
                names.setdefault(topic_id, topic_name)
                members = grouped.setdefault((regulator, topic_id), [])
                if all(seen.story_id != alert.story_id for seen in members):
                    members.append(alert)
    order = [label for label, _ in REGULATORS] + [OTHER]

    def place(key: tuple[str, str]) -> tuple[int, bool, str]:
        regulator, topic_id = key
        return (order.index(regulator), topic_id == OTHER, names[topic_id].casefold())

    return tuple(
        DigestGroup(regulator, topic_id, names[topic_id], tuple(grouped[(regulator, topic_id)]))
        for regulator, topic_id in sorted(grouped, key=place)
    )


def _by_time(alerts: Iterable[Alert]) -> list[Alert]:
    """Newest publication first; undated items last, in the order given."""
    dated = [a for a in alerts if a.published_at is not None]
    undated = [a for a in alerts if a.published_at is None]
    dated.sort(key=lambda a: local_time(a.published_at) or a.created_at, reverse=True)
    return dated + undated
