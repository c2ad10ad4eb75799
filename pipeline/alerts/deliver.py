"""Deliver the outbox: every pending alert through its channel, marked sent or failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.channels import Channel, DeliveryError, build_channel
from pipeline.config import AlertsConfig
from pipeline.store import repo


@dataclass
class DeliveryReport:
    """How many alerts went out, failed, or wait for a channel that is switched off."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_pending(
    engine: Engine,
    config: AlertsConfig,
    *,
    console: Console | None = None,
    channels: dict[str, Channel] | None = None,
) -> DeliveryReport:
    """Send every pending alert once; each is marked in its own transaction right after sending."""
    report = DeliveryReport()
    built: dict[str, Channel] = dict(channels or {})
    with Session(engine) as session:
        pending = repo.pending_alerts(session)
    for alert in pending:
        channel_config = config.channels.get(alert.channel)
        if channel_config is None or not channel_config.enabled:
            report.waiting += 1
            continue
        try:
            channel = built.get(alert.channel)
            if channel is None:
                channel = built[alert.channel] = build_channel(channel_config, console=console)
            channel.send(alert)
        except (DeliveryError, OSError) as exc:
            report.failed += 1
            report.errors.append(str(exc))
            with Session(engine) as session, session.begin():
                repo.mark_alert_failed(session, alert.id, str(exc))
            continue
        with Session(engine) as session, session.begin():
            repo.mark_alert_sent(session, alert.id)
        report.sent += 1
    return report
