"""Beyond one machine: a real Prefect server over Postgres, a process work pool, the deployments
of ``prefect.yaml``, two workers, and one ingestion split into its two partitions (the
regulators and the news), both into one Postgres project database.

The slow, multi-process test of the suite (marked ``flow`` and ``postgres``; it skips without
``NEWSWATCH_TEST_POSTGRES_URL``, which CI sets). Every process it starts (the server, the
workers and the flow runs they spawn) runs in a session of its own and is stopped, and both
databases are dropped, whatever happens.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from support import REPO

from pipeline.alerts import DeliveryReport
from pipeline.ingest import IngestOptions, load_run_config, run_once
from pipeline.store import db

pytestmark = [pytest.mark.flow, pytest.mark.postgres]

PREFECT = str(Path(sys.executable).with_name("prefect"))
NEWSWATCH = str(Path(sys.executable).with_name("newswatch"))
POOL = "newswatch"
WORKERS = ("worker-a", "worker-b")
# The two halves of a run, each a deployment of prefect.yaml.
DEPLOYMENTS = {"regulators": "regulators", "news": "news"}
REPLAY = REPO / "fixtures" / "http"
STARTUP_TIMEOUT = 120.0
RUN_TIMEOUT = 180.0
# Prefect's CLI (3.8, 3.9) creates the deployment, then asks its own server for the pool's workers
# with an empty limit, which the server refuses (HTTP 422); the deployment stands.
KNOWN_DEPLOY_ERROR = "workers/filter' - Response: {'exception_message': 'Invalid request"


@dataclass
class Processes:
    """Processes started for the test, each in a session of its own (with its children)."""

    directory: Path
    started: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Start ``command``; its output goes to ``<name>.log`` in the directory."""
        with (self.directory / f"{name}.log").open("wb") as log:
            self.started[name] = subprocess.Popen(
                command,
                env=env,
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name: str) -> str:
        """What the process printed so far."""
        return (self.directory / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def check_alive(self) -> None:
        """Fail, with its output, when a started process has ended."""
        for name, process in self.started.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")

    def stop(self) -> None:
        """Interrupt every process group, then kill what is left."""
        for process in self.started.values():
            _signal_group(process, signal.SIGINT)
        deadline = time.monotonic() + 20
        for process in self.started.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # The flow runs a worker spawned share its session: none may outlive the test.
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


@dataclass
class SplitRun:
    """What the split run left: where to look, and what Prefect was asked."""

    project_url: str
    api_url: str
    config_dir: Path
    alerts_file: Path
    flow_runs: dict[str, Any]
    workers: list[Any]


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def config_dir(directory: Path) -> tuple[Path, Path]:
    """The shipped configuration, its alerts written to a file here (not the repository,
    where the workers run the flows)."""
    directory.mkdir()
    for name in ("sources.toml", "taxonomy.toml"):
        shutil.copy(REPO / name, directory / name)
    alerts_file = directory / "alerts.jsonl"
    shipped = (REPO / "alerts.toml").read_text(encoding="utf-8")
    assert shipped.count('path = "alerts.jsonl"') == 1
    (directory / "alerts.toml").write_text(
        shipped.replace('path = "alerts.jsonl"', f'path = "{alerts_file}"'), encoding="utf-8"
    )
    return directory, alerts_file


def prefect(env: dict[str, str], *arguments: str, cwd: Path) -> str:
    """Run the Prefect CLI; its output, or the test fails with it."""
    result = subprocess.run(
        [PREFECT, "--no-prompt", *arguments],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    deployed = arguments[0] == "deploy" and "successfully created" in output
    if result.returncode != 0 and not (deployed and KNOWN_DEPLOY_ERROR in output):
        pytest.fail(f"prefect {' '.join(arguments)} exited {result.returncode}:\n{output}")
    return output


def wait_for(what: str, check: Any, timeout: float, processes: Processes) -> Any:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.check_alive()
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def server_healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def _prefect_read(api_url: str, flow_run_ids: list[str]) -> tuple[list[Any], list[Any]]:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        runs = [await client.read_flow_run(UUID(run_id)) for run_id in flow_run_ids]
        workers = await client.read_workers_for_work_pool(POOL, limit=10, offset=0)
    return runs, workers


def prefect_read(api_url: str, flow_run_ids: list[str]) -> tuple[list[Any], list[Any]]:
    """The flow runs, and the pool's workers, as the server knows them."""
    return asyncio.run(_prefect_read(api_url, flow_run_ids))


def start_server(processes: Processes, env: dict[str, str], database_url: str) -> str:
    """A Prefect server on 127.0.0.1 over its own Postgres database; its API URL once healthy."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    server_env = {
        **env,
        "PREFECT_API_DATABASE_CONNECTION_URL": make_url(database_url)
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False),
        "PREFECT_UI_ENABLED": "false",
    }
    # No services: the scheduler would otherwise queue the deployments' scheduled runs.
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    processes.start("server", [*command, "--no-services"], server_env)
    wait_for("the Prefect server", lambda: server_healthy(api_url), STARTUP_TIMEOUT, processes)
    return api_url


def trigger(env: dict[str, str], deployment: str, cwd: Path) -> str:
    """Start one flow run of the deployment, replayed; its id."""
    output = prefect(
        env,
        "deployment",
        "run",
        f"daily-ingest/{deployment}",
        "--param",
        f"replay={REPLAY}",
        cwd=cwd,
    )
    found = re.search(r"UUID: ([0-9a-f-]{36})", output)
    assert found, output
    return found.group(1)


def start_workers(processes: Processes, env: dict[str, str], db_url: str, config: Path) -> None:
    """The two workers, their environment naming the project database and configuration."""
    worker_env = {
        **env,
        "NEWSWATCH_DB_URL": db_url,
        "NEWSWATCH_CONFIG_DIR": str(config),
        # Poll every second, not every ten: the test waits on it.
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    for worker in WORKERS:
        # One flow run at a time each, so the two runs go to both workers.
        command = [PREFECT, "worker", "start", "--pool", POOL, "--name", worker, "--limit", "1"]
        processes.start(worker, command, worker_env)


@pytest.fixture(scope="module")
def split_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SplitRun]:
    """The regulators and the news deployments run once each by two workers of a process
    pool, against a Prefect server of their own; everything stopped and dropped after."""
    from conftest import POSTGRES_URL_ENV, postgres_database

    server = os.environ.get(POSTGRES_URL_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: no Postgres server to test against")
    directory = tmp_path_factory.mktemp("prefect-workers")
    configuration, alerts_file = config_dir(directory / "config")
    processes = Processes(directory)
    with ExitStack() as stack:
        project_url = stack.enter_context(postgres_database(server))
        prefect_db = stack.enter_context(postgres_database(server))
        # Migrated before the workers start, as the operations guide has an operator do.
        db.upgrade(project_url)
        stack.callback(processes.stop)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PREFECT_", "NEWSWATCH_"))
        }
        env.update(PREFECT_HOME=str(directory / "prefect-home"), PREFECT_LOGGING_LEVEL="WARNING")
        env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        api_url = start_server(processes, env, prefect_db)
        env["PREFECT_API_URL"] = api_url
        prefect(env, "work-pool", "create", POOL, "--type", "process", cwd=directory)
        # From the checkout, as an operator deploys: the flows run from where this ran.
        for name in DEPLOYMENTS.values():
            prefect(env, "deploy", "--name", name, cwd=REPO)
        flow_run_ids = {part: trigger(env, name, directory) for part, name in DEPLOYMENTS.items()}
        start_workers(processes, env, project_url, configuration)

        def finished() -> list[Any] | None:
            runs, _ = prefect_read(api_url, list(flow_run_ids.values()))
            return runs if all(run.state and run.state.is_final() for run in runs) else None

        runs = wait_for("both flow runs to finish", finished, RUN_TIMEOUT, processes)
        _, workers = prefect_read(api_url, [])
        yield SplitRun(
            project_url=project_url,
            api_url=api_url,
            config_dir=configuration,
            alerts_file=alerts_file,
            flow_runs=dict(zip(flow_run_ids, runs, strict=True)),
            workers=workers,
        )
    assert all(process.poll() is not None for process in processes.started.values())


def rows(engine: Engine, query: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(query)))


@pytest.fixture(scope="module")
def project(split_run: SplitRun) -> Iterator[Engine]:
    """An engine on the project database the workers wrote."""
    engine = db.make_engine(split_run.project_url)
    yield engine
    engine.dispose()


def partition_sources(config: Path, partition: str | None) -> set[str]:
    """The ids of the enabled sources a run of ``partition`` reads."""
    options = IngestOptions(db_url="sqlite://", config_dir=config, partition=partition)
    return {source.id for source in load_run_config(options).sources}


def test_both_flow_runs_completed_in_prefect(split_run: SplitRun) -> None:
    for partition, run in split_run.flow_runs.items():
        assert run.state.is_completed(), (partition, run.state)
        assert run.work_pool_name == POOL
        assert run.parameters["replay"] == str(REPLAY)
    # Both workers were up, polling the pool; each run names the worker that ran it.
    assert {worker.name for worker in split_run.workers} == set(WORKERS)
    assert {str(worker.status.value) for worker in split_run.workers} == {"ONLINE"}
    ran_on = {p: run.labels.get("prefect.worker.name") for p, run in split_run.flow_runs.items()}
    # Which worker takes which run is Prefect's choice; each took at most one at a time.
    print(f"flow runs by worker: {ran_on}")
    assert set(ran_on.values()) <= set(WORKERS), ran_on


def test_every_source_is_read_once_across_the_two_runs(
    split_run: SplitRun, project: Engine
) -> None:
    runs = rows(project, "SELECT id, status, flow_run_id, options FROM runs ORDER BY id")
    by_partition = {json_options(run.options)["partition"]: run for run in runs}
    assert sorted(by_partition) == ["news", "regulators"], runs
    for partition, run in by_partition.items():
        assert run.status == "completed", run
        assert run.flow_run_id == str(split_run.flow_runs[partition].id)
    read = rows(project, "SELECT run_id, source_id, status FROM run_sources")
    counts = Counter(row.source_id for row in read)
    assert set(counts.values()) == {1}, counts
    assert set(counts) == partition_sources(split_run.config_dir, None)
    for partition, run in by_partition.items():
        read_by_run = {row.source_id for row in read if row.run_id == run.id}
        assert read_by_run == partition_sources(split_run.config_dir, partition)
    assert {row.status for row in read} == {"ok"}


def json_options(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value)


def test_the_split_run_stores_what_one_run_stores(
    split_run: SplitRun, project: Engine, tmp_path: Path
) -> None:
    # The same sources, replayed in one plain run without Prefect, on SQLite.
    url = f"sqlite:///{tmp_path / 'one-run.db'}"
    options = IngestOptions(db_url=url, config_dir=split_run.config_dir, replay=REPLAY)
    outcome = asyncio.run(run_once(options, deliver=lambda *_: DeliveryReport()))
    assert outcome.status == "completed"
    one_run = db.make_engine(url)
    try:
        expected = {row.item_key for row in rows(one_run, "SELECT item_key FROM articles")}
    finally:
        one_run.dispose()
    stored = [row.item_key for row in rows(project, "SELECT item_key FROM articles")]
    assert len(stored) == len(set(stored)) == len(expected) > 200
    assert set(stored) == expected


def test_no_alert_is_owed_or_sent_twice(split_run: SplitRun, project: Engine) -> None:
    alerts = rows(project, "SELECT rule, story_id, channel, event, status, key FROM alerts")
    assert alerts
    owed = Counter((a.rule, a.story_id, a.channel, a.event) for a in alerts)
    assert max(owed.values()) == 1
    lines = split_run.alerts_file.read_text(encoding="utf-8").splitlines()
    assert lines, "the runs sent no alert"
    assert len(lines) == len(set(lines)), "an alert message was written twice"
    sent = {a.key for a in alerts if a.channel == "jsonl" and a.status == "sent"}
    assert len(lines) == len(sent)


def test_newswatch_runs_shows_both_runs(split_run: SplitRun) -> None:
    result = subprocess.run(
        [NEWSWATCH, "runs", "--db", split_run.project_url, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shown = {run["flow_run_id"]: run for run in json.loads(result.stdout)}
    for partition, flow_run in split_run.flow_runs.items():
        run = shown[str(flow_run.id)]
        assert run["status"] == "completed"
        assert run["options"]["partition"] == partition
