"""An alert or digest rendered once for every channel: subject, plain text, HTML and a JSON body.

Pure: no IO, no clock. Text and HTML carry the same facts (``message_text`` and
``message_html``, both reading ``message_facts``); every site-provided string is escaped in the
HTML. The JSON body is what webhooks and JSONL lines carry; its field names are stable.

Alert body (``schema`` = ``"newswatch.alert/1"``):

- ``alert_id`` (str): the idempotency key; the same on every attempt, so a receiver drops a repeat
- ``event`` (str): ``"new"``, or ``"update"`` when a stored item changed
- ``severity`` (str): the rule's severity (``"normal"``, ``"high"``…)
- ``rules`` (list of str): the ids of every rule that fired for the story on this channel
- ``story_id``, ``article_id`` (int): the story and the article that raised the alert
- ``title``, ``source``, ``url`` (str): the article's title, source id and link
- ``published_at`` (str or null): ISO 8601 in Hong Kong time (``+08:00``)
- ``doc_type`` (str): ``press_release``, ``circular``…; ``language`` (str or null): ``en``,
  ``zh-hant``…; ``regulator`` (bool): the source is a regulator's own (HKMA, SFC)
- ``snippet`` (str): the article's opening
- ``tags`` (list): ``{"kind": "entity"|"topic", "id", "name", "evidence"}``, evidence being one
  sentence of the article that names the tag
- ``versions`` (list): every article of the story, the lead first: ``{"article_id", "source",
  "title", "url", "language", "published_at", "role"}``, role one of ``lead``, ``translation``,
  ``duplicate``, ``near_duplicate``, ``same_story``
- ``channel`` (str): the channel id; ``schema`` (str): ``"newswatch.alert/1"``

No outbox state (status, attempts) is in it: a line written on delivery must not say "pending".

Digest body (``schema`` = ``"newswatch.digest/1"``): ``digest_id`` (the idempotency key),
``rule``, ``day`` (ISO date, Hong Kong), ``severity``, ``channel``, and ``groups``: a list of
``{"regulator": "HKMA"|"SFC"|"other", "topic": <topic id or "other">, "alerts": [<alert body>]}``,
regulators in that order, topics by name with ``other`` last, each story once per group.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.alerts.message_facts import (
    alert_subject,
    digest_groups,
    digest_subject,
    event_name,
    hk_iso,
    hk_time,
    story_versions,
)
from pipeline.alerts.message_html import alert_html, digest_html
from pipeline.alerts.message_text import alert_text, digest_text
from pipeline.models import Alert, Digest, StoryMember

ALERT_SCHEMA = "newswatch.alert/1"
DIGEST_SCHEMA = "newswatch.digest/1"


@dataclass(frozen=True)
class Message:
    """One message, in every form a channel may send."""

    # The idempotency key (Alert.key or Digest.key): a receiver drops a second copy by it.
    key: str
    # One line: "[HIGH] SFC: <title>"; severity shown when high.
    subject: str
    text: str
    html: str
    # The documented JSON body (module docstring): webhooks, JSONL lines.
    body: dict[str, object]
    # Two lines for a terminal: the subject, then time, rules, versions and link.
    brief: str = ""


def render_alert(alert: Alert) -> Message:
    """The message for one alert: title, source, Hong Kong time, type, severity, rules, event,
    tags with their evidence, every version of the story, snippet."""
    subject = alert_subject(alert)
    return Message(
        key=alert.key,
        subject=subject,
        text=alert_text(alert, subject),
        html=alert_html(alert, subject),
        body=alert_body(alert),
        brief=_alert_brief(alert, subject),
    )


def _alert_brief(alert: Alert, subject: str) -> str:
    versions = story_versions(alert)
    shown = f"{len(versions)} versions" if len(versions) != 1 else "1 version"
    details = [hk_time(alert.published_at), ", ".join(alert.rules), shown, alert.url]
    return f"{subject}\n  " + " · ".join(detail for detail in details if detail)


def render_digest(digest: Digest) -> Message:
    """The message for a digest rule's day: its stories by regulator, then by topic."""
    subject = digest_subject(digest)
    groups = digest_groups(digest)
    body: dict[str, object] = {
        "digest_id": digest.key,
        "schema": DIGEST_SCHEMA,
        "rule": digest.rule,
        "day": digest.day.isoformat(),
        "severity": digest.severity,
        "channel": digest.channel,
        "groups": [
            {
                "regulator": group.regulator,
                "topic": group.topic,
                "alerts": [alert_body(alert) for alert in group.alerts],
            }
            for group in groups
        ],
    }
    return Message(
        key=digest.key,
        subject=subject,
        text=digest_text(digest, subject, groups),
        html=digest_html(digest, subject, groups),
        body=body,
        brief=f"{subject}\n  "
        + " · ".join(f"{g.regulator} / {g.topic}: {len(g.alerts)}" for g in groups),
    )


def alert_body(alert: Alert) -> dict[str, object]:
    """The documented JSON body of one alert (module docstring)."""
    return {
        "alert_id": alert.key,
        "event": event_name(alert.event),
        "severity": alert.severity,
        "rules": list(alert.rules),
        "story_id": alert.story_id,
        "article_id": alert.article_id,
        "title": alert.title,
        "source": alert.source_id,
        "url": alert.url,
        "published_at": hk_iso(alert.published_at),
        "doc_type": alert.doc_type,
        "language": alert.language,
        "regulator": alert.regulator,
        "snippet": alert.snippet,
        "tags": [
            {"kind": tag.kind, "id": tag.id, "name": tag.name, "evidence": tag.evidence}
            for tag in alert.tags
        ],
        "versions": [_version(member) for member in story_versions(alert)],
        "channel": alert.channel,
        "schema": ALERT_SCHEMA,
    }


def _version(member: StoryMember) -> dict[str, object]:
    return {
        "article_id": member.article_id,
        "source": member.source_id,
        "title": member.title,
        "url": member.url,
        "language": member.language,
        "published_at": hk_iso(member.published_at),
        "role": member.role,
    }
