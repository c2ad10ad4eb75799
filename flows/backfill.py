"""The backfill flow: one run that pages the sources back to a date, over the same stages.

It differs from ``daily_ingest`` only in that ``since`` is required: APIs that can page back in
time (HKMA, SFC) read every item published since then; feeds and listings give what they list.
Items already stored are not fetched again, so a backfill over a stored period costs little.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from flows.daily_ingest import PREFECT_STAGES, deliver_task
from pipeline.run import IngestOptions, RunOutcome, run_once


@flow(name="backfill", log_prints=True)
async def backfill(
    db_url: str,
    since: datetime,
    sources_path: str = "sources.toml",
    taxonomy_path: str = "taxonomy.toml",
    alerts_path: str = "alerts.toml",
    replay: str | None = None,
    source_ids: list[str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Read every item published since ``since`` (up to ``now``) from the sources named, or all."""
    options = IngestOptions(
        db_url=db_url,
        sources_path=Path(sources_path),
        taxonomy_path=Path(taxonomy_path),
        alerts_path=Path(alerts_path),
        replay=Path(replay) if replay else None,
        source_ids=source_ids or [],
        since=since,
        now=now,
    )
    outcome: RunOutcome = await run_once(
        options,
        stages=PREFECT_STAGES,
        deliver=deliver_task,
        flow_run_id=str(flow_run.id) if flow_run.id else None,
    )
    return outcome.as_dict()
