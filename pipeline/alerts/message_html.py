"""The HTML form of an alert or digest message (an e-mail's HTML part): the same facts as the
plain text, every string escaped, since titles, snippets and evidence come from the sites."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from pipeline.alerts.message_facts import (
    DigestGroup,
    hk_time,
    language_name,
    story_versions,
)
from pipeline.alerts.message_text import alert_facts, rule_lines
from pipeline.models import Alert, Digest

# Only these become links: a "javascript:" URL from a site must stay text.
LINK_SCHEMES = ("http://", "https://")
PAGE_STYLE = (
    "body{font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222}"
    "th{text-align:left;padding-right:12px;vertical-align:top}"
    ".evidence{color:#555;font-style:italic}"
)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def link(url: str, label: str | None = None) -> str:
    """An escaped link to ``url``; plain escaped text when it is not http(s)."""
    shown = _e(label if label is not None else url)
    if not url.lower().startswith(LINK_SCHEMES):
        return shown
    return f'<a href="{_e(url)}">{shown}</a>'


def page(subject: str, parts: Iterable[str]) -> str:
    """A complete HTML document with ``parts`` as its body."""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{_e(subject)}</title><style>{PAGE_STYLE}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def alert_html(alert: Alert, subject: str) -> str:
    """The HTML body of one alert."""
    parts = [f"<h2>{link(alert.url, alert.title)}</h2>", "<table>"]
    for label, value in alert_facts(alert):
        shown = link(value) if label == "Link" else _e(value)
        parts.append(f"<tr><th>{_e(label)}</th><td>{shown}</td></tr>")
    parts += ["</table>", "<h3>Rules that fired</h3>", "<ul>"]
    for rule, description in rule_lines(alert):
        suffix = f": {_e(description)}" if description else ""
        parts.append(f"<li><code>{_e(rule)}</code>{suffix}</li>")
    parts.append("</ul>")
    if alert.tags:
        parts += ["<h3>Tags</h3>", "<ul>"]
        for tag in alert.tags:
            evidence = (
                f'<br><span class="evidence">“{_e(tag.evidence)}”</span>' if tag.evidence else ""
            )
            parts.append(
                f"<li>{_e(tag.kind)} <b>{_e(tag.name)}</b> (<code>{_e(tag.id)}</code>)"
                f"{evidence}</li>"
            )
        parts.append("</ul>")
    parts += _versions_html(alert)
    if alert.snippet:
        parts += ["<h3>Snippet</h3>", f"<p>{_e(alert.snippet)}</p>"]
    parts.append(f"<p><small>Alert id: <code>{_e(alert.key)}</code></small></p>")
    return page(subject, parts)


def _versions_html(alert: Alert) -> list[str]:
    versions = story_versions(alert)
    parts = [f"<h3>Versions of this story ({len(versions)})</h3>", "<ul>"]
    for member in versions:
        parts.append(
            f"<li>{_e(member.role)}, {_e(language_name(member.language))}, "
            f"{_e(member.source_id)}, {_e(hk_time(member.published_at))}<br>"
            f"{link(member.url, member.title)}<br><small>{link(member.url)}</small></li>"
        )
    parts.append("</ul>")
    return parts


def digest_html(digest: Digest, subject: str, groups: Iterable[DigestGroup]) -> str:
    """The HTML body of a digest: a heading per regulator, a list per topic."""
    parts = [f"<h2>{_e(subject)}</h2>"]
    if digest.rule_description:
        parts.append(f"<p>{_e(digest.rule_description)}</p>")
    parts.append(f"<p>Severity: {_e(digest.severity)}</p>")
    regulator = None
    for group in groups:
        if group.regulator != regulator:
            regulator = group.regulator
            parts.append(f"<h3>{_e(regulator)}</h3>")
        parts += [f"<h4>{_e(group.topic_name)}</h4>", "<ul>"]
        for alert in group.alerts:
            parts.append(
                f"<li>{link(alert.url, alert.title)} ({_e(alert.source_id)}, "
                f"{_e(hk_time(alert.published_at))})<br><small>{link(alert.url)}</small></li>"
            )
        parts.append("</ul>")
    parts.append(f"<p><small>Digest id: <code>{_e(digest.key)}</code></small></p>")
    return page(subject, parts)
