"""Alerts: rules decide which stories are owed an alert, the outbox keeps them, a sender claims
and delivers them through channels (console, a JSONL file, or any Apprise URL: e-mail,
webhooks, chat).

The names below load on first use, so ``pipeline.alerts.config`` (needed to validate
``alerts.toml``) can be imported without SQLAlchemy and the store coming along.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.alerts.deliver import DeliveryReport, send_alerts
    from pipeline.alerts.rules import matching_rules

_HOMES = {
    "DeliveryReport": "pipeline.alerts.deliver",
    "send_alerts": "pipeline.alerts.deliver",
    "matching_rules": "pipeline.alerts.rules",
}

__all__ = ["DeliveryReport", "matching_rules", "send_alerts"]


def __getattr__(name: str) -> Any:
    """Import ``DeliveryReport``, ``send_alerts`` or ``matching_rules`` when first asked."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
