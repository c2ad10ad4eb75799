"""A ``newswatch ingest`` killed (SIGKILL) while fetching, between two process batches or while
sending its alerts, then run again, stores what one uninterrupted run stores: the same articles,
tag links, sightings, stories and alerts, compared by natural keys, nothing twice.

The corpus (``support/corpus.py``) is 2,058 articles in three RSS feeds, three process batches,
served by a real HTTP server on 127.0.0.1; alerts go to a real webhook receiver. The killed run
is a real ``newswatch ingest`` (Prefect and all, in a process group of its own, killed whole);
the run again and the uninterrupted run go through the same stages in this process, without
Prefect's start-up.

What the alerts promise (``pipeline/alerts/deliver.py``): a row is claimed before it is sent.
A sender killed after the receiver took a message and before marking it leaves its rows
``sending``, claimed by a process that is gone; the next sender takes them again and sends the
message once more under the same ``Idempotency-Key``, which the receiver drops. So the message
in flight at the kill arrives twice with one key, every other message exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import SQLAlchemyError
from support.corpus import alerts_toml, article_path
from support.crash_fixtures import (
    Baselines,
    CorpusFiles,
    HoldingReceiver,
    baselines,
    corpus,
    holding_hook,
)
from support.receivers import WebhookReceiver, http_receiver
from support.store_state import (
    count_articles,
    differences,
    ingest_here,
    kill,
    read_state,
    run_statuses,
    start_ingest,
    story_problems,
    wait_for,
)

from pipeline.ingest import BATCH_SIZE, BatchResult, Fetched, Stages, process_batch

__all__ = ["baselines", "corpus", "holding_hook", "http_receiver"]


def _stored(db_url: str) -> int:
    """Articles stored so far; 0 while the run is still creating the schema."""
    try:
        return count_articles(db_url)
    except SQLAlchemyError:
        return 0


def _log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-3000:]


def _delivered_keys(hook: WebhookReceiver) -> Counter[str | None]:
    """How many times the receiver got each message (by its Idempotency-Key)."""
    return Counter(request.key for request in hook.requests)


def _assert_same_as_uninterrupted(db_url: str, baselines: Baselines) -> None:
    state = read_state(db_url)
    assert differences(state, baselines.state(db_url)) == {}
    assert len(state.articles) == baselines.corpus.site.corpus.size
    assert all(count == 1 for count in state.alerts.values())
    assert {status for *_, status in state.alerts} == {"sent"}
    assert story_problems(db_url) == []


def _run_again_after_a_crash(
    db_url: str,
    corpus: CorpusFiles,
    alerts: Path,
    baselines: Baselines,
    receiver: WebhookReceiver,
) -> None:
    """Run again after a run killed before its alerts: the run again sees the killed run's
    process is gone, and ends as an uninterrupted run, each message delivered once."""
    again = ingest_here(db_url, corpus.sources, alerts)

    assert again.status == "completed"
    assert run_statuses(db_url) == ["crashed", "completed"]
    _assert_same_as_uninterrupted(db_url, baselines)
    keys = _delivered_keys(receiver)
    assert len(keys) == len(read_state(db_url).alerts)
    assert set(keys.values()) == {1}


def test_killed_while_fetching_then_run_again(
    db_url: str,
    corpus: CorpusFiles,
    baselines: Baselines,
    http_receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    alerts = alerts_toml(tmp_path / "alerts.toml", http_receiver.apprise_url())
    log = tmp_path / "killed.log"
    corpus.site.hold(article_path("wire-b", 100))
    killed = start_ingest(db_url, corpus.sources, alerts, log)
    try:
        assert wait_for(corpus.site.arrived.is_set, killed), _log(log)
    finally:
        kill(killed)
        corpus.site.release()
    # Every page is fetched before any is processed: the kill left nothing stored.
    assert count_articles(db_url) == 0
    assert run_statuses(db_url) == ["running"]

    _run_again_after_a_crash(db_url, corpus, alerts, baselines, http_receiver)


def test_killed_between_batches_then_run_again(
    db_url: str,
    corpus: CorpusFiles,
    baselines: Baselines,
    http_receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    alerts = alerts_toml(tmp_path / "alerts.toml", http_receiver.apprise_url())
    log = tmp_path / "killed.log"
    killed = start_ingest(db_url, corpus.sources, alerts, log)
    try:
        assert wait_for(lambda: _stored(db_url) > 0, killed), _log(log)
    finally:
        kill(killed)
    stored = count_articles(db_url)
    # A batch is one transaction: the kill kept whole batches, and not all of them.
    assert 0 < stored < corpus.site.corpus.size
    assert stored % BATCH_SIZE == 0
    assert http_receiver.requests == []

    _run_again_after_a_crash(db_url, corpus, alerts, baselines, http_receiver)


def test_killed_while_sending_alerts_then_run_again(
    db_url: str,
    corpus: CorpusFiles,
    baselines: Baselines,
    holding_hook: HoldingReceiver,
    tmp_path: Path,
) -> None:
    alerts = alerts_toml(tmp_path / "alerts.toml", holding_hook.apprise_url())
    log = tmp_path / "killed.log"
    killed = start_ingest(db_url, corpus.sources, alerts, log)
    try:
        assert wait_for(holding_hook.arrived.is_set, killed), _log(log)
    finally:
        kill(killed)
        holding_hook.released.set()
    # Every article was stored before the first alert went out.
    assert count_articles(db_url) == corpus.site.corpus.size
    in_flight = holding_hook.requests[0].key

    again = ingest_here(db_url, corpus.sources, alerts)

    assert again.status == "completed"
    assert again.delivery is not None and again.delivery.ok
    # The killed run had finished storing: only its alert delivery was cut short.
    assert run_statuses(db_url) == ["completed", "completed"]
    _assert_same_as_uninterrupted(db_url, baselines)
    keys = _delivered_keys(holding_hook)
    assert len(keys) == len(read_state(db_url).alerts)
    # Only the message in flight at the kill came twice, under one key; the receiver drops it.
    assert {key: n for key, n in keys.items() if n > 1} == {in_flight: 2}
    assert len(holding_hook.delivered()) == len(keys)


class _Crash(BaseException):
    """The process dying between two batches (not an ``Exception``: nothing may handle it)."""


def _dies_after_first_batch() -> Stages:
    done: list[BatchResult] = []

    def process(items: Sequence[Fetched], **kwargs: Any) -> BatchResult:
        if done:
            raise _Crash
        done.append(process_batch(items, **kwargs))
        return done[0]

    return Stages(process=process)


def test_a_first_run_cut_short_then_run_again_baselines_as_one_run_would(
    corpus: CorpusFiles, http_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """The initial window: a first run on an empty database stores items older than it as
    baselined, never sent. A first run that died after its first batch, run again, must
    baseline the rest too (the corpus is dated 2025: every item is older than a day)."""
    alerts = alerts_toml(tmp_path / "alerts.toml", http_receiver.apprise_url(), window="24h")
    whole = f"sqlite:///{tmp_path / 'whole.db'}"
    ingest_here(whole, corpus.sources, alerts)
    expected = read_state(whole)
    assert {status for *_, status in expected.alerts} == {"baselined"}
    cut = f"sqlite:///{tmp_path / 'cut.db'}"
    with pytest.raises(_Crash):
        ingest_here(cut, corpus.sources, alerts, stages=_dies_after_first_batch())
    assert count_articles(cut) == BATCH_SIZE

    ingest_here(cut, corpus.sources, alerts)

    assert differences(read_state(cut), expected) == {}
    assert http_receiver.requests == []
