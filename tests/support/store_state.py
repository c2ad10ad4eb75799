"""What a database holds after ingestion, by natural keys (item keys, rule, channel, event),
never by row ids: two databases filled by different runs compare equal when they hold the same
articles, tag links, sightings, stories and alerts. Also the runs of ``newswatch ingest``, as
subprocesses or in this process, that fill them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.ingest import IngestOptions, RunOutcome, Stages, run_once
from pipeline.store import db, schema
from support.corpus import TAXONOMY

# Prefect's start, a corpus of several batches and its alerts, on a busy two-core machine.
RUN_TIMEOUT = 300
POLL_STEP = 0.05


@dataclass(frozen=True)
class StoreState:
    """A database's ingested content by natural keys; ``==`` compares two databases."""

    # item key → (source, title, content hash, item key of the article it copies)
    articles: dict[str, tuple[str, str, str, str | None]]
    tags: frozenset[tuple[str, str]]
    # (item key, source, verdict): where each article was seen, and how it was judged
    sightings: frozenset[tuple[str, str, str]]
    # each story as the item keys of its articles
    stories: frozenset[frozenset[str]]
    # item key → (item key it was linked to, tier) for articles that joined a story
    links: dict[str, tuple[str | None, str]]
    # (rule, story as item keys, channel, event, mode, status) → how many rows
    alerts: Counter[tuple[str, frozenset[str], str, str, str, str]]


def read_state(db_url: str) -> StoreState:
    """The content of the database at ``db_url``."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return _read(session)
    finally:
        engine.dispose()


def _read(session: Session) -> StoreState:
    a = schema.Article
    rows = session.execute(
        select(a.id, a.item_key, a.source_id, a.title, a.content_hash, a.duplicate_of, a.story_id)
    ).all()
    key_of = {row.id: row.item_key for row in rows}
    members: dict[int | None, set[str]] = {}
    for row in rows:
        members.setdefault(row.story_id, set()).add(row.item_key)
    story = {sid: frozenset(keys) for sid, keys in members.items()}
    tags = session.execute(select(schema.ArticleTag.article_id, schema.ArticleTag.tag_id))
    seen = session.execute(
        select(schema.Sighting.article_id, schema.Sighting.source_id, schema.Sighting.verdict)
    )
    link_rows = session.execute(
        select(
            schema.StoryLink.article_id, schema.StoryLink.linked_article_id, schema.StoryLink.kind
        )
    )
    al = schema.AlertRow
    alert_rows = session.execute(
        select(al.rule, al.story_id, al.channel, al.event, al.mode, al.status)
    )
    return StoreState(
        articles={
            row.item_key: (
                row.source_id,
                row.title,
                row.content_hash,
                key_of.get(row.duplicate_of) if row.duplicate_of else None,
            )
            for row in rows
        },
        tags=frozenset((key_of[article], tag) for article, tag in tags),
        sightings=frozenset((key_of[article], src, verdict) for article, src, verdict in seen),
        stories=frozenset(story.values()),
        links={
            key_of[article]: (key_of.get(linked) if linked else None, kind)
            for article, linked, kind in link_rows
        },
        alerts=Counter(
            (rule, story.get(sid, frozenset()), channel, event, mode, status)
            for rule, sid, channel, event, mode, status in alert_rows
        ),
    )


def differences(got: StoreState, want: StoreState) -> dict[str, object]:
    """What differs between two states, part by part (empty when they are equal)."""
    found: dict[str, object] = {}
    for part in ("articles", "tags", "sightings", "stories", "links", "alerts"):
        mine, theirs = getattr(got, part), getattr(want, part)
        if mine == theirs:
            continue
        if isinstance(mine, Mapping):
            extra = [(k, v) for k, v in mine.items() if theirs.get(k) != v]
            missing = [(k, v) for k, v in theirs.items() if mine.get(k) != v]
        else:
            extra, missing = list(set(mine) - set(theirs)), list(set(theirs) - set(mine))
        found[part] = {"extra": _few(extra), "missing": _few(missing)}
    return found


def _few(items: Sequence[object]) -> dict[str, object]:
    """How many, and the first few: enough to see what went wrong in a failure message."""
    return {"count": len(items), "first": items[:3]}


def story_problems(db_url: str) -> list[str]:
    """Stories whose stored count disagrees with their articles, stories with no article, and
    articles in no stored story."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            by_story = select(schema.Article.story_id, func.count()).group_by(
                schema.Article.story_id
            )
            counts = {story: count for story, count in session.execute(by_story)}
            stories = select(schema.Story.id, schema.Story.article_count)
            stored = {story: count for story, count in session.execute(stories)}
    finally:
        engine.dispose()
    problems = [
        f"story {sid}: {n} articles, no story row" for sid, n in counts.items() if sid not in stored
    ]
    for sid, count in stored.items():
        if counts.get(sid, 0) != count:
            problems.append(f"story {sid}: article_count {count}, {counts.get(sid, 0)} articles")
    return problems


def run_statuses(db_url: str) -> list[str]:
    """The status of every run, oldest first."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(schema.Run.status).order_by(schema.Run.id)))
    finally:
        engine.dispose()


def run_overlap(db_url: str) -> float:
    """Seconds during which the first two runs were both running (negative: the gap between)."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            spans = session.execute(
                select(schema.Run.started_at, schema.Run.finished_at).order_by(schema.Run.id)
            ).all()
    finally:
        engine.dispose()
    (first_start, first_end), (second_start, second_end) = spans[:2]
    assert first_end is not None and second_end is not None
    return (min(first_end, second_end) - max(first_start, second_start)).total_seconds()


def count_articles(db_url: str) -> int:
    """How many articles are stored."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(schema.Article)) or 0)
    finally:
        engine.dispose()


def ingest_here(
    db_url: str, sources: Path, alerts: Path, stages: Stages | None = None
) -> RunOutcome:
    """One run in this process, without Prefect: the stages the flow wraps, or ``stages``."""
    options = IngestOptions(
        db_url=db_url, sources_path=sources, taxonomy_path=TAXONOMY, alerts_path=alerts
    )
    return asyncio.run(run_once(options, stages=stages))


def start_ingest(
    db_url: str, sources: Path, alerts: Path, log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``newswatch ingest`` in a process group of its own (a kill takes Prefect's server with
    it, as a machine crash would); its output goes to ``log``."""
    command = [sys.executable, "-m", "pipeline.cli", "ingest", "--db", db_url]
    command += ["--sources", str(sources), "--taxonomy", str(TAXONOMY), "--alerts", str(alerts)]
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and every process it started, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(RUN_TIMEOUT)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> bool:
    """Poll ``condition`` until it holds (True) or the process ends first (False)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(POLL_STEP)
    raise TimeoutError("the run neither got there nor ended")
