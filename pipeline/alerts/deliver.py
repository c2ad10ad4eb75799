"""Send the outbox: claim owed rows, deliver each message through its channel, record the
outcome on every row it settles.

A sender claims a batch of messages before sending (see ``pipeline.store.outbox``), so two
senders, two flows or a flow and a cron job never take the same row. Each message's outcome is
written right after it is sent, in its own transaction. What can still go wrong, plainly: a
crash after a receiver accepted a message and before the row is marked leaves the row
``sending``; once the claim is stale (its process gone, or ``CLAIM_LEASE`` passed) it is sent
again with the same idempotency key, which the receiver can drop.

A channel that cannot be built (an unset variable, a URL Apprise cannot read) fails its own
messages with the reason and waits for a retry; the other channels deliver. A failure is
retried on later sends after a wait that doubles each time, and after the configured number
of attempts the row is ``dead`` until ``alerts retry`` revives it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.assemble import Outgoing, assemble
from pipeline.alerts.channels import Channel, build_channel
from pipeline.alerts.config import AlertChannel, AlertsConfig, retry_delay
from pipeline.alerts.message import Message, render_alert, render_digest
from pipeline.alerts.urls import redact
from pipeline.errors import ConfigError, DeliveryError, DeliveryUnknown
from pipeline.models import Alert
from pipeline.store import alert_reads, repo

# Messages claimed at a time: few enough that a sender that dies holds little, many enough
# that a backlog takes a handful of claims.
SEND_BATCH = 50
# A claim older than this was made by a sender that is gone: far longer than one batch of
# sends at the longest channel timeouts, so a slow but live sender is never overtaken.
CLAIM_LEASE = timedelta(minutes=30)
# Statuses of rows still owed after a send: the ones a report calls waiting.
OWED = ("pending", "failed", "unknown", "sending")


@dataclass
class DeliveryReport:
    """What a send did, counted in messages: delivered, failed (to be retried), of unknown
    outcome (to be retried with the same key), dead (out of attempts), and rows still owed
    (not due yet, waiting for a retry or for a channel that is switched off)."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0
    dead: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no message failed, timed out or died."""
        return not (self.failed or self.unknown or self.dead)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {
            "sent": self.sent,
            "failed": self.failed,
            "unknown": self.unknown,
            "dead": self.dead,
            "waiting": self.waiting,
            "errors": list(self.errors),
        }


def new_claimer() -> str:
    """A name for this sender: host and process (so a dead one is recognised), and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def gone_claimers(claimers: Iterable[str]) -> list[str]:
    """The claimers that were processes on this host which no longer run."""
    host = socket.gethostname()
    gone = []
    for claimer in claimers:
        claimer_host, _, rest = claimer.rpartition(":")[0].rpartition(":")
        if claimer_host != host or not rest.isdigit():
            continue
        try:
            os.kill(int(rest), 0)
        except ProcessLookupError:
            gone.append(claimer)
        except PermissionError:
            continue  # alive, another user's
    return gone


class _Channels:
    """Channels built on first use; one that cannot be built is remembered with its reason."""

    def __init__(self, console: Console | None, given: dict[str, Channel] | None) -> None:
        self.console = console
        self.built: dict[str, Channel] = dict(given or {})
        self.broken: dict[str, ConfigError] = {}

    def get(self, config: AlertChannel) -> Channel:
        """The channel for ``config``; ``ConfigError`` if it cannot be built."""
        if config.id in self.broken:
            raise self.broken[config.id]
        channel = self.built.get(config.id)
        if channel is None:
            try:
                channel = build_channel(config, console=self.console)
            except ConfigError as exc:
                self.broken[config.id] = exc
                raise
            self.built[config.id] = channel
        return channel


