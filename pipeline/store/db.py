"""Database URLs, engines and migrations: where the data lives and whether its schema is current.

SQLite connections get WAL (readers never block the writer), foreign keys (off by default in
SQLite) and a busy timeout; Postgres is used as configured. Migrations are Alembic's, configured
here in code so no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import pipeline
from pipeline.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DB_URL = "sqlite:///newswatch.db"
DB_URL_ENV = "NEWSWATCH_DB_URL"
# Two runs, or a run and the alert sender, may write at once; SQLite then makes one wait. 30 s
# covers the longest batch transaction seen (a 200-article batch takes well under a second).
SQLITE_BUSY_TIMEOUT_MS = 30_000
# The Alembic revision this code expects. Kept here so that checking a database (every CLI query)
# does not import Alembic, which costs about 0.1 s; a test keeps it equal to the migrations' head.
HEAD_REVISION = "0003"
MIGRATIONS_DIR = Path(pipeline.__file__).resolve().parents[1] / "db"


def resolve_db_url(explicit: str | None) -> str:
    """The database URL: ``explicit``, else ``$NEWSWATCH_DB_URL``, else the SQLite default."""
    return explicit or os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


def display_url(url: str) -> str:
    """``url`` with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        hint = " (for Postgres use postgresql+psycopg://…)" if isinstance(exc, ImportError) else ""
        raise StoreError(f"database URL {display_url(url)!r} is not usable: {exc}{hint}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; loaded objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None when it was never migrated."""
    url = engine.url.render_as_string(hide_password=True)
    if _missing_sqlite_file(engine):
        return None  # connecting would create an empty file where the user mistyped a path
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read database {url}: {_reason(exc)}") from exc


def _missing_sqlite_file(engine: Engine) -> bool:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).expanduser().exists()


def check_schema(engine: Engine) -> None:
    """Raise ``StoreError`` unless the database is migrated to the latest revision."""
    revision = current_revision(engine)
    if revision != HEAD_REVISION:
        url = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"database {url} is not migrated: run `newswatch db upgrade`")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` using the migrations in the repository's ``db/``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The config parser treats % as interpolation; URL-encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations to ``url`` up to ``revision`` (the latest by default)."""
    _migrate(url, "upgrade", revision)


def downgrade(url: str, revision: str) -> None:
    """Revert the migrations of ``url`` down to ``revision`` (``base`` removes everything)."""
    _migrate(url, "downgrade", revision)


def _migrate(url: str, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.util.exc import CommandError

    make_engine(url).dispose()  # a clear error for a bad URL before Alembic sees it
    _ensure_sqlite_directory(url)
    try:
        getattr(command, direction)(alembic_config(url), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot {direction} database {display_url(url)}: {_reason(exc)}") from exc
    except CommandError as exc:
        raise StoreError(f"cannot {direction} database {display_url(url)}: {exc}") from exc


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


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message without SQLAlchemy's statement dump and help link."""
    original = getattr(exc, "orig", None)
    return str(original or exc).strip().splitlines()[0]
