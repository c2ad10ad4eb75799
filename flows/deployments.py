"""Every deployment newswatch runs, declared in one place; ``newswatch serve`` serves them.

``prefect.yaml`` at the repository's root describes the same deployments for a Prefect server
and a work pool (``prefect deploy --all``); ``tests/test_schedules.py`` keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from prefect.schedules import Cron

from flows.daily_ingest import backfill, daily_ingest
from flows.retag import retag
from flows.send_alerts import send_alerts
from pipeline.settings import DAILY_CRON, HONG_KONG_TZ, REGULATORS_CRON, SEND_ALERTS_CRON


def build_deployments(
    db_url: str,
    *,
    config_dir: str | None = None,
    replay: str | None = None,
    cron: str = DAILY_CRON,
) -> list[Any]:
    """The deployments to serve, bound to ``db_url`` and a configuration directory (and a
    replay directory, for demos): the daily run at ``cron`` (07:00 Hong Kong time), the
    regulators every 30 minutes, alert sending every 5; the news partition, backfill and retag
    on demand."""
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
        # The regulators' releases are what the compliance desk waits for: read half-hourly.
        daily_ingest.to_deployment(
            name="regulators",
            schedule=Cron(REGULATORS_CRON, timezone=HONG_KONG_TZ),
            parameters={**common, "replay": replay, "regulators_only": True},
            description="One ingestion run of the regulator sources (HKMA, SFC), then alerts.",
            tags=["newswatch", "ingest", "regulators"],
        ),
        # No schedule: the news half of a run split across workers (the regulators deployment
        # is the other half), started by an operator or given a schedule where the daily run is
        # split; never beside the daily run, which reads these sources too.
        daily_ingest.to_deployment(
            name="news",
            parameters={**common, "replay": replay, "partition": "news"},
            description="One ingestion run of the news sources (every non-regulator), then alerts.",
            tags=["newswatch", "ingest", "news"],
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
