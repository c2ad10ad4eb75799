"""Every deployment newswatch runs, declared in one place; ``newswatch serve`` serves them."""

from __future__ import annotations

from typing import Any

from prefect.schedules import Cron

from flows.daily_ingest import backfill, daily_ingest
from flows.retag import retag
from flows.send_alerts import send_alerts
from pipeline.settings import DAILY_CRON, HONG_KONG_TZ, SEND_ALERTS_CRON


def build_deployments(
    db_url: str,
    *,
    config_dir: str | None = None,
    replay: str | None = None,
    cron: str = DAILY_CRON,
) -> list[Any]:
    """The deployments to serve, bound to ``db_url`` and a configuration directory (and a
    replay directory, for demos)."""
    common = {"db_url": db_url, "config_dir": config_dir}
    return [
        daily_ingest.to_deployment(
            name="daily",
            # The schedule is Hong Kong time, as every time newswatch shows.
            schedule=Cron(cron, timezone=HONG_KONG_TZ),
            parameters={**common, "replay": replay},
            description="One ingestion run of every enabled source, then its alerts.",
            tags=["newswatch", "ingest"],
        ),
        # No schedule: an operator starts a backfill with the date to page back to.
        backfill.to_deployment(
            name="backfill",
            parameters={**common, "replay": replay},
            description="One run that pages the sources back to `since` (give it as a parameter).",
            tags=["newswatch", "backfill"],
        ),
        # No schedule: a retag follows an edit of taxonomy.toml, started by whoever made it.
        retag.to_deployment(
            name="retag",
            parameters=common,
            description="Re-tag stored articles tagged with an older taxonomy version.",
            tags=["newswatch", "retag"],
        ),
        # Every few minutes: digests go out at their hour, failed deliveries are retried.
        send_alerts.to_deployment(
            name="send-alerts",
            schedule=Cron(SEND_ALERTS_CRON, timezone=HONG_KONG_TZ),
            parameters=common,
            description="Deliver owed alerts that are due: digests at their hour, retries.",
            tags=["newswatch", "alerts"],
        ),
    ]