@dataclass
class _Sender:
    engine: Engine
    config: AlertsConfig
    pool: _Channels
    clock: Callable[[], datetime]
    claimer: str
    # Set for an operator's send: rows last tried before it are sent without waiting.
    tried_before: datetime | None
    report: DeliveryReport = field(default_factory=DeliveryReport)

    def claim(self) -> list[Outgoing]:
        """Claim the next batch; the messages it makes."""
        now = self.clock()
        enabled = [c.id for c in self.config.channels.values() if c.enabled]
        with Session(self.engine) as session:
            gone = gone_claimers(repo.claimers_sending(session))
        with Session(self.engine) as session:
            claimed = repo.claim_alerts(
                session,
                claimer=self.claimer,
                now=now,
                stale_before=now - CLAIM_LEASE,
                dead_claimers=gone,
                channels=enabled,
                limit=SEND_BATCH,
                tried_before=self.tried_before,
            )
        if not claimed:
            return []
        with Session(self.engine) as session:
            rows = alert_reads.outbox_rows(
                session, alert_reads.OutboxFilter(ids=[c.id for c in claimed]), newest_first=False
            )
            members = alert_reads.story_members(session, {row.story_id for row in rows})
            tags = alert_reads.alert_tags(session, {row.article_id for row in rows})
        return assemble(rows, members, tags, self.config)

    def deliver(self, outgoing: Outgoing) -> None:
        """Send one message and record how it went on each of its rows."""
        channel_config = self.config.channels[outgoing.channel]
        content = outgoing.content
        try:
            message: Message = (
                render_alert(content) if isinstance(content, Alert) else render_digest(content)
            )
            self.pool.get(channel_config).send(message)
        except DeliveryUnknown as exc:
            self._failed(outgoing, channel_config, exc, unknown=True)
        except (ConfigError, DeliveryError) as exc:
            self._failed(outgoing, channel_config, exc)
        except Exception as exc:  # a channel's or a message's bug must not stop the others
            self._failed(outgoing, channel_config, DeliveryError(f"{type(exc).__name__}: {exc}"))
        else:
            with Session(self.engine) as session, session.begin():
                repo.mark_sent(session, outgoing.row_ids, self.claimer, self.clock())
            self.report.sent += 1

    def _failed(
        self,
        outgoing: Outgoing,
        channel: AlertChannel,
        exc: Exception,
        *,
        unknown: bool = False,
    ) -> None:
        error = redact(str(exc), channel.secrets)
        attempts = _attempts(outgoing)
        delivery = self.config.delivery
        retry_at = None
        if attempts < delivery.max_attempts:
            retry_at = self.clock() + retry_delay(delivery, attempts)
        with Session(self.engine) as session, session.begin():
            repo.mark_failed(
                session,
                outgoing.row_ids,
                self.claimer,
                error=error,
                retry_at=retry_at,
                unknown=unknown,
            )
        if retry_at is None:
            self.report.dead += 1
        elif unknown:
            self.report.unknown += 1
        else:
            self.report.failed += 1
        self.report.errors.append(f"alert {outgoing.key} on channel {outgoing.channel!r}: {error}")


def _attempts(outgoing: Outgoing) -> int:
    content = outgoing.content
    if isinstance(content, Alert):
        return content.attempts
    return max((alert.attempts for alert in content.alerts), default=1)


def send_alerts(
    engine: Engine,
    config: AlertsConfig,
    *,
    console: Console | None = None,
    channels: dict[str, Channel] | None = None,
    clock: Callable[[], datetime] = repo.utc_now,
    claimer: str | None = None,
    retry_waiting: bool = False,
) -> DeliveryReport:
    """Deliver every owed message that is due, once; returns what happened.

    ``retry_waiting`` also sends failed messages whose wait is not over (an operator's
    ``alerts send``); scheduled senders leave them to their time.
    """
    sender = _Sender(
        engine,
        config,
        _Channels(console, channels),
        clock,
        claimer or new_claimer(),
        clock() if retry_waiting else None,
    )
    while batch := sender.claim():
        for outgoing in batch:
            sender.deliver(outgoing)
    with Session(engine) as session:
        counts = repo.outbox_counts(session)
    sender.report.waiting = sum(counts.get(status, 0) for status in OWED)
    return sender.report
