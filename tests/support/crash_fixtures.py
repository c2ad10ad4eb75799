"""Fixtures of the crash and concurrency tests: the corpus site of a module, and what one
uninterrupted run over it stores, per dialect (computed once, when a test first asks).

Import the fixtures into a test module (``from support.crash_fixtures import corpus, ...``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.ingest import BATCH_SIZE
from support.corpus import CorpusSite, alerts_toml, corpus_site
from support.receivers import Request, WebhookReceiver, webhook_receiver
from support.store_state import StoreState, ingest_here, read_state

# Three process batches in all (two full ones and a short third), so a run can be killed between
# two of them: 686 articles per source, 2,058 in all, with batches of 1,000.
PER_SOURCE = (2 * BATCH_SIZE + 60) // 3


@dataclass
class CorpusFiles:
    """The module's corpus site and the sources file that reads it."""

    site: CorpusSite
    sources: Path


@dataclass
class Baselines:
    """What an uninterrupted run stores, per dialect: each run once, into a database of its own."""

    corpus: CorpusFiles
    folder: Path
    stack: ExitStack
    states: dict[str, StoreState] = field(default_factory=dict)

    def state(self, db_url: str) -> StoreState:
        """The uninterrupted run's state on the dialect of ``db_url``."""
        from conftest import database

        kind = dialect(db_url)
        if kind not in self.states:
            url = self.stack.enter_context(database(kind, self.folder))
            hook = self.stack.enter_context(webhook_receiver())
            alerts = alerts_toml(self.folder / "alerts.toml", hook.apprise_url())
            outcome = ingest_here(url, self.corpus.sources, alerts)
            assert outcome.status == "completed", outcome.as_dict()
            assert outcome.delivery is not None and outcome.delivery.ok
            self.states[kind] = read_state(url)
        return self.states[kind]


def dialect(db_url: str) -> str:
    """``sqlite`` or ``postgres``."""
    return "sqlite" if db_url.startswith("sqlite") else "postgres"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorpusFiles]:
    """The corpus site of the module (item keys hold its port, so every run reads this one)."""
    with corpus_site(PER_SOURCE) as site:
        sources = site.corpus.sources_toml(tmp_path_factory.mktemp("corpus") / "sources.toml")
        yield CorpusFiles(site, sources)


@pytest.fixture(scope="module")
def baselines(corpus: CorpusFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baselines]:
    """Uninterrupted runs over the module's corpus, run on first use per dialect."""
    with ExitStack() as stack:
        yield Baselines(corpus, tmp_path_factory.mktemp("baseline"), stack)


class HoldingReceiver(WebhookReceiver):
    """A webhook receiver that keeps its first request unanswered until the test releases it
    (or the receiver stops); ``arrived`` is set when that request is in."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.released = threading.Event()

    def _record(self, request: Request) -> int:
        status = super()._record(request)
        if not self.arrived.is_set():
            self.arrived.set()
            while not (self.released.is_set() or self._stopping.is_set()):
                self._stopping.wait(0.05)
        return status


@pytest.fixture
def holding_hook() -> Iterator[HoldingReceiver]:
    """A ``HoldingReceiver`` on 127.0.0.1, stopped after the test."""
    receiver = HoldingReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        receiver.stop()
