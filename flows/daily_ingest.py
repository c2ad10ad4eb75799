"""The ingestion flow: a thin Prefect layer over ``pipeline.ingest``.

A task per source for discovery and for fetching (network: retried), a task per batch for
processing and storing (parsing: not retried). No subflows: one costs about a second.
``backfill`` is the same flow under its own name, for runs given a ``since`` that pages the
APIs back to a date. A configuration that does not load ends the flow run Failed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.runtime import flow_run
from prefect.states import State
from prefect.tasks import Task

from flows.served_runs import end_with_serve
from pipeline.alerts import send_alerts
from pipeline.errors import FetchError, LimitExceeded
from pipeline.ingest import (
    IngestOptions,
    RunOutcome,
    Stages,
    discover_source,
    fetch_items,
    process_batch,
    run_once,
)
from pipeline.store import db

# Network faults pass; a second and a fifth second are enough for a flaky host, and keep a replay
# run fast when a recorded fault is deliberate.
NETWORK_RETRIES = 2
NETWORK_RETRY_DELAYS: list[float] = [1, 5]


async def is_network_fault(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry network faults only: a feed that is not XML will not become XML on a retry, nor
    will a body over the size limit or a redirect loop (the fetcher retried the rest already)."""
    # Async because the tasks are: in an event loop ``State.result()`` only returns a coroutine.
    try:
        await state.aresult()
    except LimitExceeded:
        return False
    except FetchError:
        return True
    except Exception:
        return False
    return False


discover_task = task(
    name="discover",
    retries=NETWORK_RETRIES,
    retry_delay_seconds=NETWORK_RETRY_DELAYS,
    retry_condition_fn=is_network_fault,
    cache_policy=NO_CACHE,
    task_run_name="discover-{source.id}",
)(discover_source)
fetch_task = task(
    name="fetch",
    retries=NETWORK_RETRIES,
    retry_delay_seconds=NETWORK_RETRY_DELAYS,
    retry_condition_fn=is_network_fault,
    cache_policy=NO_CACHE,
)(fetch_items)
process_task = task(name="process-and-store", cache_policy=NO_CACHE)(process_batch)
deliver_task = task(name="send-alerts", cache_policy=NO_CACHE)(send_alerts)

PREFECT_STAGES = Stages(discover=discover_task, fetch=fetch_task, process=process_task)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@flow(name="daily-ingest", log_prints=True)
async def daily_ingest(
    db_url: str | None = None,
    config_dir: str | None = None,
    sources_path: str | None = None,
    taxonomy_path: str | None = None,
    alerts_path: str | None = None,
    replay: str | None = None,
    source_ids: list[str] | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
    regulators_only: bool = False,
    partition: str | None = None,
) -> dict[str, Any]:
    """One ingestion run: every enabled source (or those named), then the alerts it raised.

    With ``regulators_only``, only the sources with ``regulator = true`` (the regulators
    deployment). ``partition`` splits the sources between workers: ``regulators`` (the same as
    ``regulators_only``) or ``news`` (every other enabled source). A paused source, or one
    backing off after failed runs, is skipped and recorded so, unless named in ``source_ids``.
    With ``since``, APIs that can page back in time (HKMA, SFC) read every item published since
    then. Unset files and database are found as ``pipeline.settings`` describes.
    """
    end_with_serve()
    options = IngestOptions(
        db_url=db.resolve_db_url(db_url),
        config_dir=_path(config_dir),
        sources_path=_path(sources_path),
        taxonomy_path=_path(taxonomy_path),
        alerts_path=_path(alerts_path),
        replay=_path(replay),
        source_ids=source_ids or [],
        regulators_only=regulators_only,
        partition=partition,
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


backfill = daily_ingest.with_options(name="backfill")
