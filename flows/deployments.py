"""Every deployment newswatch runs, declared in one place; ``newswatch serve`` serves them."""

from __future__ import annotations

from typing import Any

from flows.backfill import backfill
from flows.daily_ingest import daily_ingest
from flows.retag import retag

# 07:00 Hong Kong time: after the regulators' evening releases, before the compliance desk's day.
DAILY_CRON = "0 7 * * *"
TIMEZONE = "Asia/Hong_Kong"


def build_deployments(
    db_url: str, *, replay: str | None = None, cron: str = DAILY_CRON
) -> list[Any]:
    """The deployments to serve, bound to ``db_url`` (and a replay directory, for demos)."""
    return [
        daily_ingest.to_deployment(
            name="daily",
            cron=cron,
            parameters={"db_url": db_url, "replay": replay},
            description="One ingestion run of every enabled source, then its alerts.",
            tags=["newswatch", "ingest"],
        ),
        # No schedule: an operator starts a backfill with the date to page back to.
        backfill.to_deployment(
            name="backfill",
            parameters={"db_url": db_url, "replay": replay},
            description="One run that pages the sources back to `since` (a required parameter).",
            tags=["newswatch", "backfill"],
        ),
        # No schedule: a retag follows an edit of taxonomy.toml, started by whoever made it.
        retag.to_deployment(
            name="retag",
            parameters={"db_url": db_url},
            description="Re-tag stored articles tagged with an older taxonomy version.",
            tags=["newswatch", "retag"],
        ),
    ]
