"""The schedules: ``build_deployments`` (what ``newswatch serve`` runs) gives the daily run at
07:00, the regulators every 30 minutes and alert sending every 5, Hong Kong time; ``prefect.yaml``
describes the very same deployments for a work pool; a regulators run reads only the regulator
sources, as a real Prefect flow run against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session
from support import REPO
from support.feeds import feed, page
from support.local_site import LocalSite
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import ConfigError
from pipeline.ingest import IngestOptions, load_run_config
from pipeline.store import db, repo

PREFECT_YAML = REPO / "prefect.yaml"
WORK_POOL = "newswatch"
# The parameters the work pool's environment gives (NEWSWATCH_DB_URL), not the file.
FROM_ENVIRONMENT = {"db_url"}


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The deployments ``newswatch serve`` runs, by name, built from the repository's root (as
    ``prefect deploy`` runs there, so both give entrypoints relative to it)."""
    from flows.deployments import build_deployments

    monkeypatch.chdir(REPO)
    return {d.name: d for d in build_deployments("sqlite:///served.db")}


def described() -> dict[str, dict[str, Any]]:
    """The deployments ``prefect.yaml`` describes, by name, validated by Prefect's own model of
    the file (what ``prefect deploy`` reads)."""
    from prefect.cli.deploy._models import PrefectYamlModel

    raw = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    model = PrefectYamlModel.model_validate(raw)
    assert [d.name for d in model.deployments] == [d["name"] for d in raw["deployments"]]
    return {d["name"]: d for d in raw["deployments"]}


def crons(deployment: Any) -> list[tuple[str, str]]:
    return [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules]


def test_served_deployments_run_at_their_hong_kong_times(monkeypatch: pytest.MonkeyPatch) -> None:
    deployments = served(monkeypatch)
    assert set(deployments) == {
        "daily",
        "regulators",
        "news",
        "backfill",
        "retag",
        "send-alerts",
    }
    assert crons(deployments["daily"]) == [("0 7 * * *", "Asia/Hong_Kong")]
    assert crons(deployments["regulators"]) == [("*/30 * * * *", "Asia/Hong_Kong")]
    assert crons(deployments["send-alerts"]) == [("*/5 * * * *", "Asia/Hong_Kong")]
    # Started by an operator, never by the clock: a scheduled news half would read the news
    # sources a second time beside the daily run.
    assert crons(deployments["backfill"]) == crons(deployments["retag"]) == []
    assert crons(deployments["news"]) == []
    # The regulators run is the daily flow restricted to regulator sources, not a list of ids:
    # named ids would be read even while paused or backing off.
    regulators = deployments["regulators"]
    assert regulators.flow_name == deployments["daily"].flow_name == "daily-ingest"
    assert regulators.parameters["regulators_only"] is True
    assert "source_ids" not in regulators.parameters
    assert "regulators_only" not in deployments["daily"].parameters
    # The news deployment is the other half: with the regulators, every enabled source once.
    assert deployments["news"].flow_name == "daily-ingest"
    assert deployments["news"].parameters["partition"] == "news"
    assert "partition" not in deployments["daily"].parameters
    assert {d.parameters["db_url"] for d in deployments.values()} == {"sqlite:///served.db"}


