"""E-mail for ``mailto://`` and ``mailtos://`` channels: Apprise reads the URL, newswatch sends.

Why not let Apprise send: it gives every mail a random Message-ID (``make_msgid`` in
``apprise/plugins/email/base.py``), and a ``+Message-ID`` header in the URL would only add a
second one. An alert sent again after an unknown outcome must carry the same Message-ID, so mail
clients and archives see one message, not two. So Apprise parses the URL (host, port, secure
mode, login, from, to, cc, bcc, reply-to, extra ``+`` headers, and the defaults it knows for
providers such as Gmail or Outlook), and the mail is built with the standard library: a
plain-text part with an HTML alternative, ``Subject``, ``From``, ``To``, ``Date`` and
``Message-ID: <{key}@newswatch>`` (and ``X-Newswatch-Key: {key}`` for mail filters), sent with
smtplib (SSL or STARTTLS as the URL says, a login when it names a user and password, the
channel's timeout on every socket operation). One mail goes to every To and Cc (Bcc in the
envelope only); a recipient refused while others were accepted is logged, not failed, since a
retry would send the others a second copy.

Failures: nothing accepted (connect, TLS, login, sender or every recipient refused, the server
refusing the data) → ``DeliveryError``; a timeout or a dropped connection once the data was
sent → ``DeliveryUnknown`` (the server may have queued the mail).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from pipeline.alerts.apprise_log import clean, failure_reason, relog
from pipeline.alerts.message import Message
from pipeline.alerts.urls import redact
from pipeline.alerts.webhook import instantiate
from pipeline.dates import HONG_KONG
from pipeline.errors import ConfigError, DeliveryError, DeliveryUnknown

log = logging.getLogger(__name__)

MAIL_SCHEMES = frozenset({"mailto", "mailtos"})
SENDER_NAME = "newswatch"
# Headers newswatch writes itself; a ``+`` header of the URL with one of these names is ignored
# rather than sent twice.
OWN_HEADERS = frozenset(
    {
        "subject",
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
# Characters a Message-ID's left part may hold (RFC 5322 dot-atom, conservatively).
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send, as Apprise reads a ``mailto(s)://`` URL."""

    host: str
    port: int
    # "insecure", "ssl" or "starttls" (Apprise's secure modes).
    mode: str
    user: str | None
    password: str | None = field(repr=False)
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...] = ()
    bcc: tuple[str, ...] = ()
    reply_to: tuple[Address, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    verify_certificate: bool = True


def smtp_settings(url: str, channel: str, shown_url: str, secrets: Iterable[str]) -> SmtpSettings:
    """Read a ``mailto(s)://`` URL through Apprise; ``ConfigError`` when it cannot be read."""
    hidden = tuple(secrets)
    plugin, records = instantiate(url)
    relog(records, hidden)
    if plugin is None or getattr(plugin, "secure_mode", None) is None:
        reason = failure_reason(records, hidden)
        raise ConfigError(
            redact(
                f"channel {channel!r}: URL {shown_url} is not a mail URL Apprise can read"
                f" ({reason})",
                hidden,
            )
        )
    try:
        return _settings_of(plugin)
    except (TypeError, ValueError, IndexError) as exc:
        # An address Apprise let through that the email package refuses.
        raise ConfigError(redact(f"channel {channel!r}: URL {shown_url}: {exc}", hidden)) from None


def _settings_of(plugin: Any) -> SmtpSettings:
    """The settings an Apprise ``NotifyEmail`` holds."""
    names: dict[str, object] = dict(plugin.names or {})

    def address(addr: str, name: object = None) -> Address:
        shown = name or names.get(addr)
        return Address(display_name=str(shown) if shown else "", addr_spec=addr)

    sender_name, sender_addr = plugin.from_addr
    if not sender_name or sender_name == plugin.app_id:
        sender_name = SENDER_NAME
    return SmtpSettings(
        host=str(plugin.smtp_host or plugin.host),
        port=int(plugin.port),
        mode=str(plugin.secure_mode),
        user=plugin.user or None,
        password=plugin.password or None,
        sender=address(sender_addr, sender_name),
        to=tuple(address(addr, name) for name, addr in plugin.targets),
        cc=tuple(address(addr) for addr in sorted(plugin.cc)),
        bcc=tuple(sorted(plugin.bcc)),
        reply_to=tuple(address(addr) for addr in sorted(plugin.reply_to)),
        headers=tuple((str(k), str(v)) for k, v in dict(plugin.headers).items()),
        verify_certificate=bool(plugin.verify_certificate),
    )


def message_id(key: str) -> str:
    """The Message-ID of every mail for the alert keyed ``key``: the same on each attempt."""
    return f"<{_ID_UNSAFE.sub('-', key)}@{SENDER_NAME}>"


def build_mail(message: Message, settings: SmtpSettings, now: datetime) -> EmailMessage:
    """The mail for ``message``: text part, HTML alternative, and the stable Message-ID."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.sender
    mail["To"] = settings.to
    if settings.cc:
        mail["Cc"] = settings.cc
    if settings.reply_to:
        mail["Reply-To"] = settings.reply_to
    mail["Date"] = format_datetime(now.astimezone(HONG_KONG))
    mail["Message-ID"] = message_id(message.key)
    mail["X-Newswatch-Key"] = message.key
    for name, value in settings.headers:
        if name.casefold() not in OWN_HEADERS:
            mail[name] = value
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


@dataclass
class MailChannel:
    """Sends each message as one mail to the URL's recipients."""

    name: str
    shown_url: str
    settings: SmtpSettings
    timeout: float
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def send(self, message: Message) -> None:
        """Send one mail; ``DeliveryError`` when refused, ``DeliveryUnknown`` when the server
        went quiet after the data was sent."""
        try:
            mail = build_mail(message, self.settings, datetime.now(HONG_KONG))
        except (TypeError, ValueError) as exc:
            # A "+" header of the URL the email package refuses (a line break in a value).
            raise self.error(f"cannot build the mail: {exc}") from None
        recipients = [a.addr_spec for a in (*self.settings.to, *self.settings.cc)]
        recipients += list(self.settings.bcc)
        _Session(self).deliver(mail.as_bytes(policy=SMTP), recipients)

    def error(self, reason: str, *, unknown: bool = False) -> DeliveryError:
        """The error to raise, naming the channel, with no secret in it."""
        kind = DeliveryUnknown if unknown else DeliveryError
        reason = clean(reason, self.secrets)
        return kind(redact(f"channel {self.name!r} ({self.shown_url}): {reason}", self.secrets))


class _Session:
    """One SMTP conversation, remembering how far it got: a failure before the data means
    nothing was delivered, a silence after it means nobody knows."""

    def __init__(self, channel: MailChannel) -> None:
        self.channel = channel
        self.stage = "connect"

    def deliver(self, data: bytes, recipients: list[str]) -> None:
        """Connect, secure, log in, send ``data`` to ``recipients``, quit."""
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            self._converse(smtp, data, recipients)
        except DeliveryError:
            raise
        except smtplib.SMTPResponseException as exc:
            detail = exc.smtp_error or b""
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            raise self._failed(f"SMTP {exc.smtp_code} {detail}".strip()) from None
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
            raise self._failed(reason or type(exc).__name__, unknown=self.stage == "data") from None
        finally:
            if smtp is not None:
                self._close(smtp)

    def _failed(self, reason: str, *, unknown: bool = False) -> DeliveryError:
        settings = self.channel.settings
        where = f"{settings.host}:{settings.port}"
        if unknown:
            reason = f"outcome unknown, the mail was sent to {where}: {reason}"
        else:
            reason = f"{self.stage} failed at {where}: {reason}"
        return self.channel.error(reason, unknown=unknown)

    def _connect(self) -> smtplib.SMTP:
        settings, timeout = self.channel.settings, self.channel.timeout
        if settings.mode == "ssl":
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=_context(settings)
            )
        return smtplib.SMTP(settings.host, settings.port, timeout=timeout)

    def _converse(self, smtp: smtplib.SMTP, data: bytes, recipients: list[str]) -> None:
        settings = self.channel.settings
        self.stage = "hello"
        smtp.ehlo_or_helo_if_needed()
        if settings.mode == "starttls":
            self.stage = "starttls"
            smtp.starttls(context=_context(settings))
            smtp.ehlo()
        if settings.user and settings.password:
            self.stage = "login"
            smtp.login(settings.user, settings.password)
        self.stage = "sender"
        code, answer = smtp.mail(settings.sender.addr_spec)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, answer, settings.sender.addr_spec)
        self.stage = "recipients"
        refused = [r for r in recipients if smtp.rcpt(r)[0] not in (250, 251)]
        if len(refused) == len(recipients):
            raise self._failed(f"every recipient refused ({', '.join(refused)})")
        self.stage = "data"
        smtp.data(data)
        self.stage = "done"
        if refused:
            # Delivered to the others: failing the alert would send them a second copy.
            log.warning("channel %r: recipients refused: %s", self.channel.name, ", ".join(refused))

    def _close(self, smtp: smtplib.SMTP) -> None:
        if self.stage != "done":
            # After a failure the conversation is in no state for a polite QUIT, which could
            # wait a whole timeout again.
            smtp.close()
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not settings.verify_certificate:
        # The URL says "verify=no": a self-signed relay the operator chose.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
