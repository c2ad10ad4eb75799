"""Database URLs, engines and migrations: where the data lives and whether its schema is current.

A database is named by a URL (``sqlite:///FILE``, ``postgresql+psycopg://…``) or, for SQLite, by
a plain file path. SQLite connections get WAL (readers never block the writer), foreign keys
(off by default in SQLite) and a busy timeout; Postgres is used as configured. Migrations are
Alembic's, shipped inside the package (``pipeline/store/migrations``) and configured here in
code, so no ``alembic.ini`` is needed and an installed copy migrates from any directory. Two
runs started at once on a new database create its schema once: the second waits for the first.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from pipeline.errors import StoreError
from pipeline.settings import DB_URL_ENV, DEFAULT_DB_URL
from pipeline.store.dburl import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    SchemaState,
    judge_schema,
    resolve_db_url,
    schema_problem,
)

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_URL",
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "SchemaState",
    "resolve_db_url",
]
# Two runs, or a run and the alert sender, may write at once; SQLite then makes one wait. 30 s
# covers the longest batch transaction seen (a 200-article batch takes well under a second).
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per connection, in KiB (SQLite's default is 2 MiB). A batch probes some fifty keys
# per article all over the article_keys index; at a million articles the index's inner pages
# alone pass 2 MiB, so every probe re-read them from the OS (bench/dedupe_scale.py). Pages
# are taken as they are read, so a small database never uses this much.
SQLITE_CACHE_KIB = 65_536
# Between tries to switch a file to WAL while another connection switches it: short, since the
# other connection holds its lock for the few milliseconds a header write takes.
WAL_SWITCH_RETRY_S = 0.01
# Any fixed number: the Postgres advisory lock that lets one process at a time create the schema.
SCHEMA_LOCK_KEY = 7_312_005_911
# The backends newswatch's schema and queries are written for.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SUPPORTED_HINT = "use sqlite:///FILE (or a plain file path) or postgresql+psycopg://USER@HOST/DB"


def display_url(url: str) -> str:
    """``url`` with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # The timeout first: switching a new file to WAL waits for a writer like any write.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode, waiting out another connection doing the same.

    Switching upgrades a read lock to a write lock, which SQLite refuses at once, without its
    busy handler, while another connection holds one: two runs opening a new file together.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_SWITCH_RETRY_S)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout.

    ``StoreError`` naming the URL (password masked) when it is malformed or not SQLite/Postgres.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"database URL {display_url(url)!r} is not usable: not a URL ({SUPPORTED_HINT})"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"database URL {display_url(url)!r} is not usable: {backend!r} is not supported"
            f" ({SUPPORTED_HINT})"
        )
    try:
        engine = create_engine(parsed, pool_pre_ping=backend != "sqlite")
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"database URL {display_url(url)!r} is not usable: {reason} ({SUPPORTED_HINT})"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_engine(url: str) -> Engine:
    """An engine for ``url`` whose schema is current; ``StoreError`` saying what to do if not."""
    engine = make_engine(url)
    try:
        check_schema(engine)
    except StoreError:
        engine.dispose()
        raise
    return engine


def _inspect(engine: Engine) -> tuple[str | None, bool]:
    """(Alembic revision or None, whether the database holds any other table)."""
    url = engine.url.render_as_string(hide_password=True)
    if _missing_sqlite_file(engine):
        return None, False  # connecting would create an empty file where a path was mistyped
    try:
        with engine.connect() as connection:
            return _revision_and_tables(connection)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read database {url}: {reason_of(exc)}") from exc


def _revision_and_tables(connection: Connection) -> tuple[str | None, bool]:
    tables = set(inspect(connection).get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision, bool(tables - {"alembic_version"})


def schema_state(engine: Engine) -> SchemaState:
    """Whether the database is empty, current, behind or ahead of this code, or not ours."""
    return judge_schema(*_inspect(engine))


def _missing_sqlite_file(engine: Engine) -> bool:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).expanduser().exists()


def check_schema(engine: Engine) -> None:
    """Raise ``StoreError`` saying what to do unless the database is at the latest revision."""
    state = schema_state(engine)
    if state is not SchemaState.current:
        raise StoreError(_schema_problem(engine, state))


def prepare_schema(url: str) -> bool:
    """Make a new, empty database ready for a run (True when its schema was created here).

    A database at an older revision is left untouched: ``StoreError`` says to run
    ``newswatch db upgrade`` (an upgrade is the operator's decision, with a backup first).
    Two processes preparing one new database at once (two runs started together) create the
    schema once: the second waits for the first, then finds it current.
    """
    engine = make_engine(url)
    try:
        state = schema_state(engine)
    finally:
        engine.dispose()
    if state is SchemaState.current:
        return False
    if state is not SchemaState.empty:
        raise StoreError(_schema_problem(engine, state))
    return _create_schema(url)


def _create_schema(url: str) -> bool:
    """Migrate an empty database in one transaction that first takes the schema lock (SQLite's
    write lock, a Postgres advisory lock); False when another process created it meanwhile."""
    from alembic import command
    from alembic.util.exc import CommandError

    _ensure_sqlite_directory(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
                )
            # Another process may have created the schema while this one waited for the lock.
            state = judge_schema(*_revision_and_tables(connection))
            if state is SchemaState.current:
                return False
            if state is not SchemaState.empty:
                raise StoreError(_schema_problem(engine, state))
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
            return True
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot upgrade database {display_url(url)}: {reason_of(exc)}") from exc
    except CommandError as exc:
        raise StoreError(f"cannot upgrade database {display_url(url)}: {exc}") from exc
    finally:
        engine.dispose()


def _schema_problem(engine: Engine, state: SchemaState) -> str:
    return schema_problem(engine.url.render_as_string(hide_password=True), state)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` using the migrations shipped in the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The config parser treats % as interpolation; URL-encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations to ``url`` up to ``revision`` (the latest by default)."""
    from alembic import command
    from alembic.util.exc import CommandError

    make_engine(url).dispose()  # a clear error for a bad URL before Alembic sees it
    _ensure_sqlite_directory(url)
    try:
        command.upgrade(alembic_config(url), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot upgrade database {display_url(url)}: {reason_of(exc)}") from exc
    except CommandError as exc:
        raise StoreError(f"cannot upgrade database {display_url(url)}: {exc}") from exc


def _ensure_sqlite_directory(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        directory = Path(parsed.database).expanduser().parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"database {display_url(url)}: cannot create directory {directory}: {exc}"
            ) from exc


def reason_of(exc: SQLAlchemyError) -> str:
    """The driver's own message without SQLAlchemy's statement dump and help link."""
    original = getattr(exc, "orig", None)
    return str(original or exc).strip().splitlines()[0]
