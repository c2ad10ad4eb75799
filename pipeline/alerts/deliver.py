"""Deliver the outbox: every pending alert through its channel, marked sent or failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.channels import Channel, DeliveryError, build_channel
from pipeline.alerts.config import AlertChannel, AlertsConfig
from pipeline.errors import ConfigError
from pipeline.store import repo


@dataclass
class DeliveryReport:
    """How many alerts went out, failed, or wait for a channel that is switched off."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


class _Channels:
    """Channels built on first use; one that cannot be built is remembered with its reason, so
    each of its alerts fails with it while the other channels deliver."""

    def __init__(self, console: Console | None, given: dict[str, Channel] | None) -> None:
        self.console = console
        self.built: dict[str, Channel] = dict(given or {})
        self.broken: dict[str, ConfigError] = {}

    def get(self, config: AlertChannel, report: DeliveryReport) -> Channel:
        """The channel for ``config``; ``ConfigError`` (reported once) if it cannot be built."""
        if config.id in self.broken:
            raise self.broken[config.id]
        channel = self.built.get(config.id)
        if channel is None:
            try:
                channel = build_channel(config, console=self.console)
            except ConfigError as exc:
                self.broken[config.id] = exc
                report.errors.append(str(exc))
                raise
            self.built[config.id] = channel
        return channel


def deliver_pending(
    engine: Engine,
    config: AlertsConfig,
    *,
    console: Console | None = None,
    channels: dict[str, Channel] | None = None,
) -> DeliveryReport:
    """Send every pending alert once; each is marked in its own transaction right after sending."""
    report = DeliveryReport()
    pool = _Channels(console, channels)
    with Session(engine) as session:
        pending = repo.pending_alerts(session)
    for alert in pending:
        channel_config = config.channels.get(alert.channel)
        if channel_config is None or not channel_config.enabled:
            report.waiting += 1
            continue
        try:
            pool.get(channel_config, report).send(alert)
        except ConfigError as exc:
            _mark_failed(engine, report, alert.id, str(exc))
            continue
        except (DeliveryError, OSError) as exc:
            report.errors.append(str(exc))
            _mark_failed(engine, report, alert.id, str(exc))
            continue
        with Session(engine) as session, session.begin():
            repo.mark_alert_sent(session, alert.id)
        report.sent += 1
    return report


def _mark_failed(engine: Engine, report: DeliveryReport, alert_id: int, reason: str) -> None:
    report.failed += 1
    with Session(engine) as session, session.begin():
        repo.mark_alert_failed(session, alert_id, reason)
