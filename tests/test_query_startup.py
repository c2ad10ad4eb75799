"""The query commands an analyst runs all day (``search``, ``show``, ``alerts list``, ``runs``,
``runs show``) and the ``health`` a monitor runs every few minutes read a plain SQLite file
through the standard library: none of them imports SQLAlchemy,
pydantic, Prefect, Alembic or psycopg, whose imports alone would cost more than the answer.
How fast they are is measured in ``bench/``; here, only what they import."""

from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.alerting import alerts_toml, ingest, jsonl_channel

from pipeline.store import db

HEAVY = ("sqlalchemy", "pydantic", "prefect", "alembic", "psycopg")
# Runs one command as the ``newswatch`` script would, then names the heavy modules loaded.
SCRIPT = (
    "import sys\n"
    "from pipeline.cli import app\n"
    "sys.argv = ['newswatch', *sys.argv[1:]]\n"
    "try:\n"
    "    app()\n"
    "except SystemExit as exc:\n"
    "    if exc.code:\n"
    "        raise\n"
    f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r}))\n"
)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, int, int]:
    """A SQLite file holding one run over the recorded fixtures with alerts raised, and an
    article and a story that have alerts, and the run (read only: no test writes)."""
    directory = tmp_path_factory.mktemp("startup")
    url = f"sqlite:///{directory / 'newswatch.db'}"
    db.upgrade(url)
    alerts = alerts_toml(directory, {"jsonl": jsonl_channel(directory / "alerts.jsonl")})
    outcome = ingest(url, alerts)
    assert outcome.status == "completed", outcome.as_dict()
    with sqlite3.connect(directory / "newswatch.db") as connection:
        article_id, story_id = connection.execute(
            "SELECT article_id, story_id FROM alerts ORDER BY id LIMIT 1"
        ).fetchone()
    return url, article_id, story_id, outcome.run_id or 0


def heavy_modules(argv: list[str], cwd: Path) -> tuple[list[str], str]:
    """The heavy modules running ``newswatch argv`` loaded, and what the command printed."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (argv, result.stderr)
    output, _, last = result.stdout.rstrip().rpartition("\n")
    loaded = ast.literal_eval(last)
    assert isinstance(loaded, list)
    return loaded, output


@pytest.mark.parametrize(
    "command",
    [
        ["search", "stablecoin"],
        ["search", "--entity", "hkma", "--group", "article", "--format", "json"],
        ["show", "{article}"],
        ["show", "{article}", "--format", "json"],
        ["show", "story:{story}"],
        ["show", "story:{story}", "--format", "json"],
        ["alerts", "list"],
        ["alerts", "list", "--status", "sent", "--format", "csv"],
        ["runs"],
        ["runs", "--format", "json"],
        ["runs", "show", "{run}"],
        ["runs", "show", "{run}", "--format", "csv"],
        ["health"],
        ["health", "--format", "json"],
        ["health", "--format", "prometheus"],
    ],
    ids=" ".join,
)
def test_a_query_command_imports_nothing_heavy(
    replayed: tuple[str, int, int, int], command: list[str], tmp_path: Path
) -> None:
    url, article_id, story_id, run_id = replayed
    argv = [part.format(article=article_id, story=story_id, run=run_id) for part in command]
    loaded, output = heavy_modules([*argv, "--db", url], tmp_path)
    assert output.strip(), argv
    assert loaded == [], argv