def disagreements(served: dict[str, Any], described: dict[str, dict[str, Any]]) -> list[str]:
    """Every way the ``prefect.yaml`` deployments differ from the served ones."""
    from prefect.flows import load_flow_from_entrypoint

    found: list[str] = []
    if list(described) != list(served):
        found.append(f"names: {list(described)} != {list(served)}")
    for name, entry in described.items():
        deployment = served.get(name)
        if deployment is None:
            continue
        path, function = entry["entrypoint"].split(":")
        if path != deployment.entrypoint.split(":")[0]:
            found.append(f"{name}: entrypoint file {path}")
        # The entrypoint a worker loads is the flow serve runs (backfill is its own flow name).
        flow = load_flow_from_entrypoint(f"{REPO / path}:{function}")
        if flow.name != deployment.flow_name:
            found.append(f"{name}: flow {flow.name}")
        schedules = [(s["cron"], s["timezone"]) for s in entry.get("schedules") or []]
        if schedules != crons(deployment):
            found.append(f"{name}: schedules {schedules}")
        parameters = entry.get("parameters") or {}
        if set(parameters) != set(deployment.parameters):
            found.append(f"{name}: parameters {sorted(parameters)}")
        if not set(parameters) <= set(inspect.signature(flow.fn).parameters):
            found.append(f"{name}: parameters the flow does not take")
        for key in sorted(set(parameters) & set(deployment.parameters) - FROM_ENVIRONMENT):
            if parameters[key] != deployment.parameters[key]:
                found.append(f"{name}: {key} = {parameters[key]!r}")
        if (entry.get("work_pool") or {}).get("name") != WORK_POOL:
            found.append(f"{name}: work pool")
        if sorted(entry.get("tags") or []) != sorted(deployment.tags):
            found.append(f"{name}: tags")
        if entry.get("description") != deployment.description:
            found.append(f"{name}: description")
    return found


def test_prefect_yaml_describes_the_served_deployments(monkeypatch: pytest.MonkeyPatch) -> None:
    assert disagreements(served(monkeypatch), described()) == []


def test_prefect_yaml_drift_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    deployments, yaml_deployments = served(monkeypatch), described()
    yaml_deployments["regulators"]["schedules"][0]["timezone"] = "UTC"
    yaml_deployments["regulators"]["parameters"]["regulators_only"] = False
    yaml_deployments["backfill"]["entrypoint"] = "flows/daily_ingest.py:daily_ingest"
    del yaml_deployments["retag"]["work_pool"]
    assert disagreements(deployments, yaml_deployments) == [
        "regulators: schedules [('*/30 * * * *', 'UTC')]",
        "regulators: regulators_only = False",
        "backfill: flow daily-ingest",
        "retag: work pool",
    ]


def partition_ids(partition: str | None = None, *, regulators_only: bool = False) -> set[str]:
    """The ids of the shipped sources a run of ``partition`` reads."""
    options = IngestOptions(
        db_url="sqlite://",
        config_dir=REPO,
        partition=partition,
        regulators_only=regulators_only,
    )
    return {source.id for source in load_run_config(options).sources}


def test_the_partitions_read_every_enabled_source_once() -> None:
    every, regulators, news = partition_ids(), partition_ids("regulators"), partition_ids("news")
    assert regulators and news
    assert regulators | news == every
    assert regulators.isdisjoint(news)
    assert {"hkma-press", "sfc-news"} <= regulators
    assert {"scmp-business", "coindesk"} <= news
    # The regulators deployment's flag and the partition are one and the same.
    assert partition_ids(regulators_only=True) == regulators
    assert partition_ids("regulators", regulators_only=True) == regulators


