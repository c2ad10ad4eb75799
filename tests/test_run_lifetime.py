"""Nothing a ``newswatch ingest`` run starts outlives it: the temporary Prefect server it needs
(without ``PREFECT_API_URL``) is gone, and its port free, a few seconds after the run ends,
whether it ends normally, on SIGTERM, on Ctrl-C (SIGINT) or killed (SIGKILL).

Real ``newswatch ingest`` processes with a Prefect home of their own; the run to be stopped
reads a feed on 127.0.0.1 that does not answer, so it is caught mid-run (its first request
arrived: Prefect's server is up and in use). The processes are found through /proc.
``newswatch serve`` is held to the same, and its own Prefect server must run the scheduler: a
run on its schedule starts on time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support import REPO
from support.fault_site import FaultSite, answer, silent

pytestmark = [
    pytest.mark.flow,
    pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc"),
]

# Prefect's start on a loaded machine, and the run's way to its first request.
START_TIMEOUT = 180.0
# An orderly end (the flow run cancelled and reported, the server stopped).
END_TIMEOUT = 60.0
# After the run's process ended, what it started is gone within this.
GONE_WITHIN = 5.0
# A run serve started notices serve is gone within a second, then ends in order or is killed.
SERVED_RUN_GONE_WITHIN = 15.0
POLL = 0.1
# A scheduled run starts this soon after its time: Prefect's runner looks for due runs every
# 10 s; the rest is a loaded machine's start of the run's process.
SCHEDULE_SLACK = 45.0
FEED = "/feed.xml"
EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@dataclass(frozen=True)
class Child:
    """A process the run started: its pid, start time (to tell a reused pid) and command."""

    pid: int
    started: str
    command: str

    def running(self) -> bool:
        """Whether the process still runs (a zombie has ended: it holds nothing)."""
        found = _stat(self.pid)
        return found is not None and found[1] == self.started and found[0] != "Z"

    def port(self) -> int | None:
        """The port the Prefect server was told to listen on."""
        words = self.command.split()
        return int(words[words.index("--port") + 1]) if "--port" in words else None


def _stat(pid: int) -> tuple[str, str] | None:
    """The state letter and start time of ``pid``; None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], fields[19]


def _descendants(pid: int) -> list[Child]:
    """Every process below ``pid`` now (children of each of its threads, and theirs)."""
    found: list[Child] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError):
            for word in (task / "children").read_text().split():
                child = int(word)
                stat = _stat(child)
                if stat is None:
                    continue
                with contextlib.suppress(OSError):
                    raw = Path(f"/proc/{child}/cmdline").read_bytes()
                    command = raw.replace(b"\0", b" ").decode(errors="replace")
                    found.append(Child(child, stat[1], command))
                found.extend(_descendants(child))
    return found


def _port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (connections closing on it do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Prefect home for the module's runs (its scratch database is made once)."""
    return tmp_path_factory.mktemp("prefect-home")


@dataclass
class Run:
    """A ``newswatch ingest`` process and what it started."""

    process: subprocess.Popen[bytes]
    log: Path
    children: list[Child]

    def server(self) -> Child:
        """The Prefect API server the run started: one port, whatever its process forks (a
        child between fork and exec still shows the server's command, and a loaded machine
        lets the polling see it)."""
        servers = [c for c in self.children if "prefect.server.api.server" in c.command]
        assert servers and len({c.port() for c in servers}) == 1, self.children
        return min(servers, key=lambda child: int(child.started))

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def start_run(
    fault_site: FaultSite, prefect_home: Path, tmp_path: Path
) -> Iterator[Callable[..., Run]]:
    """Start ``newswatch ingest`` (or the command given) over a configuration whose one source
    is the site's feed; everything is killed at the end."""
    runs: list[Run] = []
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.toml").write_text(
        f'[[source]]\nid = "feed"\nname = "feed"\nkind = "rss"\n'
        f'urls = ["{fault_site.url}{FEED}"]\n',
        encoding="utf-8",
    )
    (config / "alerts.toml").write_text("", encoding="utf-8")
    (config / "taxonomy.toml").write_bytes((REPO / "taxonomy.toml").read_bytes())

    def start(*arguments: str) -> Run:
        command = [sys.executable, "-m", "pipeline.cli", *(arguments or ("ingest",))]
        command += ["--db", f"sqlite:///{tmp_path / 'newswatch.db'}", "--config", str(config)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
        env["PREFECT_HOME"] = str(prefect_home)
        log = tmp_path / f"run-{len(runs)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        runs.append(Run(process, log, []))
        return runs[-1]

    yield start
    for run in runs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.process.pid, signal.SIGKILL)
        run.process.wait(END_TIMEOUT)
        for child in run.children:
            if child.running():
                os.kill(child.pid, signal.SIGKILL)


def _watch_until(run: Run, condition: Callable[[], bool]) -> None:
    """Note the run's processes until ``condition`` holds (or the run ends: a failure)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        for child in _descendants(run.process.pid):
            if child not in run.children:
                run.children.append(child)
        assert run.process.poll() is None or condition(), run.output()[-3000:]
        assert time.monotonic() < deadline, "the run did not get going in time"
        time.sleep(POLL)


def _assert_nothing_left(run: Run, within: float = GONE_WITHIN) -> None:
    """What the run started is gone and the server's port free, soon after the run ended."""
    server = run.server()
    port = server.port()
    assert port is not None, server.command
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = [child for child in run.children if child.running()]
        if not left and _port_free(port):
            return
        time.sleep(POLL)
    left = [child.command for child in run.children if child.running()]
    assert left == [], f"still running after the run ended: {left}"
    assert _port_free(port), f"port {port} still taken"


