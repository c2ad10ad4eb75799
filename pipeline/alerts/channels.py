"""Alert channels: where a queued alert is delivered."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.markup import escape

from pipeline.alerts.config import AlertChannel
from pipeline.alerts.urls import apprise_with, mask_url
from pipeline.dates import local_time
from pipeline.errors import ConfigError, NewswatchError
from pipeline.models import Alert


class DeliveryError(NewswatchError):
    """A channel could not deliver an alert."""


class Channel(Protocol):
    """Something that delivers one alert or raises ``DeliveryError``."""

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``."""


def alert_record(alert: Alert) -> dict[str, object]:
    """The JSON form of an alert (JSONL lines, webhook bodies, ``alerts list --format json``)."""
    return {
        "id": alert.id,
        "article_id": alert.article_id,
        "rule": alert.rule,
        "channel": alert.channel,
        "source": alert.source_id,
        "title": alert.title,
        "url": alert.url,
        "published_at": _iso(alert.published_at),
        "created_at": _iso(alert.created_at),
        "sent_at": _iso(alert.sent_at),
        "status": alert.status,
        "snippet": alert.snippet,
    }


def _iso(dt: datetime | None) -> str | None:
    local = local_time(dt)
    return local.isoformat() if local else None


def _day(dt: datetime | None) -> str:
    local = local_time(dt)
    return local.date().isoformat() if local else "undated"


def alert_text(alert: Alert) -> str:
    """A one-paragraph plain-text form of an alert."""
    when = _day(alert.published_at)
    return f"[{alert.source_id}] {alert.title} ({when})\n{alert.url}\n{alert.snippet}"


class ConsoleChannel:
    """Prints alerts to a terminal: on stderr, so a command's own output (``--format json``)
    stays readable by programs."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)

    def send(self, alert: Alert) -> None:
        """Print one alert line."""
        when = _day(alert.published_at)
        # Titles and URLs come from the sites: "[Update]" must print, not vanish as markup.
        self.console.print(
            f"[bold red]ALERT[/] [cyan]{escape(alert.source_id)}[/] {when} {escape(alert.title)}"
            f"\n      {escape(alert.url)}",
            highlight=False,
            soft_wrap=True,
        )


class JsonlChannel:
    """Appends alerts, one JSON object a line, to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, alert: Alert) -> None:
        """Append one line and flush it to disk."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(alert_record(alert), ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DeliveryError(f"alert {alert.id}: cannot write {self.path}: {exc}") from exc


class AppriseChannel:
    """Delivers through any Apprise URL (mailto://, json:// webhooks, chat services).

    The URL often holds a password or token, so messages show it masked.
    """

    def __init__(self, url: str, *, name: str = "apprise") -> None:
        self.name = name
        self.shown_url = mask_url(url)
        notifier = apprise_with(url)
        if notifier is None:
            raise ConfigError(
                f"alert channel {name!r}: URL {self.shown_url} is not a URL Apprise can read"
            )
        self._apprise = notifier

    def send(self, alert: Alert) -> None:
        """Notify; Apprise reports failure as False."""
        if not self._apprise.notify(title=f"newswatch: {alert.title}", body=alert_text(alert)):
            raise DeliveryError(
                f"alert {alert.id}: delivery through channel {self.name!r} ({self.shown_url})"
                " failed"
            )


def build_channel(config: AlertChannel, *, console: Console | None = None) -> Channel:
    """The channel object for a configured channel; ``ConfigError`` if it cannot be set up."""
    if config.kind == "console":
        return ConsoleChannel(console)
    if config.kind == "jsonl":
        return JsonlChannel(Path(config.path or "alerts.jsonl"))
    return AppriseChannel(config.url or "", name=config.id)
