"""Alerts: rules decide which stored articles are owed an alert, the outbox keeps them, channels
deliver them (console, a JSONL file, or any Apprise URL: email, webhooks, chat)."""

from pipeline.alerts.deliver import DeliveryReport, deliver_pending
from pipeline.alerts.rules import matching_rules

__all__ = ["DeliveryReport", "deliver_pending", "matching_rules"]
