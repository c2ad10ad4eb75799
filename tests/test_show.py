"""``newswatch show``: one article or one story in full, on SQLite and Postgres, over a real run
of the recorded fixtures (HKMA releases with their Chinese translations, outlets' write-ups,
the alerts the shipped rules raise)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from support.alerting import alerts_toml, ingest, jsonl_channel
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.store import db, schema

runner = CliRunner()
WIDE = {"COLUMNS": "200"}
RELEASE = "HKMA unveils new fintech initiatives at Hong Kong Fintech Week 2025"
# Rich would read these as markup and drop them; the site wrote them, so they must print.
BRACKETED = "[Update] HKMA sets out [bold]expectations[/bold] on AI agents [/]"
BRACKETED_SOURCE = "regulation-asia"
BRACKETED_FROM = "HKMA Sets Out Expectations on Banks' Use of AI Agents"


@pytest.fixture(scope="module")
def shown(module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding one run over the fixtures with alerts raised, and one outlet's title
    rewritten with brackets (read only: no test writes)."""
    directory = tmp_path_factory.mktemp("show")
    alerts = alerts_toml(directory, {"jsonl": jsonl_channel(directory / "alerts.jsonl")})
    outcome = ingest(module_migrated_db_url, alerts)
    assert outcome.status == "completed", outcome.as_dict()
    engine = db.make_engine(module_migrated_db_url)
    try:
        with Session(engine) as session:
            session.execute(
                update(schema.Article)
                .where(schema.Article.source_id == BRACKETED_SOURCE)
                .where(schema.Article.title == BRACKETED_FROM)
                .values(title=BRACKETED)
            )
            session.commit()
    finally:
        engine.dispose()
    yield module_migrated_db_url


def show(url: str, *args: str) -> Any:
    return runner.invoke(app, ["show", *args, "--db", url], env=WIDE)


def read(url: str, stmt: Any) -> list[Any]:
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.execute(stmt))
    finally:
        engine.dispose()


def article(url: str, source: str, title: str) -> schema.Article:
    [(found,)] = read(
        url,
        select(schema.Article)
        .where(schema.Article.source_id == source)
        .where(schema.Article.title == title),
    )
    return found


def translation_of(url: str, release: schema.Article) -> schema.Article:
    [(found,)] = read(
        url,
        select(schema.Article)
        .join(schema.StoryLink, schema.StoryLink.article_id == schema.Article.id)
        .where(schema.StoryLink.kind == "translation")
        .where(schema.StoryLink.linked_article_id == release.id),
    )
    return found


def story_links(url: str, story_id: int) -> dict[int, str | None]:
    """Each article of the story and the kind of link it joined by (None: it joined nothing)."""
    rows = read(
        url,
        select(schema.Article.id, schema.StoryLink.kind)
        .outerjoin(schema.StoryLink, schema.StoryLink.article_id == schema.Article.id)
        .where(schema.Article.story_id == story_id),
    )
    return {article_id: kind for article_id, kind in rows}


def table_rows(output: str) -> dict[str, list[str]]:
    """The first line of each table row, by its first cell: the cells, stripped."""
    rows: dict[str, list[str]] = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0]:
            rows.setdefault(cells[0], cells)
    return rows


def member_rows(output: str) -> dict[str, list[str]]:
    """The rows of the versions and members tables (ruled between rows), by article id:
    every line of every cell, stripped, column by column."""
    rows: dict[str, list[str]] = {}
    current: list[list[str]] = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) != 3:  # a rule, a header or another table
            if current and current[0] and current[0][0].isdigit():
                rows[current[0][0]] = [text for column in current for text in column]
            current = []
            continue
        current = current or [[] for _ in cells]
        for column, cell in zip(current, cells, strict=True):
            if cell:
                column.append(cell)
    return rows


