"""The store's one public API for writes and lookups: records in, rows out.

Every function takes a ``Session`` and never commits: the caller owns the transaction. Writes
are idempotent upserts keyed on natural keys (item key, article + source, article + rule +
channel), so a re-run, a crash mid-run or two runs at once never duplicate a row. Upserts use
the dialect's own ``INSERT … ON CONFLICT`` (SQLite and Postgres).

Each part lives in a module of its own: ``sources``, ``articles`` (with sightings), ``tags``,
``links``, ``runs``, ``outbox`` (alerts) and ``fetch_state``, on the shared statement helpers in
``sql``. Code outside ``pipeline.store`` imports this module (and ``db``, ``search``), never
those parts.
"""

from __future__ import annotations

from pipeline.store.articles import (
    article_id_for_key,
    article_ids_to_retag,
    articles_to_tag,
    dedupe_matches,
    insert_article,
    record_sighting,
    stored_markers,
    stored_text_lengths,
    update_article,
)
from pipeline.store.fetch_state import (
    DbValidatorStore,
    fetch_state_get,
    fetch_state_put,
    save_validators,
)
from pipeline.store.links import LinkChange, link_values, rewrite_links
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
    latest_runs,
    record_source_result,
    run_record_dict,
    start_run,
)
from pipeline.store.sources import sync_sources
from pipeline.store.tags import sync_taxonomy, tag_names, upsert_tags

__all__ = [
    "MAX_ALERT_ATTEMPTS",
    "DbValidatorStore",
    "LinkChange",
    "RunRecord",
    "RunSourceRecord",
    "article_id_for_key",
    "article_ids_to_retag",
    "articles_to_tag",
    "dedupe_matches",
    "enqueue_alert",
    "fetch_state_get",
    "fetch_state_put",
    "finish_run",
    "insert_article",
    "latest_runs",
    "link_values",
    "list_alerts",
    "mark_alert_failed",
    "mark_alert_sent",
    "pending_alerts",
    "record_sighting",
    "record_source_result",
    "rewrite_links",
    "run_record_dict",
    "save_validators",
    "start_run",
    "stored_markers",
    "stored_text_lengths",
    "sync_sources",
    "sync_taxonomy",
    "tag_names",
    "update_article",
    "upsert_tags",
]
