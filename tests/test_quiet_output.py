"""An operator's ``newswatch ingest``, without ``--verbose``: the summary and the real errors.

No Prefect INFO line, no traceback for a source that fails (one line names it and its fault),
no telemetry; ``--verbose`` brings Prefect's INFO lines and the traceback back. The command
runs as installed, in a process of its own, without the Makefile's ``PREFECT_LOGGING_LEVEL``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import REPO
from support.cli_process import newswatch

from flows.quiet import (
    LOGGING_CONFIG_ENVS,
    LOGGING_FILES,
    NO_TELEMETRY_ENVIRONMENT,
    ExpectedFailures,
    quiet_prefect,
    use_filtered_logging_config,
)
from pipeline.errors import FeedError, FetchError

FIXTURES = REPO / "fixtures" / "http"
BROKEN = "broken-feed"
BROKEN_URL = "https://broken.example.org/feed.xml"
# What the run says of the fault; the source's line must carry it.
FAULT = "no recorded exchange"
# Prefect's own settings a test run must not inherit: the command has to be quiet by itself.
PREFECT_CHOICES = ("PREFECT_LOGGING_", "PREFECT_SERVER_LOGGING_LEVEL", *NO_TELEMETRY_ENVIRONMENT)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped sources and one whose feed has no recorded answer: a network fault, which
    Prefect retries and then reports with a traceback."""
    path = tmp_path_factory.mktemp("quiet") / "sources.toml"
    path.write_text(
        (REPO / "sources.toml").read_text(encoding="utf-8")
        + f'\n[[source]]\nid = "{BROKEN}"\nname = "A feed gone wrong"\nkind = "rss"\n'
        f'urls = ["{BROKEN_URL}"]\ndoc_type = "news"\n',
        encoding="utf-8",
    )
    return path


def operator_environment() -> dict[str, str]:
    """This environment less Prefect's logging and telemetry choices."""
    return {k: v for k, v in os.environ.items() if not k.startswith(PREFECT_CHOICES)}


def ingest(sources: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``newswatch ingest`` over the recorded fixtures, into a new SQLite database."""
    return newswatch(
        "ingest",
        "--replay",
        str(FIXTURES),
        "--sources",
        str(sources),
        "--db",
        f"sqlite:///{tmp_path / 'quiet.db'}",
        *args,
        env=operator_environment(),
        cwd=tmp_path,
    )


def test_a_run_shows_its_summary_and_one_line_for_a_failed_source(
    sources: Path, tmp_path: Path
) -> None:
    result = ingest(sources, tmp_path, "--source", "hkma-press", "--source", BROKEN)

    output = result.stdout + result.stderr
    # A failed source makes the run "completed with errors", not failed.
    assert result.returncode == 0, output
    assert "completed_with_errors" in result.stdout
    assert "new articles;" in result.stdout
    faults = [line for line in output.splitlines() if BROKEN in line and FAULT in line]
    assert len(faults) == 1 and faults[0].startswith(f"{BROKEN}: "), output
    assert "INFO" not in output
    assert "Traceback" not in output
    assert "telemetry" not in output.lower()
    # Replayed answers reach no site: no word about the contact address sites would see.
    assert "NEWSWATCH_CONTACT" not in output


def test_verbose_brings_back_prefects_lines(sources: Path, tmp_path: Path) -> None:
    result = ingest(sources, tmp_path, "--source", BROKEN, "--verbose")

    # Its one source failed, so the run did.
    assert result.returncode == 1 and "Run 1: failed" in result.stdout, result.stderr
    assert "| INFO    | Flow run" in result.stderr
    # Prefect's own lines about the failed task are back, with the traceback.
    assert f"Task run 'discover-{BROKEN}' - Finished in state Failed" in result.stderr
    assert "Traceback" in result.stderr


def _record(error: BaseException | None, message: str, run: str = "run-1") -> logging.LogRecord:
    """A record as Prefect's task run logger writes it, with the error being handled."""
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    record = logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1, message, (), None)
    record.exc_info = exc_info
    record.task_run_id = run
    return record


def test_expected_failures_lose_their_traceback_and_bugs_keep_it() -> None:
    shortened = ExpectedFailures(drop=False)

    expected = _record(FetchError("feed: timed out"), "Task run failed with exception")
    assert shortened(expected)
    assert expected.exc_info is None
    # The state line after it repeats the error: left out.
    assert not shortened(_record(None, "Finished in state Failed('feed: timed out')"))
    # A failure the task did not retry has the state line alone.
    refused = "Finished in state Failed('Task run encountered an exception FeedError: x: y')"
    assert not shortened(_record(None, refused, run="run-3"))
    bug = _record(ZeroDivisionError("division by zero"), "Task run failed", run="run-2")
    assert shortened(bug)
    assert bug.exc_info is not None
    assert shortened(_record(None, "Finished in state Failed('…')", run="run-2"))

    dropped = ExpectedFailures(drop=True)
    assert not dropped(_record(FeedError("feed: not a feed"), "Task run failed"))


@pytest.fixture
def prefect_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Prefect's logging and telemetry variables unset, and restored after the test."""
    for name in [k for k in os.environ if k.startswith(PREFECT_CHOICES)]:
        monkeypatch.delenv(name)
    for name in NO_TELEMETRY_ENVIRONMENT:
        # Set first so that the teardown restores the variable's absence too.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    yield monkeypatch


def test_telemetry_is_off_unless_the_operator_chose(
    prefect_environment: pytest.MonkeyPatch,
) -> None:
    quiet_prefect(verbose=True)
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert os.environ["DO_NOT_TRACK"] == "1"

    prefect_environment.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")
    prefect_environment.delenv("DO_NOT_TRACK")
    quiet_prefect(verbose=True)
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"


# A process Prefect starts for a served run: it configures logging when it imports Prefect.
RUN_PROCESS = """
import logging

import prefect.main

from pipeline.errors import FetchError

logger = logging.getLogger("prefect.flow_engine")
try:
    raise FetchError("feed-x: https://feed.test/: timed out")
except FetchError as exc:
    logger.error("Task run failed with exception: %r - Retries are exhausted", exc, exc_info=True)
try:
    1 / 0
except ZeroDivisionError as exc:
    logger.error("Task run failed with exception: %r", exc, exc_info=True)
"""


def test_served_runs_show_an_expected_failure_as_one_line(
    prefect_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    prefect_environment.setenv("PREFECT_HOME", str(tmp_path))
    for name in LOGGING_CONFIG_ENVS:
        prefect_environment.delenv(name, raising=False)
    use_filtered_logging_config(drop=False)

    result = subprocess.run(
        [sys.executable, "-c", RUN_PROCESS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = result.stderr.splitlines()
    [expected] = [line for line in lines if "feed-x" in line]
    assert expected.endswith("timed out') - Retries are exhausted")
    # The bug keeps its traceback, the expected failure has none.
    assert result.stderr.count("Traceback") == 1
    assert "ZeroDivisionError: division by zero" in lines


def test_served_runs_keep_the_operators_logging_file(
    prefect_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    prefect_environment.setenv("PREFECT_HOME", str(tmp_path))
    own = tmp_path / "mine.yml"
    prefect_environment.setenv("PREFECT_LOGGING_CONFIG_PATH", str(own))
    use_filtered_logging_config(drop=False)
    assert os.environ["PREFECT_LOGGING_CONFIG_PATH"] == str(own)
    assert not (tmp_path / LOGGING_FILES[False]).exists()
