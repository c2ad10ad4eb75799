"""The retag flow: the library's retag, with each batch of articles a Prefect task.

A task per batch shows progress in the flow run and names a failed batch; batches are written
in their own transactions, so a re-run picks up where one stopped.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE as NO_CACHE

from flows.served_runs import end_with_serve
from pipeline.retag import retag_articles, retag_one_batch
from pipeline.settings import find_config_files
from pipeline.store import db
from pipeline.tag import Tagger

retag_batch_task = task(name="retag-batch", cache_policy=NO_CACHE)(retag_one_batch)


@flow(name="retag", log_prints=True)
def retag(
    db_url: str | None = None,
    config_dir: str | None = None,
    taxonomy_path: str | None = None,
    all_articles: bool = False,
) -> dict[str, Any]:
    """Re-tag the articles tagged with another taxonomy version (or all); per-tag gains/losses."""
    end_with_serve()
    files = find_config_files(config_dir, taxonomy=taxonomy_path)
    tagger = Tagger.from_path(files.taxonomy.path)
    engine = db.open_engine(db.resolve_db_url(db_url))
    try:
        report = retag_articles(
            engine, tagger, all_articles=all_articles, run_batch=retag_batch_task
        )
    finally:
        engine.dispose()
    print(
        f"retag to taxonomy {report.taxonomy_version}: {report.considered} considered,"
        f" {report.rewritten} rewritten"
    )
    return report.as_dict()
