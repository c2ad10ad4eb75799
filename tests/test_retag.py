"""Retag after a taxonomy change: per-tag gains and losses, only changed rows written (SQLite and
Postgres), the ``newswatch retag`` command and the ``retag`` flow."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support import REPO
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import IngestOptions, run_once
from pipeline.retag import retag_articles
from pipeline.store import db, schema
from pipeline.tag import Tagger

SHIPPED = REPO / "taxonomy.toml"
FIXTURES = REPO / "fixtures" / "http"

# Added in the changed taxonomy: a phrase several stored articles use, no node claims it.
ADDED_NODE = """
[[node]]
id = "financial-services"
kind = "topic"
type = "topic"
name = "Financial services"
"""
ADDED_PATTERN = re.compile(r"\bfinancial services?\b", re.IGNORECASE)
# Removed: Ant International's Whale platform (named in seed 000).
REMOVED_ID = "whale"


def changed_taxonomy(folder: Path) -> Path:
    """A copy of the shipped taxonomy with one node added and the Whale node removed."""
    text = SHIPPED.read_text(encoding="utf-8")
    start = text.index('[[node]]\nid = "whale"')
    end = text.index("[[node]]", start + 1)
    path = folder / "taxonomy.toml"
    path.write_text(text[:start] + text[end:] + ADDED_NODE, encoding="utf-8")
    return path


def ingest(url: str, folder: Path) -> None:
    alerts = folder / "alerts.toml"
    alerts.write_text('[[channel]]\nid = "console"\nkind = "console"\n', encoding="utf-8")
    options = IngestOptions(
        db_url=url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=SHIPPED,
        alerts_path=alerts,
        replay=FIXTURES,
    )
    outcome = asyncio.run(run_once(options))
    assert outcome.status == "completed", outcome.error


def links_by_article(engine: Engine) -> dict[int, dict[str, schema.ArticleTag]]:
    with Session(engine) as session:
        found: dict[int, dict[str, schema.ArticleTag]] = {}
        for link in session.scalars(select(schema.ArticleTag)):
            found.setdefault(link.article_id, {})[link.tag_id] = link
        session.expunge_all()
    return found


def article_texts(engine: Engine) -> dict[int, str]:
    with Session(engine) as session:
        rows = session.execute(select(schema.Article.id, schema.Article.title, schema.Article.text))
        return {article_id: f"{title}\n\n{text}" for article_id, title, text in rows}


@pytest.fixture
def ingested(migrated_db_url: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    ingest(migrated_db_url, tmp_path)
    engine = db.make_engine(migrated_db_url)
    yield migrated_db_url, engine
    engine.dispose()


def test_retag_reports_gains_and_losses_and_writes_only_changes(
    ingested: tuple[str, Engine], tmp_path: Path
) -> None:
    _, engine = ingested
    old_version = Tagger.from_path(SHIPPED).version
    before = links_by_article(engine)
    texts = article_texts(engine)
    with_whale = {a for a, links in before.items() if REMOVED_ID in links}
    with_phrase = {a for a, text in texts.items() if ADDED_PATTERN.search(text)}
    assert with_whale and len(with_phrase) >= 2

    tagger = Tagger.from_path(changed_taxonomy(tmp_path))
    assert tagger.version != old_version
    report = retag_articles(engine, tagger)

    assert report.considered == len(texts)
    changes = {c.tag_id: (c.gained, c.lost) for c in report.changes()}
    assert changes[REMOVED_ID] == (0, len(with_whale))
    assert changes["financial-services"] == (len(with_phrase), 0)
    assert set(changes) == {REMOVED_ID, "financial-services"}
    assert report.rewritten == len(with_whale | with_phrase)
    assert report.as_dict()["tags"][0]["name"] in {"Whale", "Financial services"}

    after = links_by_article(engine)
    for article_id in texts:
        old, new = before.get(article_id, {}), after.get(article_id, {})
        assert REMOVED_ID not in new
        assert ("financial-services" in new) == (article_id in with_phrase)
        if article_id not in with_whale | with_phrase:
            # identical tags: the links are the rows written by the ingestion, untouched
            assert {t: link.taxonomy_version for t, link in new.items()} == {
                t: old_version for t in old
            }
    for article_id in with_phrase:
        link = after[article_id]["financial-services"]
        assert link.taxonomy_version == tagger.version and link.count >= 1
        assert link.evidence and ADDED_PATTERN.search(link.evidence[0])
    for article_id in with_whale:
        # the parent lost its child's matches: its link was rewritten with the new count
        parent = after[article_id]["ant-international"]
        assert parent.count < before[article_id]["ant-international"].count
        assert parent.taxonomy_version == tagger.version
    with Session(engine) as session:
        versions = set(session.scalars(select(schema.Article.taxonomy_version)))
        assert versions == {tagger.version}
        assert session.get(schema.TagRow, "financial-services") is not None
        # the removed node's row stays: nothing links to it, but it is not lost
        assert session.get(schema.TagRow, REMOVED_ID) is not None

    again = retag_articles(engine, tagger)
    assert (again.considered, again.rewritten, again.changes()) == (0, 0, [])
    everything = retag_articles(engine, tagger, all_articles=True)
    assert (everything.considered, everything.rewritten) == (len(texts), 0)


def test_retag_keeps_source_entities_and_categories(
    ingested: tuple[str, Engine], tmp_path: Path
) -> None:
    _, engine = ingested
    before = links_by_article(engine)
    attached = {
        (a, t) for a, links in before.items() for t in links if t.startswith(("ce:", "category:"))
    }
    assert attached, "the fixtures carry SFC entities or feed categories"
    retag_articles(engine, Tagger.from_path(changed_taxonomy(tmp_path)))
    after = links_by_article(engine)
    assert attached <= {(a, t) for a, links in after.items() for t in links}


def test_retag_command_prints_table_and_json(ingested: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = ingested
    taxonomy = changed_taxonomy(tmp_path)
    with_whale = {a for a, links in links_by_article(engine).items() if REMOVED_ID in links}
    runner = CliRunner()
    result = runner.invoke(app, ["retag", "--db", url, "--taxonomy", str(taxonomy)])
    assert result.exit_code == 0, result.output
    assert "rewritten" in result.output
    [row] = [line for line in result.output.splitlines() if f" {REMOVED_ID} " in line]
    assert row.split("│")[-2].strip() == str(len(with_whale))  # the "lost" column
    result = runner.invoke(
        app, ["retag", "--all", "--db", url, "--taxonomy", str(taxonomy), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rewritten"] == 0 and summary["tags"] == []
    assert summary["considered"] == summary["unchanged"] > 0


def test_retag_command_names_a_broken_taxonomy(migrated_db_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "taxonomy.toml"
    broken.write_text('[[node]]\nid = "x"\nkind = "entity"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["retag", "--db", migrated_db_url, "--taxonomy", str(broken)])
    assert result.exit_code == 1
    assert str(broken) in result.output and "'type' is missing" in result.output


@pytest.mark.flow
def test_retag_flow_run(tmp_path: Path) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.deployments import build_deployments
    from flows.retag import retag

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    db.upgrade(url)
    ingest(url, tmp_path)
    engine = db.make_engine(url)
    with_whale = {a for a, links in links_by_article(engine).items() if REMOVED_ID in links}
    engine.dispose()
    with prefect_test_harness(server_startup_timeout=120):
        summary = retag(db_url=url, taxonomy_path=str(changed_taxonomy(tmp_path)))
    lost = {row["id"]: row["lost"] for row in summary["tags"]}
    assert lost[REMOVED_ID] == len(with_whale) and summary["rewritten"] >= len(with_whale)
    names = {deployment.name for deployment in build_deployments(url)}
    assert {"daily", "retag"} <= names
