"""The garbage collector during a run's batches: off, with what existed before left out of its
passes, collected between batches, and given back as it was, also when a batch fails."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from support import REPO

from pipeline.ingest import IngestOptions, Stages, process_batch, run_once
from pipeline.ingest.records import BatchResult, Fetched
from pipeline.ingest.run import collector_between_batches


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    """Whatever a test does, the session's collector is on and nothing is frozen after it."""
    yield
    gc.enable()
    gc.unfreeze()


def _options(db_url: str, tmp_path: Path) -> IngestOptions:
    alerts = tmp_path / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    return IngestOptions(
        db_url=db_url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
        replay=REPO / "fixtures" / "http",
    )


def test_objects_made_before_are_frozen_and_the_collector_is_off_inside() -> None:
    made_before = [[] for _ in range(100)]
    with collector_between_batches():
        assert not gc.isenabled()
        assert gc.get_freeze_count() >= len(made_before)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with collector_between_batches():
        assert not gc.isenabled()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_failing_block_still_gives_the_collector_back() -> None:
    with pytest.raises(RuntimeError), collector_between_batches():
        raise RuntimeError("batch failed")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_run_processes_its_batches_with_the_collector_off_and_restores_it(
    migrated_db_url: str, tmp_path: Path
) -> None:
    seen: list[tuple[bool, int]] = []

    def watched(items: Sequence[Fetched], **kwargs: Any) -> BatchResult:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        return process_batch(items, **kwargs)

    outcome = asyncio.run(
        run_once(_options(migrated_db_url, tmp_path), stages=Stages(process=watched))
    )
    assert outcome.status in ("completed", "completed_with_errors"), outcome.as_dict()
    assert seen and all(not enabled and frozen > 0 for enabled, frozen in seen)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