@pytest.mark.parametrize(
    ("sig", "exit_code"),
    [
        pytest.param(signal.SIGTERM, 128 + signal.SIGTERM, id="sigterm"),
        pytest.param(signal.SIGINT, None, id="sigint"),
        pytest.param(signal.SIGKILL, -signal.SIGKILL, id="sigkill"),
    ],
)
def test_a_stopped_run_leaves_nothing_behind(
    sig: signal.Signals,
    exit_code: int | None,
    fault_site: FaultSite,
    start_run: Callable[..., Run],
) -> None:
    fault_site.set(FEED, silent(120))
    run = start_run()
    _watch_until(run, lambda: fault_site.asked(FEED) > 0)
    assert run.server().running()

    run.process.send_signal(sig)
    code = run.process.wait(END_TIMEOUT)

    if exit_code is not None:
        assert code == exit_code, run.output()[-3000:]
    else:
        assert code != 0, run.output()[-3000:]
    _assert_nothing_left(run)


def test_a_run_that_ends_leaves_nothing_behind(
    fault_site: FaultSite, start_run: Callable[..., Run]
) -> None:
    fault_site.set(FEED, answer(EMPTY_FEED, "application/rss+xml"))
    run = start_run()
    _watch_until(run, lambda: run.process.poll() is not None)

    assert run.process.returncode == 0, run.output()[-3000:]
    _assert_nothing_left(run)



# A parent that starts a flow-run-like child as serve's runner does (the child inherits serve's
# mark and watches it), prints the child's pid, then waits to be killed.
SERVED_CHILD = """
import os, subprocess, sys, time
os.environ["NEWSWATCH_SERVE_PID"] = str(os.getpid())
child = subprocess.Popen([sys.executable, "-c",
    "from flows.served_runs import end_with_serve; end_with_serve(); import time; time.sleep(120)"])
print(child.pid, flush=True)
time.sleep(120)
"""


def test_a_run_started_by_serve_ends_when_serve_is_killed() -> None:
    """The mark serve leaves in its runs' environment: a run whose serve is gone ends."""
    parent = subprocess.Popen(
        [sys.executable, "-c", SERVED_CHILD], stdout=subprocess.PIPE, cwd=REPO
    )
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        started = _stat(child_pid)
        assert started is not None
        child = Child(child_pid, started[1], "served run")
        time.sleep(1.5)  # the child is up and watching
        assert child.running()
        parent.kill()
        parent.wait(END_TIMEOUT)
        deadline = time.monotonic() + SERVED_RUN_GONE_WITHIN
        while child.running() and time.monotonic() < deadline:
            time.sleep(POLL)
        assert not child.running(), "the run outlived serve"
    finally:
        parent.kill()
        parent.wait(END_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.kill(child_pid, signal.SIGKILL)


def test_serve_on_its_own_server_starts_a_scheduled_run_on_time_and_stops_clean(
    fault_site: FaultSite, start_run: Callable[..., Run], tmp_path: Path
) -> None:
    """Without PREFECT_API_URL, serve's own Prefect server runs the scheduler: the daily run,
    set to every minute, starts within SCHEDULE_SLACK of its time and completes; stopped with
    SIGTERM (systemd's stop), serve leaves nothing behind."""
    fault_site.set(FEED, answer(EMPTY_FEED, "application/rss+xml"))
    serve = start_run("serve", "--cron", "* * * * *")
    _watch_until(serve, lambda: "being served" in serve.output())
    assert "PREFECT_API_URL" not in serve.output()
    port = serve.server().port()
    assert port is not None
    db_url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    _watch_until(serve, lambda: "completed" in _statuses(db_url))

    started = _started_flow_runs(port)
    assert started
    for flow_run in started:
        scheduled = datetime.fromisoformat(flow_run["expected_start_time"])
        assert scheduled.second == 0, flow_run  # from the schedule, not started by hand
        late = datetime.fromisoformat(flow_run["start_time"]) - scheduled
        assert late.total_seconds() < SCHEDULE_SLACK, flow_run
    assert fault_site.asked(FEED) >= 1

    serve.process.send_signal(signal.SIGTERM)
    # Prefect's runner takes SIGTERM as a stop in order (exit 0), or newswatch's handler does.
    code = serve.process.wait(END_TIMEOUT)
    assert code in (0, 128 + signal.SIGTERM), serve.output()[-3000:]
    _assert_nothing_left(serve)


def _statuses(db_url: str) -> list[str]:
    """The newswatch runs' statuses; none before serve's first run has made the database."""
    path = Path(db_url.removeprefix("sqlite:///"))
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
        try:
            return [row[0] for row in connection.execute("SELECT status FROM runs")]
        except sqlite3.OperationalError:  # the schema is being created
            return []


def _started_flow_runs(port: int) -> list[dict[str, Any]]:
    """The deployments' flow runs that started, as Prefect's server gives them (the scheduled
    ones waiting are many: the scheduler creates the coming days' runs ahead), leaving out the
    flows a run calls (its alert sending), which start when called."""
    started = {
        "flow_runs": {
            "start_time": {"is_null_": False},
            "deployment_id": {"is_null_": False},
            "parent_task_run_id": {"is_null_": True},
        },
        "limit": 50,
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/flow_runs/filter",
        data=json.dumps(started).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer_:
        runs: list[dict[str, Any]] = json.load(answer_)
    return runs
