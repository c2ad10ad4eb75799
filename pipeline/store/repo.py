"""Repository: records in, rows out. Every function takes a ``Session`` and never commits.

The caller owns the transaction. Writes are idempotent upserts keyed on natural keys (item key,
article + source, article + rule + channel), so a re-run, a crash mid-run or two runs at once never
duplicate a row. Upserts use the dialect's own ``INSERT … ON CONFLICT`` (SQLite and Postgres).

This module is the one import for callers; each part lives in a module of its own: ``sources``,
``articles`` (with sightings), ``tags``, ``links``, ``runs``, ``outbox`` (alerts) and
``fetch_state``, on the shared statement helpers in ``sql``.
"""

from __future__ import annotations

from pipeline.store.articles import (
    article_id_for_key,
    count_articles,
    dedupe_index,
    existing_item_keys,
    insert_article,
    record_sighting,
    stored_markers,
    update_article,
)
from pipeline.store.fetch_state import Validators, fetch_state_get, fetch_state_put
from pipeline.store.links import link_values, replace_article_tags
from pipeline.store.outbox import (
    MAX_ALERT_ATTEMPTS,
    enqueue_alert,
    list_alerts,
    mark_alert_failed,
    mark_alert_sent,
    pending_alerts,
)
from pipeline.store.runs import (
    RunRecord,
    RunSourceRecord,
    finish_run,
    get_run,
    latest_runs,
    record_source_result,
    run_record_dict,
    start_run,
)
from pipeline.store.sources import sync_sources
from pipeline.store.tags import upsert_tags

__all__ = [
    "MAX_ALERT_ATTEMPTS",
    "RunRecord",
    "RunSourceRecord",
    "Validators",
    "article_id_for_key",
    "count_articles",
    "dedupe_index",
    "enqueue_alert",
    "existing_item_keys",
    "fetch_state_get",
    "fetch_state_put",
    "finish_run",
    "get_run",
    "insert_article",
    "latest_runs",
    "link_values",
    "list_alerts",
    "mark_alert_failed",
    "mark_alert_sent",
    "pending_alerts",
    "record_sighting",
    "record_source_result",
    "replace_article_tags",
    "run_record_dict",
    "start_run",
    "stored_markers",
    "sync_sources",
    "update_article",
    "upsert_tags",
]
