"""Alert channels: where a queued alert is delivered."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Protocol

from rich.console import Console

from pipeline.config import AlertChannel
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
    """Prints alerts to a terminal."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def send(self, alert: Alert) -> None:
        """Print one alert line."""
        when = _day(alert.published_at)
        self.console.print(
            f"[bold red]ALERT[/] [cyan]{alert.source_id}[/] {when} {alert.title}"
            f"\n      {alert.url}",
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
    """Delivers through any Apprise URL (mailto://, json:// webhooks, chat services)."""

    def __init__(self, url: str) -> None:
        import apprise  # imported here: only deployments with such a channel pay for it

        self.url = url
        self._apprise = apprise.Apprise()
        if not self._apprise.add(url):
            raise ConfigError(f"alert channel URL {url!r} is not a URL Apprise understands")

    def send(self, alert: Alert) -> None:
        """Notify; Apprise reports failure as False."""
        if not self._apprise.notify(title=f"newswatch: {alert.title}", body=alert_text(alert)):
            raise DeliveryError(f"alert {alert.id}: delivery to {self.url} failed")


def build_channel(config: AlertChannel, *, console: Console | None = None) -> Channel:
    """The channel object for a configured channel."""
    if config.kind == "console":
        return ConsoleChannel(console)
    if config.kind == "jsonl":
        return JsonlChannel(Path(config.path or "alerts.jsonl"))
    return AppriseChannel(config.url or "")