def test_a_release_shows_its_translation_tags_evidence_and_alerts(shown: str) -> None:
    release = article(shown, "hkma-press", RELEASE)
    chinese = translation_of(shown, release)
    result = show(shown, str(release.id))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"article {release.id}: {RELEASE}" in out
    assert "HKMA press releases (Open API)" in out
    assert "regulator   yes" in out and "language    en" in out
    assert "hkma-rss-press (same_item)" in out
    assert f"{release.story_id}: the story's lead" in out
    version = member_rows(out)[str(chinese.id)]
    assert version[1] == f"translation of {release.id}"
    assert "zh-hant" in version
    assert chinese.title in out
    assert "2025-11-03 00:00 HKT" in out
    links = read(shown, select(schema.ArticleTag).where(schema.ArticleTag.article_id == release.id))
    assert links
    for (link,) in links:
        for sentence in link.evidence:
            assert sentence[:30] in out, (link.tag_id, sentence)
    assert "Hong Kong Monetary Authority" in out
    raised = read(
        shown,
        select(schema.AlertRow.id, schema.AlertRow.rule, schema.AlertRow.channel).where(
            schema.AlertRow.story_id == release.story_id
        ),
    )
    assert "hkma-new-item" in {rule for _, rule, _ in raised}
    alerts = table_rows(out.split(f"alerts of story {release.story_id}")[1].split("─ text ─")[0])
    for alert_id, rule, channel in raised:
        assert alerts[str(alert_id)][1:3] == [rule, channel]
    text = out.split("─ text ─")[-1]
    assert release.text.strip().splitlines()[-1] in text and RELEASE not in text


def test_chinese_prints_as_written(shown: str) -> None:
    release = article(shown, "hkma-press", RELEASE)
    chinese = translation_of(shown, release)
    result = show(shown, f"article:{chinese.id}")
    assert result.exit_code == 0, result.output
    assert f"article {chinese.id}: {chinese.title}" in result.stdout
    assert f"joined as translation of article {release.id} (score 1.00)" in result.stdout
    opening = chinese.text.strip().splitlines()[0][:20]
    assert opening and opening in result.stdout


