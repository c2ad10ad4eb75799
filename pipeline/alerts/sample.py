"""A sample alert through one channel, for ``newswatch alerts test``: nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from pipeline.alerts.channels import build_channel
from pipeline.alerts.config import AlertChannel
from pipeline.alerts.message import render_alert
from pipeline.alerts.urls import redact
from pipeline.errors import NewswatchError
from pipeline.models import Alert, AlertTag, StoryMember

SAMPLE_URL = "https://example.org/newswatch/test"


def sample_alert(channel: str) -> Alert:
    """An alert with every part a real one has, marked as a test."""
    now = datetime.now(UTC)
    return Alert(
        id=0,
        key=f"nw-test-{now:%Y%m%dT%H%M%S}",
        story_id=0,
        article_id=0,
        channel=channel,
        rules=("test",),
        title="newswatch test alert",
        source_id="newswatch",
        url=SAMPLE_URL,
        published_at=now,
        created_at=now,
        rule_descriptions=("A test sent by `newswatch alerts test`",),
        doc_type="test",
        language="en",
        snippet="If you can read this, the channel works.",
        tags=(AlertTag("topic", "test", "Test", "This sentence is the evidence for the tag."),),
        members=(StoryMember(0, "newswatch", "newswatch test alert", SAMPLE_URL, "en", now),),
    )


def send_sample(config: AlertChannel, *, console: Console | None = None) -> str | None:
    """Send the sample through the channel; None when delivered, else why not (no secret)."""
    try:
        build_channel(config, console=console).send(render_alert(sample_alert(config.id)))
    except NewswatchError as exc:
        return redact(str(exc), config.secrets)
    return None
