"""Alert test helpers: an alerts.toml with the shipped rules and given channels, a run over
the recorded fixtures, and the outbox read back."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.store import alert_reads, db, schema
from support import REPO

FIXTURES = REPO / "fixtures" / "http"
SHIPPED_ALERTS = REPO / "alerts.toml"


def alerts_toml(
    tmp_path: Path, channels: dict[str, str], *, window: str = "0h", name: str = "alerts.toml"
) -> Path:
    """The shipped rules, sent to ``channels`` (id → TOML body of the [[channel]])."""
    shipped = SHIPPED_ALERTS.read_text(encoding="utf-8")
    rules = shipped[: re.search(r"^\[\[channel\]\]", shipped, re.MULTILINE).start()]  # type: ignore[union-attr]
    text = rules.replace(
        'channels = ["console", "jsonl"]', f"channels = {json.dumps(list(channels))}"
    )
    for ident, body in channels.items():
        text += f'\n[[channel]]\nid = "{ident}"\n{body}\n'
    text += f'\n[delivery]\ninitial_window = "{window}"\nretry_after = "5m"\nmax_attempts = 3\n'
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def jsonl_channel(path: Path) -> str:
    """A JSONL channel body."""
    return f'kind = "jsonl"\npath = "{path}"'


def hook_channel(url: str, timeout: int = 10) -> str:
    """An Apprise webhook channel body."""
    return f'kind = "apprise"\nurl = "{url}"\ntimeout = {timeout}'


def ingest(db_url: str, alerts: Path, **overrides: object) -> RunOutcome:
    """One run over the fixtures, without Prefect."""
    options = IngestOptions(
        db_url=db_url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
        replay=FIXTURES,
        **overrides,  # type: ignore[arg-type]
    )
    return asyncio.run(run_once(options))


def lines(path: Path) -> list[dict[str, object]]:
    """The JSON objects of a JSONL file."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def outbox(db_url: str) -> list[alert_reads.OutboxRow]:
    """Every outbox row, oldest first."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            return alert_reads.outbox_rows(session, newest_first=False)
    finally:
        engine.dispose()


def stories_with_sources(db_url: str) -> dict[int, set[str]]:
    """Each story's source ids."""
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as session:
            rows = session.execute(select(schema.Article.story_id, schema.Article.source_id))
            found: dict[int, set[str]] = {}
            for story, source in rows:
                found.setdefault(story, set()).add(source)
            return found
    finally:
        engine.dispose()