def test_json_has_every_field(shown: str) -> None:
    release = article(shown, "hkma-press", RELEASE)
    chinese = translation_of(shown, release)
    result = show(shown, str(release.id), "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["type"] == "article" and record["id"] == release.id
    assert record["title"] == RELEASE and record["text"] == release.text
    assert record["source"] == {"id": "hkma-press", "name": "HKMA press releases (Open API)"}
    assert record["lang"] == "en" and record["regulator"] is True
    assert record["published_at"].endswith("+08:00")
    for key in ("url", "canonical_url", "doc_type", "first_seen_at", "duplicate_of", "seen"):
        assert key in record
    story = record["story"]
    assert story["id"] == release.story_id and story["is_lead"] is True
    assert story["link"] is None and story["articles"] == len(record["versions"]) + 1
    [version] = [v for v in record["versions"] if v["article_id"] == chinese.id]
    assert version["link"] == "translation" and version["lang"] == "zh-hant"
    assert version["linked_article_id"] == release.id and version["url"].startswith("https://")
    stored = {
        link.tag_id: link.evidence
        for (link,) in read(
            shown, select(schema.ArticleTag).where(schema.ArticleTag.article_id == release.id)
        )
    }
    assert {t["id"]: t["evidence"] for t in record["tags"]} == stored
    assert {"kind", "name", "count", "in_title", "in_lead"} <= set(record["tags"][0])
    raised = read(
        shown, select(schema.AlertRow.id).where(schema.AlertRow.story_id == release.story_id)
    )
    assert sorted(a["id"] for a in record["alerts"]) == sorted(i for (i,) in raised)
    alert = record["alerts"][0]
    for key in ("rule", "channel", "status", "sent_at", "attempts", "last_error"):
        assert key in alert


def test_a_story_shows_every_member_and_how_it_joined(shown: str) -> None:
    release = article(shown, "hkma-press", RELEASE)
    links = story_links(shown, release.story_id or 0)
    assert {"translation", "same_story", "duplicate"} <= set(links.values())
    result = show(shown, f"story:{release.story_id}")
    assert result.exit_code == 0, result.output
    rows = member_rows(result.stdout)
    for article_id, kind in links.items():
        expected = kind or ("lead" if article_id == release.id else "first")
        assert rows[str(article_id)][1].split(" of ")[0] == expected, article_id
    assert "hkma-press-tc" in result.stdout and "zh-hant" in result.stdout
    assert "Hong Kong Monetary Authority (" in result.stdout
    assert f"alerts of story {release.story_id}" in result.stdout

    as_json = json.loads(show(shown, f"story:{release.story_id}", "--format", "json").stdout)
    assert as_json["type"] == "story" and as_json["lead_article_id"] == release.id
    assert {m["article_id"]: m["link"] for m in as_json["members"]} == links
    assert as_json["tags"] and as_json["alerts"]
    member = as_json["members"][0]
    for key in ("title", "source", "lang", "published_at", "score", "url"):
        assert key in member


def test_no_text_leaves_the_text_out(shown: str) -> None:
    release = article(shown, "hkma-press", RELEASE)
    table = show(shown, str(release.id), "--no-text")
    assert table.exit_code == 0, table.output
    assert "─ text ─" not in table.stdout and f"article {release.id}" in table.stdout
    # The same report, the text left off its end.
    full = show(shown, str(release.id)).stdout
    assert full.startswith(table.stdout)
    text = full[len(table.stdout) :]
    assert "─ text ─" in text and release.text.strip()[:40] in text
    record = json.loads(show(shown, str(release.id), "--no-text", "--format", "json").stdout)
    assert "text" not in record and record["title"] == RELEASE


def test_a_title_with_brackets_prints_as_written(shown: str) -> None:
    bracketed = article(shown, BRACKETED_SOURCE, BRACKETED)
    result = show(shown, str(bracketed.id), "--no-text")
    assert result.exit_code == 0, result.output
    assert BRACKETED in result.stdout
    story = show(shown, f"story:{bracketed.story_id}")
    assert story.exit_code == 0, story.output
    assert "[Update] HKMA sets out [bold]expectations[/bold]" in story.stdout


@pytest.mark.parametrize("target", ["999999", "article:999999", "99999999999999999999999"])
def test_a_missing_article_fails(shown: str, target: str) -> None:
    result = show(shown, target)
    assert result.exit_code == 1
    assert f"no article {int(target.split(':')[-1])}" in result.stderr
    assert result.stdout == ""


def test_a_missing_story_fails(shown: str) -> None:
    result = show(shown, "story:999999")
    assert result.exit_code == 1
    assert "error: no story 999999" in result.stderr


@pytest.mark.parametrize(
    "target", ["abc", "story:", "story:x", "story:-5", "12a", "page:3", "1.5", "١٢"]
)
def test_a_malformed_id_is_a_usage_error(shown: str, target: str) -> None:
    result = show(shown, target)
    assert result.exit_code == 2, result.output
    assert f"cannot read {target!r} as an id" in result.stderr


def test_help_says_how_to_name_a_story() -> None:
    result = runner.invoke(app, ["show", "--help"], env=WIDE)
    assert result.exit_code == 0
    assert "story:45" in result.output and "--no-text" in result.output


def test_show_does_not_import_prefect(shown: str, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pipeline.cli import app\n"
        f"for argv in [['show', '1', '--db', {shown!r}], ['show', 'story:1', '--db', {shown!r}]]:\n"
        "    try:\n"
        "        app(argv + ['--format', 'json'])\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (argv, exc.code)\n"
        "print('PREFECT_LOADED' if 'prefect' in sys.modules else 'PREFECT_ABSENT')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("PREFECT_ABSENT")
