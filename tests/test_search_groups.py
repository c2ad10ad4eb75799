"""Search one row per story (the default) or per article; prefixes, title-first ranking and
highlighted snippets, on SQLite and Postgres over the replayed fixtures."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from rich.text import Text
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.query import _title_cell
from pipeline.store import db
from pipeline.store.reader import open_reader
from pipeline.store.search import count_articles, search_articles

runner = CliRunner()


@pytest.fixture(scope="module")
def filled(module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("groups")
    ingest(module_migrated_db_url, alerts_toml(folder, {"jsonl": jsonl_channel(folder / "a")}))
    yield module_migrated_db_url


def search(url: str, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(
        app, ["search", *args, "--format", "json", "--limit", "100000", "--db", url]
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_one_row_per_story_is_the_default(filled: str) -> None:
    articles = search(filled, "--entity", "hkma", "--group", "article")
    stories = search(filled, "--entity", "hkma")
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in articles:
        members[row["story_id"]].append(row)
    assert len(stories) == len(members) < len(articles)
    assert len({row["story_id"] for row in stories}) == len(stories)
    for row in stories:
        matched = members[row["story_id"]]
        assert row["id"] in {m["id"] for m in matched}
        assert row["matched_in_story"] == len(matched)
        assert row["story_articles"] >= len(matched)
        assert {m["source"] for m in matched} <= set(row["outlets"])


def test_a_release_and_its_translation_are_one_row(filled: str) -> None:
    [row] = [r for r in search(filled, "金管局 生成式人工智能沙盒") if r["story_articles"] > 1]
    assert set(row["languages"]) == {"en", "zh-hant"}
    assert set(row["outlets"]) == {"hkma-press", "hkma-press-tc"}
    # The English release shares the story but holds no Chinese term: one of two matched.
    assert row["matched_in_story"] == 1


def test_counts_follow_the_grouping(filled: str) -> None:
    engine = db.make_engine(filled)
    try:
        with Session(engine) as session:
            for query in (None, "stablecoin", "金管局"):
                by_article = search_articles(session, query, limit=100_000, group="article")
                by_story = search_articles(session, query, limit=100_000, group="story")
                assert count_articles(session, query) == len(by_article)
                assert count_articles(session, query, group="story") == len(by_story)
                assert len(by_story) == len({h.story_id or -h.id for h in by_article})
    finally:
        engine.dispose()


def test_limit_names_the_stories_left_out(filled: str) -> None:
    total = len(search(filled, "--entity", "hkma"))
    result = runner.invoke(
        app, ["search", "--entity", "hkma", "--limit", "2", "--format", "json", "--db", filled]
    )
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 2
    assert f"{total - 2} more story(ies) match" in result.stderr


def test_a_prefix_finds_the_longer_words(filled: str) -> None:
    prefix = {r["id"] for r in search(filled, "stable*", "--group", "article")}
    whole = {r["id"] for r in search(filled, "stable", "--group", "article")}
    coins = {r["id"] for r in search(filled, "stablecoins", "--group", "article")}
    assert coins and coins <= prefix
    assert not coins <= whole
    assert {r["id"] for r in search(filled, "stablecoins -stable*", "--group", "article")} == set()


def test_a_title_match_ranks_above_a_body_match(filled: str) -> None:
    rows = search(filled, "sandbox", "--group", "article", "--fields", "id,title,snippet")
    in_title = [i for i, r in enumerate(rows) if "sandbox" in r["title"].lower()]
    in_body = [i for i, r in enumerate(rows) if "sandbox" not in r["title"].lower()]
    assert in_title and in_body
    assert max(in_title) < min(in_body)


def test_the_query_commands_read_sqlite_without_an_engine(filled: str) -> None:
    with open_reader(filled) as reader:
        assert reader.postgres is filled.startswith("postgresql")
        hits = search_articles(reader, "stablecoin", limit=3)
    assert len(hits) == 3 and all(hit.snippet for hit in hits)


def test_snippets_highlight_the_words_asked_for() -> None:
    row = {
        "title": "Stablecoin licences",
        "url": "https://x.example/a",
        "snippet": "…the first stablecoin issuers and other stable things",
        "tags": [{"name": "Stablecoins"}],
    }
    cell: Text = _title_cell(row, ["stable"])
    marked = [cell.plain[span.start : span.end] for span in cell.spans if span.style == "reverse"]
    assert [m.lower() for m in marked] == ["stable", "stable", "stable"]


def holding(url: str, pattern: str) -> set[int]:
    """The ids of the articles whose title or text holds ``pattern`` (any case)."""
    with open_reader(url) as reader:
        rows = reader.rows("SELECT id, title, text FROM articles WHERE duplicate_of IS NULL")
    found = re.compile(pattern, re.IGNORECASE)
    return {row["id"] for row in rows if found.search(f"{row['title']}\n{row['text']}")}


def test_stop_words_are_read_as_written(filled: str) -> None:
    # Postgres' English configuration drops "its" and "other": the query must neither find
    # nothing nor everything that has the other words.
    def ids(query: str) -> set[int]:
        return {r["id"] for r in search(filled, query, "--group", "article")}

    its = holding(filled, r"\bits\b")
    assert its and its <= ids("its")
    phrase = holding(filled, r"\bother[\W_]+markets?\b")
    assert phrase and ids('"other markets"') == phrase
    assert ids('markets -"other markets"').isdisjoint(phrase)
