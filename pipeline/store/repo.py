"""The store's one public API for writes and lookups: records in, rows out.

Every function takes a ``Session`` and never commits: the caller owns the transaction. Writes
are idempotent upserts keyed on natural keys (item key, article + source, rule + story +
channel + event), so a re-run, a crash mid-run or two runs at once never duplicate a row.
Upserts use the dialect's own ``INSERT … ON CONFLICT`` (SQLite and Postgres).

Each part lives in a module of its own: ``sources``, ``articles`` (with sightings), ``tags``,
``links``, ``prints`` (fingerprints), ``candidates`` (the articles a batch may join),
``stories``, ``runs`` (read back by ``run_reads``), ``outbox`` (alert rows owed, claimed and
marked) and ``fetch_state``, on the shared statement helpers in ``sql``. Code outside
``pipeline.store`` imports this module (and ``db``, ``search``, ``story_reads``,
``alert_reads``, ``run_reads``), never those parts.
"""

from __future__ import annotations

from pipeline.store.articles import (
    NewArticle,
    SightingRow,
    article_id_for_key,
    article_ids_for_keys,
    article_ids_to_retag,
    articles_to_tag,
    insert_article,
    insert_articles,
    mark_copies,
    record_sightings,
    stored_markers,
    stored_text_lengths,
    update_article,
)
from pipeline.store.candidates import find_candidates
from pipeline.store.fetch_state import (
    DbValidatorStore,
    fetch_state_get,
    fetch_state_put,
    save_validators,
)
from pipeline.store.links import LinkChange, insert_link_rows, link_values, rewrite_links
from pipeline.store.outbox import (
    ClaimedRow,
    alerted_channels,
    claim_alerts,
    claimers_sending,
    enqueue_alerts,
    mark_failed,
    mark_sent,
    outbox_counts,
    retry_alerts,
)
from pipeline.store.prints import (
    StoredPrint,
    article_tag_ids,
    articles_in_time_order,
    file_prints,
    filed_keys,
    fresh_prints,
    load_prints,
    story_count,
    tags_json,
    with_shingles,
    with_time,
)
from pipeline.store.run_reads import RunRecord, RunSourceRecord, latest_runs, run_record_dict
from pipeline.store.runs import (
    finish_run,
    is_first_run,
    record_source_result,
    start_run,
    touch_run,
)
from pipeline.store.source_state import (
    SourceState,
    pause_source,
    record_attempts,
    resume_source,
    source_states,
)
from pipeline.store.sources import sync_sources
from pipeline.store.sql import utc_now
from pipeline.store.stories import (
    Joining,
    Placement,
    create_stories,
    drop_links,
    place_articles,
    plan_stories,
    refresh_stories,
    set_stories,
    split_off,
    stored_links,
    stories_of,
    write_links,
)
from pipeline.store.tags import sync_taxonomy, tag_names, upsert_tags

__all__ = [
    "ClaimedRow",
    "DbValidatorStore",
    "Joining",
    "LinkChange",
    "NewArticle",
    "Placement",
    "RunRecord",
    "RunSourceRecord",
    "SightingRow",
    "SourceState",
    "StoredPrint",
    "alerted_channels",
    "article_id_for_key",
    "article_ids_for_keys",
    "article_ids_to_retag",
    "article_tag_ids",
    "articles_in_time_order",
    "articles_to_tag",
    "claim_alerts",
    "claimers_sending",
    "create_stories",
    "drop_links",
    "enqueue_alerts",
    "fetch_state_get",
    "fetch_state_put",
    "file_prints",
    "filed_keys",
    "find_candidates",
    "finish_run",
    "fresh_prints",
    "insert_article",
    "insert_articles",
    "insert_link_rows",
    "is_first_run",
    "latest_runs",
    "link_values",
    "load_prints",
    "mark_copies",
    "mark_failed",
    "mark_sent",
    "outbox_counts",
    "pause_source",
    "place_articles",
    "plan_stories",
    "record_attempts",
    "record_sightings",
    "record_source_result",
    "refresh_stories",
    "resume_source",
    "retry_alerts",
    "rewrite_links",
    "run_record_dict",
    "save_validators",
    "set_stories",
    "source_states",
    "split_off",
    "start_run",
    "stored_links",
    "stored_markers",
    "stored_text_lengths",
    "stories_of",
    "story_count",
    "sync_sources",
    "sync_taxonomy",
    "tag_names",
    "tags_json",
    "touch_run",
    "update_article",
    "upsert_tags",
    "utc_now",
    "with_shingles",
    "with_time",
    "write_links",
]
