"""The daily ingestion flow: a thin Prefect layer over ``pipeline.ingest``.

A task per source for discovery and for fetching (network: retried), a task per batch for
processing and storing (parsing: not retried). No subflows: one costs about a second.
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

from pipeline.alerts import deliver_pending
from pipeline.errors import FetchError, LimitExceeded
from pipeline.ingest import Stages, discover_source, fetch_items, process_batch
from pipeline.run import IngestOptions, RunOutcome, run_once

# Network faults pass; a second and a fifth second are enough for a flaky host, and keep a replay
# run fast when a recorded fault is deliberate.
NETWORK_RETRIES = 2
NETWORK_RETRY_DELAYS = [1, 5]


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
    discover_source,
    name="discover",
    retries=NETWORK_RETRIES,
    retry_delay_seconds=NETWORK_RETRY_DELAYS,
    retry_condition_fn=is_network_fault,
    cache_policy=NO_CACHE,
    task_run_name="discover-{source.id}",
)
fetch_task = task(
    fetch_items,
    name="fetch",
    retries=NETWORK_RETRIES,
    retry_delay_seconds=NETWORK_RETRY_DELAYS,
    retry_condition_fn=is_network_fault,
    cache_policy=NO_CACHE,
)
process_task = task(process_batch, name="process-and-store", cache_policy=NO_CACHE)
deliver_task = task(deliver_pending, name="send-alerts", cache_policy=NO_CACHE)

PREFECT_STAGES = Stages(discover=discover_task, fetch=fetch_task, process=process_task)


@flow(name="daily-ingest", log_prints=True)
async def daily_ingest(
    db_url: str,
    sources_path: str = "sources.toml",
    taxonomy_path: str = "taxonomy.toml",
    alerts_path: str = "alerts.toml",
    replay: str | None = None,
    source_ids: list[str] | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One ingestion run: every enabled source (or those named), then the alerts it raised."""
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
