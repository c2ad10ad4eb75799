"""Naming a database and judging its schema, with the standard library alone.

Every command resolves a URL and checks the schema before it reads; the query commands do it
on every call, so this part costs nothing to import (SQLAlchemy alone costs about 0.2 s).
``pipeline.store.db`` builds engines and runs migrations on top of it.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path

from pipeline.settings import DB_URL_ENV, DEFAULT_DB_URL

# The Alembic revision this code expects. Kept here so that checking a database (every CLI query)
# does not import Alembic, which costs about 0.1 s; a test keeps it equal to the migrations' head.
HEAD_REVISION = "0016"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# A password between "user:" and "@" in a URL's authority.
_PASSWORD = re.compile(r"^(?P<head>[^:/?#]+://[^:/?#@]*):[^@/?#]*@")


class SchemaState(StrEnum):
    """Where a database stands against this code's migrations."""

    empty = "empty"
    current = "current"
    behind = "behind"
    ahead = "ahead"
    foreign = "foreign"


def resolve_db_url(explicit: str | None) -> str:
    """The database URL: ``explicit``, else ``$NEWSWATCH_DB_URL``, else the SQLite default.

    A value without ``://`` is a SQLite file path; ``postgresql://`` and ``postgres://`` use
    the psycopg driver, the one installed.
    """
    value = explicit or os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL
    if "://" not in value and value.strip():
        return f"sqlite:///{Path(value).expanduser()}"
    for bare in ("postgresql://", "postgres://"):
        if value.startswith(bare):
            return "postgresql+psycopg://" + value[len(bare) :]
    return value


def mask_password(url: str) -> str:
    """``url`` with any password replaced by ``***``, as SQLAlchemy renders it."""
    return _PASSWORD.sub(r"\g<head>:***@", url, count=1)


def sqlite_file(url: str) -> str | None:
    """The file a plain ``sqlite:///FILE`` URL names; None for any other URL (another backend,
    a driver, in-memory, query parameters), which goes through SQLAlchemy."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    return None if path in ("", ":memory:") else path


def known_revisions() -> set[str]:
    """The revisions this code ships: the migrations' file name prefixes ("0001_initial.py")."""
    return {path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("*.py")}


def judge_schema(revision: str | None, has_other_tables: bool) -> SchemaState:
    """Where a database with this Alembic ``revision`` (None: no version table) stands."""
    if revision is None:
        return SchemaState.foreign if has_other_tables else SchemaState.empty
    if revision == HEAD_REVISION:
        return SchemaState.current
    return SchemaState.behind if revision in known_revisions() else SchemaState.ahead


def schema_problem(shown_url: str, state: SchemaState) -> str:
    """What to do about a database at ``state``, naming it by ``shown_url`` (password masked)."""
    if state is SchemaState.empty:
        return f"database {shown_url} is not migrated: run `newswatch db upgrade`"
    if state is SchemaState.behind:
        return (
            f"database {shown_url} is at an older schema than this newswatch needs"
            f" ({HEAD_REVISION}): run `newswatch db upgrade`"
        )
    if state is SchemaState.ahead:
        return (
            f"database {shown_url} was migrated by a newer newswatch than this one (which knows"
            f" up to {HEAD_REVISION}): upgrade newswatch"
        )
    return f"database {shown_url} holds tables but no newswatch schema: use another database"
