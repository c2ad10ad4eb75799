"""Delivery through Apprise for every URL but e-mail: webhooks (``json://``, ``form://``,
``xml://`` and their ``s`` forms) and chat services (Slack, Teams, Telegram, ntfy…).

Every URL gets Apprise's ``rto`` (read timeout) and ``cto`` (connect timeout) set to the
channel's timeout, unless it names them itself: Apprise's default read timeout of 4 s made a
slow receiver take the alert, answer late, and be sent it again.

Webhooks get, per message, an ``Idempotency-Key`` HTTP header equal to the message key (the
alert's ``alert_id``, a digest's ``digest_id``), through Apprise's ``+`` URL parameters. For
``json://`` and ``form://`` the documented body (``pipeline.alerts.message``) rides along
through Apprise's ``:`` payload parameters, so a JSON webhook receives::

    {
      "version": "1.0", "type": "info", "attachments": [],  # Apprise's own fields
      "title": <the subject line>,
      "message": <the plain-text body>,
      <every scalar field of the documented body but "title">: <its value as a string>
          (alert: alert_id, event, severity, story_id, article_id, source, url, published_at,
           doc_type, language, regulator, snippet, channel, schema;
           digest: digest_id, schema, rule, day, severity, channel);
          null is "", a boolean "true" or "false",
      "newswatch": <the whole documented body as JSON text, lists and types intact>
    }

A ``form://`` webhook receives the same names as form fields (no ``attachments``). The body's
``title`` is not repeated at the top level: Apprise's ``title`` holds the subject, and a ``:``
parameter named like one of Apprise's fields would rename that field. ``xml://`` gets the header
and Apprise's own document. Chat services get the subject as title and the plain text as body.

Apprise answers only True or False; the reason is read from its log records
(``apprise_log``): an HTTP status or a refused connection → ``DeliveryError``, a read timeout
(the request went out) → ``DeliveryUnknown``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from pipeline.alerts.apprise_log import captured, clean, failure_reason, relog, timed_out
from pipeline.alerts.message import Message
from pipeline.alerts.urls import redact
from pipeline.errors import ConfigError, DeliveryError, DeliveryUnknown

WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
PAYLOAD_SCHEMES = frozenset({"json", "jsons", "form", "forms"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
# The payload field that carries the whole documented body as JSON text.
BODY_FIELD = "newswatch"
# Apprise's own payload fields: a ``:`` parameter of one of these names renames the field
# (apprise/plugins/custom_json.py), so the body's fields of these names are left out.
APPRISE_FIELDS = frozenset({"version", "title", "message", "type", "attachments"})
APP_ID = "newswatch"


def _quoted(value: str) -> str:
    # Apprise unquotes parameter values twice (once parsing the query, once in the plugin), so
    # a value holding "%" or "&" survives only quoted twice.
    return quote(quote(value, safe=""), safe="")


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def with_params(url: str, params: Iterable[tuple[str, str]]) -> str:
    """``url`` with ``name=value`` parameters added to its query (values already quoted)."""
    added = "&".join(f"{name}={value}" for name, value in params)
    if not added:
        return url
    return f"{url}{'&' if '?' in url else '?'}{added}"


def with_timeouts(url: str, timeout: float) -> str:
    """``url`` with Apprise's read and connect timeouts, unless it sets them itself."""
    try:
        named = {name.casefold() for name, _ in parse_qsl(urlsplit(url).query)}
    except ValueError:
        named = set()
    params = [(name, f"{timeout:g}") for name in ("rto", "cto") if name not in named]
    return with_params(url, params)


def message_params(scheme: str, message: Message) -> list[tuple[str, str]]:
    """The per-message URL parameters: the idempotency header, and for JSON and form
    webhooks the body's scalar fields and the whole body."""
    params = [(f"+{IDEMPOTENCY_HEADER}", _quoted(message.key))]
    if scheme in PAYLOAD_SCHEMES:
        for name, value in message.body.items():
            if name not in APPRISE_FIELDS and not isinstance(value, list | dict):
                params.append((f":{name}", _quoted(_scalar(value))))
        body = json.dumps(message.body, ensure_ascii=False, separators=(",", ":"))
        params.append((f":{BODY_FIELD}", _quoted(body)))
    return params


def instantiate(url: str) -> tuple[Any, list[logging.LogRecord]]:
    """Apprise's plugin for ``url`` (None when Apprise cannot read it) and what it logged."""
    import apprise  # imported here: only configurations with an Apprise channel pay for it

    with captured() as records:
        try:
            plugin = apprise.Apprise.instantiate(url, asset=_asset())
        except Exception:
            # Apprise raises on some odd input instead of answering None.
            plugin = None
    return plugin, records


def _asset() -> Any:
    import apprise

    # async_mode off: the send runs in this thread, where its log records are captured.
    return apprise.AppriseAsset(app_id=APP_ID, app_desc="newswatch alerts", async_mode=False)


@dataclass
class AppriseChannel:
    """Notifies one Apprise URL; webhooks get the idempotency key and the documented body."""

    name: str
    url: str = field(repr=False)
    shown_url: str
    scheme: str
    timeout: float
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self.url = with_timeouts(self.url, self.timeout)
        plugin, records = instantiate(self.url)
        password = getattr(plugin, "password", None)
        if password:
            self.secrets = (*self.secrets, str(password))
        relog(records, self.secrets)
        if plugin is None:
            reason = failure_reason(records, self.secrets)
            raise ConfigError(
                redact(
                    f"channel {self.name!r}: URL {self.shown_url} is not a URL Apprise can read"
                    f" ({reason})",
                    self.secrets,
                )
            )
        self._plugin = plugin

    def send(self, message: Message) -> None:
        """Notify; ``DeliveryError`` with Apprise's reason, ``DeliveryUnknown`` on a read
        timeout."""
        import apprise

        plugin = self._plugin
        if self.scheme in WEBHOOK_SCHEMES:
            plugin, records = instantiate(
                with_params(self.url, message_params(self.scheme, message))
            )
            relog(records, self.secrets)
            if plugin is None:
                reason = failure_reason(records, self.secrets)
                raise self._error(f"cannot prepare the request ({reason})")
        with captured() as records:
            try:
                notifier = apprise.Apprise(asset=_asset())
                notifier.add(plugin)
                sent = notifier.notify(
                    body=message.text, title=message.subject, body_format=apprise.NotifyFormat.TEXT
                )
            except Exception as exc:
                raise self._error(f"Apprise failed: {type(exc).__name__}: {exc}") from None
        relog(records, self.secrets)
        if not sent:
            reason = failure_reason(records, self.secrets)
            raise self._error(reason, unknown=timed_out(records))

    def _error(self, reason: str, *, unknown: bool = False) -> DeliveryError:
        if unknown:
            reason = f"outcome unknown, no answer within {self.timeout:g} s: {reason}"
        kind = DeliveryUnknown if unknown else DeliveryError
        reason = clean(reason, self.secrets)
        return kind(redact(f"channel {self.name!r} ({self.shown_url}): {reason}", self.secrets))
