"""The plain-text form of an alert or digest message: what an e-mail's text part, the console and
chat services show. The same facts as the HTML form (``message_html``), in the same order."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import zip_longest

from pipeline.alerts.message_facts import (
    DigestGroup,
    doc_type_name,
    event_name,
    hk_time,
    language_name,
    one_line,
    story_versions,
)
from pipeline.models import Alert, Digest

EVENT_WORDS = {"new": "new item", "update": "update to an item alerted before"}


def alert_facts(alert: Alert) -> list[tuple[str, str]]:
    """The labelled facts of an alert, shared by the text and HTML forms."""
    event = event_name(alert.event)
    return [
        ("Source", alert.source_id),
        ("Published", hk_time(alert.published_at)),
        ("Type", doc_type_name(alert.doc_type)),
        ("Severity", alert.severity),
        ("Event", EVENT_WORDS.get(event, event)),
        ("Language", language_name(alert.language)),
        ("Link", alert.url),
    ]


def rule_lines(alert: Alert) -> list[tuple[str, str]]:
    """Each rule that fired with its description ("" when it has none)."""
    return [
        (rule, description or "")
        for rule, description in zip_longest(alert.rules, alert.rule_descriptions)
        if rule is not None
    ]


def alert_text(alert: Alert, subject: str) -> str:
    """The plain-text body of one alert."""
    lines = [subject, "", one_line(alert.title)]
    width = max(len(label) for label, _ in alert_facts(alert)) + 2
    lines += [f"{label + ':':<{width}}{value}" for label, value in alert_facts(alert)]
    lines += ["", "Rules that fired:"]
    lines += [
        f"  - {rule}: {description}" if description else f"  - {rule}"
        for rule, description in rule_lines(alert)
    ]
    if alert.tags:
        lines += ["", "Tags:"]
        for tag in alert.tags:
            lines.append(f"  - {tag.kind} {tag.name} ({tag.id})")
            if tag.evidence:
                lines.append(f"      “{one_line(tag.evidence)}”")
    versions = story_versions(alert)
    lines += ["", f"Versions of this story ({len(versions)}):"]
    for member in versions:
        lines.append(
            f"  - {member.role}, {language_name(member.language)}, {member.source_id}, "
            f"{hk_time(member.published_at)}"
        )
        lines += [f"    {one_line(member.title)}", f"    {member.url}"]
    if alert.snippet:
        lines += ["", "Snippet:", f"  {one_line(alert.snippet)}"]
    lines += ["", f"Alert id: {alert.key}"]
    return "\n".join(lines) + "\n"


def digest_text(digest: Digest, subject: str, groups: Iterable[DigestGroup]) -> str:
    """The plain-text body of a digest: regulator, then topic, then each story."""
    lines = [subject]
    if digest.rule_description:
        lines.append(one_line(digest.rule_description))
    lines.append(f"Severity: {digest.severity}")
    regulator = None
    for group in groups:
        if group.regulator != regulator:
            regulator = group.regulator
            lines += ["", regulator]
        lines.append(f"  {group.topic_name}")
        for alert in group.alerts:
            lines.append(
                f"    - {one_line(alert.title)} ({alert.source_id}, {hk_time(alert.published_at)})"
            )
            lines.append(f"      {alert.url}")
    lines += ["", f"Digest id: {digest.key}"]
    return "\n".join(lines) + "\n"
