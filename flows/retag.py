"""The retag flow: re-tag stored articles after ``taxonomy.toml`` changes.

One task per batch of articles, so progress shows in the flow run and a failed batch names
itself; batches are written in their own transactions, so a re-run picks up where one stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE as NO_CACHE
from sqlalchemy.orm import Session

from pipeline.retag import RETAG_BATCH, RetagReport, article_ids_to_retag, retag_batch
from pipeline.store import db
from pipeline.store.tags import sync_taxonomy
from pipeline.tag import Tagger


@task(name="retag-batch", cache_policy=NO_CACHE)
def retag_batch_task(db_url: str, tagger: Tagger, ids: list[int]) -> RetagReport:
    """Re-tag one batch of articles in its own transaction."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            return retag_batch(session, tagger, ids)
    finally:
        engine.dispose()


@flow(name="retag", log_prints=True)
def retag(
    db_url: str, taxonomy_path: str = "taxonomy.toml", all_articles: bool = False
) -> dict[str, Any]:
    """Re-tag the articles tagged with another taxonomy version (or all); per-tag gains/losses."""
    tagger = Tagger.from_path(Path(taxonomy_path))
    report = RetagReport(taxonomy_version=tagger.version)
    engine = db.make_engine(db_url)
    try:
        db.check_schema(engine)
        with Session(engine) as session, session.begin():
            sync_taxonomy(session, tagger)
            ids = article_ids_to_retag(session, tagger.version, all_articles=all_articles)
    finally:
        engine.dispose()
    for start in range(0, len(ids), RETAG_BATCH):
        report.merge(retag_batch_task(db_url, tagger, ids[start : start + RETAG_BATCH]))
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            report.fill_names(session)
    finally:
        engine.dispose()
    print(
        f"retag to taxonomy {report.taxonomy_version}: {report.considered} considered,"
        f" {report.rewritten} rewritten"
    )
    return report.as_dict()
