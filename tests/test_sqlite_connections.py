"""SQLite connections opened at once on a new file all get WAL mode, none 'database is locked'.

Switching a file to WAL upgrades a read lock to a write lock, which SQLite refuses at once while
another connection holds one; two runs started together on a new database met that refusal
before the busy timeout could help.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

from sqlalchemy import text

from pipeline.store import db

ROUNDS = 40
PROCESSES_PER_ROUND = 4


def _open_and_report(url: str, start_together: Barrier, results: multiprocessing.Queue) -> None:
    start_together.wait()
    try:
        engine = db.make_engine(url)
        with engine.connect() as connection:
            mode = connection.execute(text("PRAGMA journal_mode")).scalar()
        engine.dispose()
        results.put(str(mode))
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(f"{type(exc).__name__}: {exc}")


def test_connections_opened_at_once_on_a_new_file_all_get_wal(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    outcomes: list[str] = []
    for number in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'new-{number}.db'}"
        start_together = context.Barrier(PROCESSES_PER_ROUND)
        results: multiprocessing.Queue = context.Queue()
        processes = [
            context.Process(target=_open_and_report, args=(url, start_together, results))
            for _ in range(PROCESSES_PER_ROUND)
        ]
        for process in processes:
            process.start()
        outcomes.extend(results.get(timeout=60) for _ in processes)
        for process in processes:
            process.join(timeout=60)
    assert [outcome for outcome in outcomes if outcome != "wal"] == []
