"""Search filters as analysts type them: names and aliases in any language, each filter
repeatable, unknown names refused with the closest ones, and a note of what --limit left out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.alerting import alerts_toml, ingest, jsonl_channel
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def filled(module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("filters")
    ingest(module_migrated_db_url, alerts_toml(folder, {"jsonl": jsonl_channel(folder / "a")}))
    yield module_migrated_db_url


def ids(url: str, *args: str) -> list[int]:
    result = runner.invoke(
        app,
        [
            "search",
            *args,
            "--group",
            "article",
            "--format",
            "json",
            "--limit",
            "100000",
            "--db",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    return sorted(hit["id"] for hit in json.loads(result.stdout))


def records(url: str, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(
        app,
        [
            "search",
            *args,
            "--group",
            "article",
            "--format",
            "json",
            "--limit",
            "100000",
            "--fields",
            "id,source,published_at,doc_type,regulator,tags",
            "--db",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_an_entity_by_its_chinese_alias_finds_what_its_id_finds(filled: str) -> None:
    by_id = ids(filled, "--entity", "hkma")
    assert len(by_id) >= 10
    assert ids(filled, "--entity", "金管局") == by_id
    assert ids(filled, "--entity", "Hong Kong Monetary Authority") == by_id


def test_a_topic_by_its_other_spelling(filled: str) -> None:
    assert ids(filled, "--topic", "tokenization") == ids(filled, "--topic", "tokenisation") != []


def test_an_unknown_name_is_refused_with_the_closest(filled: str) -> None:
    result = runner.invoke(app, ["search", "--entity", "HKMAA", "--db", filled])
    assert result.exit_code == 1
    assert "'HKMAA' is no entity's id, name or alias" in result.stderr
    assert "closest" in result.stderr and "hkma" in result.stderr.lower()


def test_repeated_tags_must_all_hold_repeated_sources_any(filled: str) -> None:
    hkma, stable = set(ids(filled, "--entity", "hkma")), set(ids(filled, "--topic", "stablecoins"))
    both = ids(filled, "--entity", "hkma", "--topic", "stablecoins")
    assert both and set(both) == hkma & stable
    two_tags = set(ids(filled, "--entity", "hkma", "--entity", "sfc"))
    assert two_tags == hkma & set(ids(filled, "--entity", "sfc"))
    press, tc = (
        set(ids(filled, "--source", "hkma-press")),
        set(ids(filled, "--source", "hkma-press-tc")),
    )
    assert set(ids(filled, "--source", "hkma-press", "--source", "hkma-press-tc")) == press | tc


def test_type_language_and_regulator_filters(filled: str) -> None:
    enforcement = records(filled, "--doc-type", "enforcement")
    assert enforcement and {r["doc_type"] for r in enforcement} == {"enforcement"}
    chinese = ids(filled, "--lang", "zh")
    assert set(ids(filled, "--source", "hkma-press-tc")) <= set(chinese)
    assert chinese and not set(chinese) & set(ids(filled, "--lang", "en"))
    regulators = records(filled, "--regulator")
    others = records(filled, "--not-regulator")
    assert regulators and others
    assert all(r["regulator"] for r in regulators) and not any(r["regulator"] for r in others)
    assert len(regulators) + len(others) == len(ids(filled))


def test_one_day_is_since_and_until_that_day_in_hong_kong_time(filled: str) -> None:
    day = records(filled, "--since", "2025-11-20", "--until", "2025-11-20")
    assert day and all(str(r["published_at"]).startswith("2025-11-20") for r in day)
    assert ids(filled, "--until", "2099-01-01") == ids(filled)


def test_limit_says_how_many_more_matched_on_stderr(filled: str) -> None:
    total = len(ids(filled, "--entity", "hkma"))
    command = ["search", "--entity", "hkma", "--group", "article", "--limit", "3"]
    result = runner.invoke(app, [*command, "--format", "json", "--db", filled])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 3
    assert f"{total - 3} more article(s) match" in result.stderr


def test_export_takes_the_same_filters(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["export", "--entity", "金管局", "--lang", "en", "--out", str(out), "--db", filled]
    )
    assert result.exit_code == 0, result.output
    exported = sorted(json.loads(line)["id"] for line in out.read_text("utf-8").splitlines())
    assert exported == ids(filled, "--entity", "hkma", "--lang", "en") != []
