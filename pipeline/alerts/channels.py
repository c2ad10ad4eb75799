"""Alert channels: where a rendered message (``pipeline.alerts.message``) is delivered.

- ``console``: the plain text on stderr, so a command's own output (``--format json``) stays
  readable by programs.
- ``jsonl``: the documented JSON body, one line per message, appended and fsync'd.
- ``apprise``: any Apprise URL. ``mailto://``/``mailtos://`` are read by Apprise and sent by
  ``pipeline.alerts.mail`` (a stable Message-ID); every other URL is notified through Apprise by
  ``pipeline.alerts.webhook`` (webhooks get an Idempotency-Key header and the JSON body).

A channel either delivers or raises: ``DeliveryError`` (nothing was delivered, worth retrying),
or ``DeliveryUnknown`` (the request went out and no answer came in time; retried with the same
key, which receivers use to drop a repeat). ``build_channel`` raises ``ConfigError`` for a
channel that cannot be set up. No message, log record or exception carries a secret: the
channel's substituted environment values and the URL's password are redacted from each.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.text import Text

from pipeline.alerts.config import AlertChannel
from pipeline.alerts.mail import MAIL_SCHEMES, MailChannel, smtp_settings
from pipeline.alerts.message import Message
from pipeline.alerts.urls import mask_url, redact, url_password
from pipeline.alerts.webhook import AppriseChannel
from pipeline.errors import ConfigError, DeliveryError, DeliveryUnknown

__all__ = [
    "Channel",
    "ConsoleChannel",
    "DeliveryError",
    "DeliveryUnknown",
    "JsonlChannel",
    "build_channel",
]

# Appending with O_APPEND in one write() keeps two processes' lines from interleaving.
_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)


class Channel(Protocol):
    """Something that delivers one message or raises ``DeliveryError``."""

    def send(self, message: Message) -> None:
        """Deliver ``message``; ``DeliveryUnknown`` when the outcome is unknown."""


class ConsoleChannel:
    """Prints messages on stderr, briefly: a terminal shows many alerts at once, the full
    message goes to the channels a desk reads."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)

    def send(self, message: Message) -> None:
        """Print the subject, then a line of details."""
        # Text, not markup: titles such as "[Update]" come from the sites and must print.
        subject, _, rest = (message.brief or message.text).partition("\n")
        self.console.print(
            Text.assemble((subject, "bold red"), "\n", rest.rstrip("\n")),
            highlight=False,
            soft_wrap=True,
        )


class JsonlChannel:
    """Appends messages' JSON bodies to a file, one line each."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        """Append one line in a single write and flush it to disk."""
        line = (json.dumps(message.body, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(self.path, _APPEND_FLAGS, 0o644)
            try:
                written = os.write(handle, line)
                os.fsync(handle)
            finally:
                os.close(handle)
        except OSError as exc:
            raise DeliveryError(
                f"message {message.key}: cannot write {self.path}: {exc.strerror or exc}"
            ) from exc
        if written != len(line):
            raise DeliveryError(
                f"message {message.key}: {self.path}: only {written} of {len(line)} bytes"
                " written (disk full?)"
            )


def build_channel(config: AlertChannel, *, console: Console | None = None) -> Channel:
    """The channel for a configured channel; ``ConfigError`` (naming it, URL masked) when it
    cannot be set up."""
    secrets = _secrets(config)
    if config.problem:
        raise ConfigError(redact(f"channel {config.id!r}: {config.problem}", secrets))
    if config.kind == "console":
        return ConsoleChannel(console)
    if config.kind == "jsonl":
        if not config.path:
            raise ConfigError(f"channel {config.id!r}: a jsonl channel needs a path")
        return JsonlChannel(Path(config.path))
    if config.kind == "apprise":
        return _apprise_channel(config, secrets)
    raise ConfigError(f"channel {config.id!r}: unknown kind {config.kind!r}")


def _secrets(config: AlertChannel) -> tuple[str, ...]:
    """What no message may show: the substituted environment values and the URL's password."""
    found = [secret for secret in config.secrets if secret]
    if config.url and (password := url_password(config.url)):
        found.append(password)
    return tuple(dict.fromkeys(found))


def _apprise_channel(
    config: AlertChannel, secrets: tuple[str, ...]
) -> MailChannel | AppriseChannel:
    url = (config.url or "").strip()
    shown = mask_url(url)
    scheme, separator, _ = url.partition("://")
    if not separator:
        raise ConfigError(f"channel {config.id!r}: URL {shown} is not a URL Apprise can read")
    scheme = scheme.casefold()
    if scheme in MAIL_SCHEMES:
        settings = smtp_settings(url, config.id, shown, secrets)
        if settings.password:
            secrets = (*secrets, settings.password)
        return MailChannel(config.id, shown, settings, config.timeout, secrets)
    return AppriseChannel(config.id, url, shown, scheme, config.timeout, secrets)