@pytest.mark.parametrize(
    ("partition", "regulators_only", "message"),
    [
        ("regulator", False, "partition 'regulator' is not one of: regulators, news"),
        ("news", True, "regulators_only and partition 'news' ask for different sources"),
    ],
)
def test_an_unknown_or_contradictory_partition_is_refused(
    partition: str, regulators_only: bool, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        partition_ids(partition, regulators_only=regulators_only)


def test_ingest_refuses_a_partition_before_prefect_starts(tmp_path: Path) -> None:
    regulators_only = tmp_path / "sources.toml"
    regulators_only.write_text(
        '[[source]]\nid = "hkma-press"\nname = "HKMA"\nkind = "rss"\nregulator = true\n'
        'urls = ["https://www.hkma.gov.hk/feed.xml"]\n',
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'partition.db'}"
    common = ["--sources", str(regulators_only), "--db", url]
    unknown = CliRunner().invoke(app, ["ingest", "--partition", "regulator", *common])
    assert unknown.exit_code != 0
    assert "partition 'regulator' is not one of: regulators, news" in unknown.output
    empty = CliRunner().invoke(app, ["ingest", "--partition", "news", *common])
    assert empty.exit_code != 0
    assert "every enabled source has regulator = true" in empty.output
    # Refused by the check before the flow: no run was started or recorded.
    assert not (tmp_path / "partition.db").exists() or not _runs(url)


def _runs(url: str) -> list[object]:
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            return list(repo.latest_runs(session, limit=5))
    finally:
        engine.dispose()


def test_serve_help_names_every_schedule() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    for words in ("07:00 Hong Kong time", "every 30 minutes", "every 5 minutes", "prefect.yaml"):
        assert words in output, words


def two_sources(site: LocalSite, directory: Path, *, regulator: bool = True) -> Path:
    """A regulator source and a news source, each one item on ``site``."""
    for name in ("reg", "news"):
        site.set(f"/{name}.xml", feed([f"{site.url}/{name}/1.html"]))
        site.set(f"/{name}/1.html", page(f"{name} item one"))
    path = directory / "sources.toml"
    path.write_text(
        f'[[source]]\nid = "reg"\nname = "Regulator"\nkind = "rss"\n'
        f"regulator = {'true' if regulator else 'false'}\n"
        f'urls = ["{site.url}/reg.xml"]\n'
        f'[[source]]\nid = "news"\nname = "News"\nkind = "rss"\n'
        f'urls = ["{site.url}/news.xml"]\n',
        encoding="utf-8",
    )
    return path


def flow_arguments(url: str, sources: Path, directory: Path) -> dict[str, Any]:
    alerts = directory / "alerts.toml"
    alerts.write_text("", encoding="utf-8")
    return {
        "db_url": url,
        "sources_path": str(sources),
        "taxonomy_path": str(REPO / "taxonomy.toml"),
        "alerts_path": str(alerts),
    }


@pytest.mark.flow
def test_a_regulators_flow_run_reads_only_the_regulator_sources(
    prefect_harness: None, local_site: LocalSite, tmp_path: Path
) -> None:
    from flows.daily_ingest import daily_ingest

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    arguments = flow_arguments(url, two_sources(local_site, tmp_path), tmp_path)
    result = asyncio.run(daily_ingest(**arguments, regulators_only=True))
    assert result["status"] == "completed", result
    assert list(result["sources"]) == ["reg"]
    assert result["new_articles"] == 1
    assert not local_site.asked(prefix="/news"), "the news source must not be read"
    assert local_site.asked(prefix="/reg") == ["/reg.xml", "/reg/1.html"]
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            [run] = repo.latest_runs(session, limit=5)
    finally:
        engine.dispose()
    assert run.options["regulators_only"] is True
    assert [s.source_id for s in run.sources] == ["reg"]


@pytest.mark.flow
def test_a_news_partition_flow_run_reads_only_the_other_sources(
    prefect_harness: None, local_site: LocalSite, tmp_path: Path
) -> None:
    from flows.daily_ingest import daily_ingest

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    arguments = flow_arguments(url, two_sources(local_site, tmp_path), tmp_path)
    result = asyncio.run(daily_ingest(**arguments, partition="news"))
    assert result["status"] == "completed", result
    assert list(result["sources"]) == ["news"]
    assert not local_site.asked(prefix="/reg"), "the regulator source must not be read"
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            [run] = repo.latest_runs(session, limit=5)
    finally:
        engine.dispose()
    assert run.options["partition"] == "news"
    assert run.options["regulators_only"] is False


@pytest.mark.flow
def test_a_regulators_run_without_regulator_sources_ends_failed(
    prefect_harness: None, local_site: LocalSite, tmp_path: Path
) -> None:
    from flows.daily_ingest import daily_ingest

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    sources = two_sources(local_site, tmp_path, regulator=False)
    arguments = flow_arguments(url, sources, tmp_path)
    state = asyncio.run(daily_ingest(**arguments, regulators_only=True, return_state=True))
    # Nothing to read every half hour must show, not pass as an empty success.
    assert state.is_failed(), state
    assert f"{sources}: no enabled source has regulator = true" in str(state.message)
    assert local_site.requests == []
