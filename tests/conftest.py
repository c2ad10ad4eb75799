"""Shared fixtures: a database per test (SQLite always, Postgres when configured), migrated or not.

Postgres tests run when ``NEWSWATCH_TEST_POSTGRES_URL`` names a server; each gets a fresh database
``newswatch_test_<hex>`` that is dropped afterwards, since the server is shared and reused. Without
the variable they are skipped; with it but no server reachable they error (they must not pass
silently in CI). ``NEWSWATCH_PG_REPORT`` names a file that receives the number of Postgres tests
that passed.

Tests that read the data folder beside the repository (``../shared``, see ``support/shared.py``)
skip when it is absent; ``NEWSWATCH_SHARED_REPORT`` names a file that receives the number of
those skips, which CI requires to be 0.

No test writes in the repository: each runs in its own temporary working directory (so relative
paths such as the shipped ``alerts.toml``'s ``alerts.jsonl`` land there), Prefect's home is a
temporary folder of the session, and ``test_worktree.py``, run last, checks the tree is unchanged.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from support import REPO
from support.fault_site import FaultSite
from support.local_site import LocalSite
from support.shared import is_shared_skip
from support.worktree import SESSION_START, snapshot

from pipeline.settings import ALLOW_HOSTS_ENV
from pipeline.store import db

POSTGRES_URL_ENV = "NEWSWATCH_TEST_POSTGRES_URL"
POSTGRES_REPORT_ENV = "NEWSWATCH_PG_REPORT"
SHARED_REPORT_ENV = "NEWSWATCH_SHARED_REPORT"
# Prefect settings that name a file or folder, each otherwise derived from PREFECT_HOME: one set
# in the environment would still send Prefect's writes there.
PREFECT_PATH_SETTINGS = (
    "PREFECT_PROFILES_PATH",
    "PREFECT_LOGGING_SETTINGS_PATH",
    "PREFECT_LOGGING_CONFIG_PATH",
    "PREFECT_LOCAL_STORAGE_PATH",
    "PREFECT_RESULTS_LOCAL_STORAGE_PATH",
    "PREFECT_MEMO_STORE_PATH",
    "PREFECT_SERVER_MEMO_STORE_PATH",
    "PREFECT_API_DATABASE_CONNECTION_URL",
    "PREFECT_SERVER_DATABASE_CONNECTION_URL",
)
WORKTREE_TEST = "test_worktree.py"
PREFECT_HOME = pytest.StashKey[Path]()
DATABASE_PREFIX = "newswatch_test_"

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def pytest_configure(config: pytest.Config) -> None:
    """Give Prefect a home of its own for the session, before any test module imports it."""
    if "prefect" in sys.modules:
        raise pytest.UsageError(
            "Prefect was imported before tests/conftest.py could set PREFECT_HOME; "
            "it would write into the configured home"
        )
    # Prefect reads its settings once, when imported; the Makefile points PREFECT_HOME into
    # the repository, for `make run`.
    # The local test servers listen on 127.0.0.1, which the network boundary refuses unless
    # allowed; other loopback addresses (127.0.0.2) stand for internal hosts and stay refused.
    os.environ[ALLOW_HOSTS_ENV] = "127.0.0.1"
    home = Path(tempfile.mkdtemp(prefix="newswatch-prefect-"))
    config.stash[PREFECT_HOME] = home
    os.environ["PREFECT_HOME"] = str(home)
    for name in PREFECT_PATH_SETTINGS:
        os.environ.pop(name, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's Prefect home."""
    home = config.stash.get(PREFECT_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Snapshot the working tree, for ``test_worktree.py`` to compare at the end."""
    session.config.stash[SESSION_START] = snapshot(REPO)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run the working-tree check after every other test."""
    items.sort(key=lambda item: item.path.name == WORKTREE_TEST)


@pytest.fixture(scope="session", autouse=True)
def _session_working_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module and session fixtures run in a temporary directory too, not the repository."""
    previous = Path.cwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    try:
        yield
    finally:
        os.chdir(previous)


@pytest.fixture(autouse=True)
def _working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own ``tmp_path``: what it writes by a relative path stays there."""
    monkeypatch.chdir(tmp_path)


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
    """A misbehaving HTTP server on 127.0.0.1 (``support/fault_site.py``); stopped, stalled
    handlers woken, after the test."""
    site = FaultSite().start()
    try:
        yield site
    finally:
        site.stop()


_postgres_passed = 0
_shared_skipped = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the Postgres tests that passed, for CI to check that Postgres was really tested,
    and the tests skipped for want of ``../shared``, for CI to check that none were."""
    global _postgres_passed, _shared_skipped
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_passed += 1
    if is_shared_skip(report):
        _shared_skipped += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the counts where ``NEWSWATCH_PG_REPORT`` and ``NEWSWATCH_SHARED_REPORT`` say."""
    for variable, count in (
        (POSTGRES_REPORT_ENV, _postgres_passed),
        (SHARED_REPORT_ENV, _shared_skipped),
    ):
        path = os.environ.get(variable)
        if path:
            Path(path).write_text(f"{count}\n", encoding="utf-8")
