"""Migrations and connections: upgrade creates everything, downgrade removes it, models agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from support.store import downgrade

from pipeline.errors import StoreError
from pipeline.store import db, repo, schema

TABLES = {
    "sources",
    "articles",
    "tags",
    "article_tags",
    "sightings",
    "fetch_state",
    "runs",
    "run_sources",
    "alerts",
}
SQLITE_TRIGGERS = {"articles_fts_insert", "articles_fts_delete", "articles_fts_update"}
# Nothing listens on port 1, so connecting fails at once.
UNREACHABLE = "postgresql+psycopg://newswatch:s3cret@127.0.0.1:1/newswatch"


def schema_diffs(url: str, *, ignore_search: bool = True) -> list[Any]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            opts: dict[str, Any] = {"compare_type": True}
            if ignore_search:
                opts["include_object"] = lambda _o, name, type_, _r, _c: (
                    not schema.is_search_object(name, type_)
                )
            context = MigrationContext.configure(connection, opts=opts)
            return list(compare_metadata(context, schema.Base.metadata))
    finally:
        engine.dispose()


def search_objects(url: str) -> set[str]:
    """Names of the full-text search objects present in the database."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                rows = connection.execute(
                    text("SELECT name FROM sqlite_master WHERE name LIKE 'articles_fts%'")
                )
                return set(rows.scalars())
            rows = connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'articles' AND column_name = 'search_vector' "
                    "UNION SELECT indexname FROM pg_indexes WHERE tablename = 'articles'"
                )
            )
            return {name for name in rows.scalars() if "search_vector" in name}
    finally:
        engine.dispose()


def test_head_revision_constant_matches_the_migrations() -> None:
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    assert script.get_heads() == [db.HEAD_REVISION]


def test_upgrade_creates_everything_and_downgrade_removes_it(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        with pytest.raises(StoreError, match="is not migrated: run `newswatch db upgrade`"):
            db.check_schema(engine)
        db.upgrade(db_url)
        db.upgrade(db_url)  # already at head: nothing to do, no error
        db.check_schema(engine)
        assert db.schema_state(engine) is db.SchemaState.current
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) >= TABLES | {"alembic_version"}
        assert set(inspector.get_view_names()) >= {"entities", "topics", "story_tags"}
        found = search_objects(db_url)
        if engine.dialect.name == "sqlite":
            assert {"articles_fts", *SQLITE_TRIGGERS} <= found
        else:
            assert found == {"search_vector", "ix_articles_search_vector"}

        downgrade(db_url, "base")
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) == {"alembic_version"}
        assert inspector.get_view_names() == []
        assert search_objects(db_url) == set()
        with pytest.raises(StoreError, match="is not migrated"):
            db.check_schema(engine)
        db.upgrade(db_url)  # and back again
        db.check_schema(engine)
    finally:
        engine.dispose()


def test_models_agree_with_the_migrated_schema(migrated_db_url: str) -> None:
    assert schema_diffs(migrated_db_url) == []
    # The comparison is live: without the filter it reports the search objects the models omit.
    unfiltered = repr(schema_diffs(migrated_db_url, ignore_search=False))
    assert "articles_fts" in unfiltered or "search_vector" in unfiltered


def test_sqlite_connections_use_wal_foreign_keys_a_busy_timeout_and_a_page_cache(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'n.db'}"
    db.upgrade(url)  # creates the missing directories
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            busy = connection.execute(text("PRAGMA busy_timeout")).scalar()
            assert busy == db.SQLITE_BUSY_TIMEOUT_MS
            cache = connection.execute(text("PRAGMA cache_size")).scalar()
            assert cache == -db.SQLITE_CACHE_KIB  # negative: KiB, not pages
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(engine: Any) -> None:
    with Session(engine) as session, pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        repo.record_source_result(
            session, 12345, "no-such-source", status="ok", found=0, new=0, duplicates=0, errors=0
        )
        session.flush()


def test_resolve_db_url_prefers_explicit_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.DB_URL_ENV, raising=False)
    assert db.resolve_db_url(None) == "sqlite:///newswatch.db"
    monkeypatch.setenv(db.DB_URL_ENV, "postgresql+psycopg://u@h/n")
    assert db.resolve_db_url(None) == "postgresql+psycopg://u@h/n"
    assert db.resolve_db_url("sqlite:///other.db") == "sqlite:///other.db"


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://host/db", "sqlite+nodriver:///x"])
def test_bad_url_gives_a_clear_error(url: str) -> None:
    with pytest.raises(StoreError, match="is not usable") as caught:
        db.make_engine(url)
    assert url in str(caught.value)
    with pytest.raises(StoreError, match="is not usable"):
        db.upgrade(url)


def test_unreachable_server_is_named_without_its_password() -> None:
    engine = db.make_engine(UNREACHABLE)
    try:
        with pytest.raises(StoreError, match="cannot read database") as caught:
            db.check_schema(engine)
        assert "127.0.0.1:1" in str(caught.value) and "s3cret" not in str(caught.value)
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="cannot upgrade database") as caught:
        db.upgrade(UNREACHABLE)
    assert "127.0.0.1:1" in str(caught.value) and "s3cret" not in str(caught.value)


def test_checking_a_missing_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    with pytest.raises(StoreError, match="is not migrated"):
        db.check_schema(engine)
    engine.dispose()
    assert not path.exists()


def test_unwritable_sqlite_path_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    url = f"sqlite:///{blocker / 'n.db'}"
    with pytest.raises(StoreError, match="cannot create directory") as caught:
        db.upgrade(url)
    assert str(blocker) in str(caught.value)
