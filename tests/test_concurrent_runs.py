"""Two ``newswatch ingest`` processes started at once on the same sources and database store
what one run stores: every article once, each in one story, its tag links and sightings once,
and one alert per (rule, story, channel, event), delivered once.

On Postgres both runs write at once and both complete. On SQLite one writer waits for the
other (the busy timeout, ``pipeline/store/db.py``); a run may also stop with a message that
names the lock, never a traceback, and nothing is lost. Each run gets a Prefect home of its
own, as two machines or two users would, or both share one, as two runs started from one
account do; Prefect must not lose either run then.

The corpus (``support/corpus.py``) is 420 articles in three RSS feeds on a real HTTP server on
127.0.0.1; the uninterrupted run compared with goes through the same stages in this process.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from support.corpus import alerts_toml
from support.crash_fixtures import Baselines, CorpusFiles, baselines, corpus, dialect
from support.receivers import WebhookReceiver, http_receiver
from support.store_state import (
    POLL_STEP,
    RUN_TIMEOUT,
    count_articles,
    differences,
    kill,
    read_state,
    run_overlap,
    run_statuses,
    start_ingest,
    story_problems,
)

__all__ = ["baselines", "corpus", "http_receiver"]


def _run_both(
    db_url: str, sources: Path, alerts: Path, folder: Path, shared_home: bool
) -> list[tuple[int, str, float]]:
    """Start two runs at once; each one's exit status, output and seconds to its end."""
    started = time.monotonic()
    runs = []
    for number in (1, 2):
        env = {} if shared_home else {"PREFECT_HOME": str(folder / f"prefect-{number}")}
        log = folder / f"run-{number}.log"
        runs.append((start_ingest(db_url, sources, alerts, log, env), log))
    ended: dict[int, float] = {}
    try:
        while len(ended) < len(runs) and time.monotonic() - started < RUN_TIMEOUT:
            for index, (process, _) in enumerate(runs):
                if index not in ended and process.poll() is not None:
                    ended[index] = time.monotonic() - started
            time.sleep(POLL_STEP)
    finally:
        for process, _ in runs:
            kill(process)
    assert len(ended) == len(runs), "a run did not end in time"
    return [
        (process.returncode, log.read_text(encoding="utf-8", errors="replace"), ended[index])
        for index, (process, log) in enumerate(runs)
    ]


def test_two_runs_at_once_store_everything_once(
    db_url: str,
    corpus: CorpusFiles,
    baselines: Baselines,
    http_receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    _two_runs(db_url, corpus, baselines, http_receiver, tmp_path, shared=False)


def test_two_runs_sharing_a_prefect_home_store_everything_once(
    corpus: CorpusFiles,
    baselines: Baselines,
    http_receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    # Prefect's part does not depend on the database: SQLite, which every CI run has.
    db_url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    _two_runs(db_url, corpus, baselines, http_receiver, tmp_path, shared=True)


def _two_runs(
    db_url: str,
    corpus: CorpusFiles,
    baselines: Baselines,
    http_receiver: WebhookReceiver,
    tmp_path: Path,
    *,
    shared: bool,
) -> None:
    """Two runs at once into an empty database; check what they stored and delivered."""
    alerts = alerts_toml(tmp_path / "alerts.toml", http_receiver.apprise_url())

    results = _run_both(db_url, corpus.sources, alerts, tmp_path, shared)

    # Shown with the output of a failing test: how long each run took, and how long both ran.
    print("seconds to each run's end:", [round(seconds, 1) for *_, seconds in results])
    for code, output, _ in results:
        assert "Traceback" not in output, output[-3000:]
        assert "database is locked" not in output, output[-3000:]
        if dialect(db_url) == "postgres" or code == 0:
            assert code == 0, output[-3000:]
        else:
            # SQLite may refuse the second writer, but only saying why, before it stored anything.
            assert "lock" in output.lower(), output[-3000:]
    assert "completed" in run_statuses(db_url)
    if len(run_statuses(db_url)) == 2:
        print(f"seconds both runs ran at once: {run_overlap(db_url):.1f}")
    state = read_state(db_url)
    assert count_articles(db_url) == len(state.articles) == corpus.site.corpus.size
    assert differences(state, baselines.state(db_url)) == {}
    assert all(count == 1 for count in state.alerts.values())
    assert {status for *_, status in state.alerts} == {"sent"}
    assert story_problems(db_url) == []
    # Each message reached the receiver once: the two senders never took the same row.
    keys = Counter(request.key for request in http_receiver.requests)
    assert len(keys) == len(state.alerts)
    assert set(keys.values()) == {1}
