"""Stored fingerprints kept decoded between batches: bounded, reused only while the row they
came from is unchanged, and shingles only for the text they were made from."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from support import REPO

from pipeline.ingest import IngestOptions, run_once
from pipeline.store import db, repo, schema
from pipeline.store.print_cache import Lru
from pipeline.stories.shingles import shingle_hashes, tokens


def test_lru_keeps_the_most_recently_used_within_its_summed_size() -> None:
    cache: Lru[str, str] = Lru(10)
    cache.put("a", "first", 4)
    cache.put("b", "second", 4)
    assert cache.get("a") == "first"  # now the most recently used
    cache.put("c", "third", 4)
    assert cache.get("b") is None and cache.get("a") == "first" and cache.get("c") == "third"
    cache.put("huge", "too big to keep", 11)
    assert cache.get("huge") is None and cache.get("a") == "first"
    cache.put("a", "again", 6)  # replacing a value counts its new size only
    assert cache.get("a") == "again" and cache.get("c") == "third"


@pytest.fixture
def replayed(migrated_db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database holding one replayed run of the fixtures."""
    alerts = tmp_path / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    options = IngestOptions(
        db_url=migrated_db_url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
        replay=REPO / "fixtures" / "http",
    )
    assert asyncio.run(run_once(options)).status == "completed"
    engine = db.make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def test_a_decoded_print_is_reused_only_while_its_row_is_unchanged(replayed: Engine) -> None:
    with Session(replayed) as session, session.begin():
        article_id = session.scalar(
            select(schema.Article.id).where(schema.Article.lang == "en").limit(1)
        )
        assert article_id is not None
        first = repo.load_prints(session, [article_id])[0]
        assert repo.load_prints(session, [article_id])[0] is first  # decoded once
        session.execute(
            update(schema.ArticlePrint)
            .where(schema.ArticlePrint.article_id == article_id)
            .values(tags='["topic:something-new"]')
        )
        retagged = repo.load_prints(session, [article_id])[0]
    assert retagged is not first and retagged.print.tags == {"topic:something-new"}
    assert retagged.print.words.tolist() == first.print.words.tolist()


def test_shingles_are_kept_by_the_hash_of_the_text_they_came_from(replayed: Engine) -> None:
    with Session(replayed) as session, session.begin():
        row = session.scalars(
            select(schema.Article).where(schema.Article.content_hash != "").limit(1)
        ).one()
        stored = repo.load_prints(session, [row.id])
        fresh = repo.with_shingles(session, stored, [row.id])[0].print.shingles
        assert fresh is not None
        assert np.array_equal(fresh, shingle_hashes(tokens(row.text)))
        # Kept under the content hash: the text is not read again while the hash is the same.
        session.execute(update(schema.Article).where(schema.Article.id == row.id).values(text=""))
        again = repo.with_shingles(session, stored, [row.id])[0].print.shingles
        assert again is fresh
        # Another hash (an edited text) is another text: its shingles come from it.
        session.execute(
            update(schema.Article)
            .where(schema.Article.id == row.id)
            .values(text="A different text altogether, of a few words.", content_hash="edited")
        )
        edited = repo.with_shingles(session, repo.load_prints(session, [row.id]), [row.id])
    shingles = edited[0].print.shingles
    assert shingles is not None and not np.array_equal(shingles, fresh)
    assert np.array_equal(
        shingles, shingle_hashes(tokens("A different text altogether, of a few words."))
    )
