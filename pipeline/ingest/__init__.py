"""One ingestion run as a cascade of plain stages; the Prefect flow wraps each stage in a task.

    discover  (per source, network)  Source → Leads                      ``fetch.discover_source``
    plan      (whole run, no I/O)    Leads → what to fetch, what is known ``plan.plan_items``
    fetch     (per source, network)  planned Leads → Pages                ``fetch.fetch_items``
    build     (per item, no I/O)     Page → Article                       ``build.build_article``
    process   (per batch, CPU + DB)  Articles → tags → verdicts → rows + alerts
                                                                          ``process.process_batch``

``run.run_ingest`` drives the stages over records that pass one way (``records``);
``launch.run_once`` wires a run: configuration, database, HTTP client, tagger. A source that
fails in discover or fetch is recorded on the run with its error; the others go on. Every write
is keyed on a natural key, so re-running a run adds nothing.
"""

from pipeline.ingest.build import build_article
from pipeline.ingest.fetch import discover_source, fetch_items
from pipeline.ingest.launch import IngestOptions, RunOutcome, load_run_config, run_once
from pipeline.ingest.plan import changed_since, lead_key, plan_items
from pipeline.ingest.process import process_batch
from pipeline.ingest.records import (
    Action,
    BatchResult,
    Fetched,
    Planned,
    RunResult,
    SourceReport,
    StageClock,
)
from pipeline.ingest.run import BATCH_SIZE, Stages, run_ingest

__all__ = [
    "BATCH_SIZE",
    "Action",
    "BatchResult",
    "Fetched",
    "IngestOptions",
    "Planned",
    "RunOutcome",
    "RunResult",
    "SourceReport",
    "StageClock",
    "Stages",
    "build_article",
    "changed_since",
    "discover_source",
    "fetch_items",
    "lead_key",
    "load_run_config",
    "plan_items",
    "process_batch",
    "run_ingest",
    "run_once",
]
