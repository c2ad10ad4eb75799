"""Shared fixtures: a database per test (SQLite always, Postgres when configured), migrated or not.

Postgres tests run when ``NEWSWATCH_TEST_POSTGRES_URL`` names a server; each gets a fresh database
``newswatch_test_<hex>`` that is dropped afterwards, since the server is shared and reused. Without
the variable they are skipped; with it but no server reachable they error (they must not pass
silently in CI). ``NEWSWATCH_PG_REPORT`` names a file that receives the number of Postgres tests
that passed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fault_site import FaultSite
from local_site import LocalSite
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pipeline.store import db

POSTGRES_URL_ENV = "NEWSWATCH_TEST_POSTGRES_URL"
POSTGRES_REPORT_ENV = "NEWSWATCH_PG_REPORT"
DATABASE_PREFIX = "newswatch_test_"

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the server at ``server_url``, dropped on exit."""
    name = DATABASE_PREFIX + secrets.token_hex(6)
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except OperationalError as exc:
            shown = make_url(server_url).render_as_string(hide_password=True)
            raise RuntimeError(
                f"{POSTGRES_URL_ENV} is set but Postgres at {shown} cannot be used: {exc.orig}"
            ) from exc
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                # Engines a test forgot to dispose still hold connections; end them first.
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """An empty database of ``kind`` ("sqlite" or "postgres"); Postgres skips when unset."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'newswatch.db'}"
        return
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if not server_url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: no Postgres server to test against")
    with postgres_database(server_url) as url:
        yield url


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database, once per dialect."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def migrated_db_url(db_url: str) -> str:
    """URL of a database migrated to the latest revision."""
    db.upgrade(db_url)
    return db_url


@pytest.fixture(scope="module", params=DIALECTS)
def module_migrated_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a migrated database shared by a module's tests (for tests that only read)."""
    with database(request.param, tmp_path_factory.mktemp("db")) as url:
        db.upgrade(url)
        yield url


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[Engine]:
    """An engine on a migrated database, disposed after the test."""
    engine = db.make_engine(migrated_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on a migrated database; the test commits what it wants kept."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def local_site() -> Iterator[LocalSite]:
    """A real HTTP server on 127.0.0.1 whose answers the test sets; stopped after the test."""
    site = LocalSite().start()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def fault_site() -> Iterator[FaultSite]:
    """A misbehaving HTTP server on 127.0.0.1 (``fault_site.py``); stopped, stalled handlers
    woken, after the test."""
    site = FaultSite().start()
    try:
        yield site
    finally:
        site.stop()


_postgres_passed = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the Postgres tests that passed, for CI to check that Postgres was really tested."""
    global _postgres_passed
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the count of passed Postgres tests where ``NEWSWATCH_PG_REPORT`` says."""
    path = os.environ.get(POSTGRES_REPORT_ENV)
    if path:
        Path(path).write_text(f"{_postgres_passed}\n", encoding="utf-8")
