"""The analysts' commands on a database filled from the recorded fixtures."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import REPO
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import IngestOptions, run_once
from pipeline.store import db

runner = CliRunner()


@pytest.fixture(scope="module")
def filled_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{folder / 'cli.db'}"
    db.upgrade(url)
    alerts = folder / "alerts.toml"
    alerts.write_text(
        '[[rule]]\nid = "regulator-new-item"\nregulator = true\nchannels = ["jsonl"]\n'
        f'[[channel]]\nid = "jsonl"\nkind = "jsonl"\npath = "{folder / "alerts.jsonl"}"\n',
        encoding="utf-8",
    )
    options = IngestOptions(
        db_url=url,
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=alerts,
        replay=REPO / "fixtures" / "http",
    )
    outcome = asyncio.run(run_once(options))
    assert outcome.status == "completed"
    yield url


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_search_by_entity_as_json_returns_the_seed_with_tags(filled_db: str) -> None:
    every = ("--limit", "500")
    code, output = invoke(
        "search", "--entity", "Ant Group", *every, "--format", "json", "--db", filled_db
    )
    assert code == 0, output
    # Long fields only when named.
    assert all(
        "text" not in h and all("evidence" not in t for t in h["tags"]) for h in json.loads(output)
    )
    fields = "id,source,published_at,tags,text,evidence"
    code, output = invoke(
        "search",
        "--entity",
        "Ant Group",
        *every,
        "--format",
        "json",
        "--fields",
        fields,
        "--db",
        filled_db,
    )
    assert code == 0, output
    hits = json.loads(output)
    assert set(hits[0]) == set(fields.split(",")) - {"evidence"}
    [seed] = [h for h in hits if h["text"].startswith("Eric Jing, Chairman of Ant Group")]
    assert seed["source"] == "fintechnews-hk"
    assert seed["published_at"].startswith("2025-11-03T")
    assert seed["published_at"].endswith("+08:00")
    names = {tag["name"] for tag in seed["tags"]}
    assert {"Ant Group", "Eric Jing", "Hong Kong Fintech Week"} <= names
    ant = next(tag for tag in seed["tags"] if tag["name"] == "Ant Group")
    assert ant["count"] >= 2 and ant["evidence"]
    assert all("Ant Group" in h["text"] or h["tags"] for h in hits)


def test_search_filters_combine(filled_db: str) -> None:
    code, output = invoke(
        "search",
        "stablecoin",
        "--source",
        "hkma-press",
        "--since",
        "2025-11-01",
        "--format",
        "json",
        "--fields",
        "source,published_at,title,text",
        "--db",
        filled_db,
    )
    assert code == 0, output
    hits = json.loads(output)
    assert hits
    for hit in hits:
        assert hit["source"] == "hkma-press"
        assert hit["published_at"] >= "2025-11-01"
        assert "stablecoin" in (hit["title"] + hit["text"]).lower()


def test_search_by_topic_as_csv(filled_db: str) -> None:
    code, output = invoke(
        "search", "--topic", "tokenisation", "--format", "csv", "--limit", "500", "--db", filled_db
    )
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO(output)))
    assert rows
    assert all("tokenisation" in row["tags"].split(";") for row in rows)


def test_alerts_list_json_holds_one_alert_per_new_regulator_item(filled_db: str) -> None:
    code, output = invoke(
        "alerts", "list", "--format", "json", "--limit", "1000", "--db", filled_db
    )
    assert code == 0, output
    alerts = json.loads(output)
    assert alerts
    assert all(a["source"].startswith(("hkma-", "sfc-")) for a in alerts)
    # History before the first run's window is baselined, the rest sent.
    assert {a["status"] for a in alerts} == {"sent", "baselined"}
    assert len({(a["story_id"], a["rule"], a["event"]) for a in alerts}) == len(alerts)


def test_runs_shows_the_run(filled_db: str) -> None:
    code, output = invoke("runs", "--format", "json", "--db", filled_db)
    assert code == 0, output
    [run] = json.loads(output)
    assert run["status"] == "completed"
    assert {s["source_id"] for s in run["sources"]} >= {"hkma-press", "ainvest"}


def test_bad_date_is_named(filled_db: str) -> None:
    code, output = invoke("search", "--since", "someday", "--db", filled_db)
    assert code == 1
    assert "--since" in output and "someday" in output


def test_unmigrated_database_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, output = invoke("search", "x", "--db", url)
    assert code == 1
    assert "newswatch db upgrade" in output


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'fresh.db'}"
    code, output = invoke("db", "upgrade", "--db", url)
    assert code == 0, output
    code, output = invoke("search", "--format", "json", "--db", url)
    assert code == 0 and json.loads(output) == []


def test_sources_check_prints_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "sources.toml"
    text = (REPO / "sources.toml").read_text(encoding="utf-8")
    text = text.replace('kind = "hkma_api"', 'kind = "hkma"', 1)
    text = text.replace('urls = ["https://fintechnews.hk/feed/"]', 'urls = ["fintechnews"]', 1)
    bad.write_text(text, encoding="utf-8")
    shipped = ["--taxonomy", str(REPO / "taxonomy.toml"), "--alerts", str(REPO / "alerts.toml")]
    code, output = invoke("sources", "check", "--sources", str(bad), *shipped)
    assert code == 1
    assert "source 'hkma-press': field 'kind'" in output
    assert "source 'fintechnews-hk': field 'urls[0]'" in output
    assert "2 problem(s) found" in output


@pytest.mark.parametrize(
    ("command", "option", "name"),
    [
        (("sources", "list"), "--sources", "sources.toml"),
        (("alerts", "send"), "--alerts", "alerts.toml"),
        (("alerts", "test"), "--alerts", "alerts.toml"),
    ],
)
def test_a_command_names_the_problems_of_its_broken_config_file(
    tmp_path: Path, command: tuple[str, ...], option: str, name: str
) -> None:
    broken = tmp_path / name
    broken.write_text("[[oops\n", encoding="utf-8")
    args = [*command, option, str(broken)]
    if command == ("alerts", "send"):
        args += ["--db", f"sqlite:///{tmp_path / 'unused.db'}"]
    code, output = invoke(*args)
    assert code == 1
    assert "error:" in output and str(broken) in output
    assert not (tmp_path / "unused.db").exists()


def test_sources_check_passes_on_the_shipped_files() -> None:
    code, output = invoke(
        "sources",
        "check",
        "--sources",
        str(REPO / "sources.toml"),
        "--taxonomy",
        str(REPO / "taxonomy.toml"),
        "--alerts",
        str(REPO / "alerts.toml"),
    )
    assert code == 0, output
    assert "sources" in output and "valid" in output


def test_run_summary_shows_fallback_notes_and_updates(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.ingest import _print_run_summary

    row = {"status": "ok", "found": 3, "new": 0, "duplicates": 2, "errors": 0, "error": None}
    result = {
        "run_id": 7,
        "status": "completed_with_errors",
        "error": None,
        "new_articles": 0,
        "alerts_queued": 0,
        "alerts_sent": 0,
        "sources": {
            "hkma-press": {**row, "updated": 0, "notes": ["API failed (HTTP 502); used the RSS"]},
            "sfc-news": {**row, "updated": 1, "notes": []},
        },
    }
    _print_run_summary(result, "sqlite:///x.db")
    output = " ".join(capsys.readouterr().out.split())
    assert "hkma-press: API failed (HTTP 502); used the RSS" in output
    assert "sfc-news: 1 stored item(s) updated" in output
    assert "hkma-press: 0 stored" not in output
