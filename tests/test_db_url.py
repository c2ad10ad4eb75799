"""Naming a database: a URL or a plain SQLite path; a bad one is one clear line; ``ingest``
creates the schema of a new database itself and refuses one at an older schema untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text
from support import REPO
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import StoreError
from pipeline.store import db

REPLAY = REPO / "fixtures" / "http"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_plain_path_is_a_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.DB_URL_ENV, raising=False)
    assert db.resolve_db_url("newswatch.db") == "sqlite:///newswatch.db"
    assert db.resolve_db_url("/var/lib/nw/news.db") == "sqlite:////var/lib/nw/news.db"
    assert db.resolve_db_url("postgresql://u@h/n") == "postgresql+psycopg://u@h/n"
    assert db.resolve_db_url("postgres://u@h/n") == "postgresql+psycopg://u@h/n"
    monkeypatch.setenv(db.DB_URL_ENV, "data/news.db")
    assert db.resolve_db_url(None) == "sqlite:///data/news.db"


def test_upgrade_through_a_plain_path_creates_that_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", str(tmp_path / "plain.db")])
    assert result.exit_code == 0, result.output
    engine = db.make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    try:
        assert db.schema_state(engine) is db.SchemaState.current
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://user:s3cret@host/db", "database URL 'mysql://user:***@host/db' is not usable"),
        ("oracle+cx://h/x", "database URL 'oracle+cx://h/x' is not usable"),
        ("sqlite+nodriver:///x.db", "database URL 'sqlite+nodriver:///x.db' is not usable"),
        ("://", "database URL '://' is not usable: not a URL"),
    ],
)
@pytest.mark.parametrize("command", [["search", "x"], ["db", "upgrade"], ["runs"]])
def test_an_unusable_url_is_one_line_naming_it(
    url: str, shown: str, command: list[str]
) -> None:
    result = CliRunner().invoke(app, [*command, "--db", url])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {shown}")
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_schema_states(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'states.db'}"
    engine = db.make_engine(url)
    try:
        assert db.schema_state(engine) is db.SchemaState.empty
        db.upgrade(url, "0001")
        assert db.schema_state(engine) is db.SchemaState.behind
        db.upgrade(url)
        assert db.schema_state(engine) is db.SchemaState.current
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        assert db.schema_state(engine) is db.SchemaState.ahead
        with pytest.raises(StoreError, match="migrated by a newer newswatch"):
            db.check_schema(engine)
    finally:
        engine.dispose()


def test_a_database_of_someone_else_is_not_taken(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE invoices (id INTEGER)"))
        assert db.schema_state(engine) is db.SchemaState.foreign
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="holds tables but no newswatch schema"):
        db.prepare_schema(url)


def test_ingest_refuses_an_older_schema_and_touches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db.upgrade(f"sqlite:///{path}", "0001")
    before = digest(path)
    result = CliRunner().invoke(
        app, ["ingest", "--replay", str(REPLAY), "--db", str(path), "--source", "hkma-press"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: database sqlite:///{path} is at an older schema than this newswatch needs"
        f" ({db.HEAD_REVISION}): run `newswatch db upgrade`"
    )
    assert digest(path) == before


@pytest.mark.flow
def test_ingest_creates_the_schema_of_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "new.db"
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--replay",
            str(REPLAY),
            "--db",
            str(path),
            "--source",
            "hkma-press",
            "--now",
            "2025-11-20",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        assert db.schema_state(engine) is db.SchemaState.current
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM articles")).scalar()
        assert stored and stored > 0
    finally:
        engine.dispose()
