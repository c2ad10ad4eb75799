"""What an operator sees of Prefect: the run's summary and real errors, not its bookkeeping.

Three kinds of noise are kept off the terminal of the commands that run flows (``ingest``,
``serve``); ``--verbose`` brings Prefect's INFO lines and tracebacks back.

- Prefect's INFO lines (a line per task run, the temporary server starting and stopping): its
  console handler shows WARNING and above. Only the console: the API handler still records every
  line, so a Prefect server's UI shows the runs in full.
- Tracebacks of expected failures: a source that cannot be read raises a ``NewswatchError``
  (``FetchError``, ``FeedError`` …) whose message names the source and the fault. ``ingest``
  prints that message in its summary, so Prefect's lines about it are dropped; ``serve`` prints
  no summary, so it keeps Prefect's one line about the failed task, without the traceback.
  Anything else (a bug) keeps its traceback.
- Telemetry: Prefect's usage analytics are off, so nothing reports to a third party and no
  "Failed to send telemetry" line appears on a machine without internet access.

A command-line run without ``PREFECT_API_URL`` also starts a temporary API server in a child
process. When the command ends right after its flow, that server's event recorder and its
SQLite pool are cancelled mid-flush and log tracebacks at ERROR level. They concern Prefect's
own scratch database, not the run: the run's outcome is stored in newswatch's database and
printed. The child reads its logging levels from the environment when it starts, so they are set
here, before Prefect is imported.

Every setting is an environment variable that the operator may set instead: a value already in
the environment is kept (``PREFECT_LOGGING_LEVEL`` set, say to DEBUG, leaves the console's level
as Prefect configures it; expected failures still come without their traceback).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from importlib.util import find_spec
from pathlib import Path

from pipeline.errors import NewswatchError

QUIET_PREFECT_ENVIRONMENT = {
    # The ``prefect.server`` and ``uvicorn`` loggers of the temporary server.
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    # Unconfigured libraries in the server (its SQLAlchemy pool) log through the root logger.
    "PREFECT_LOGGING_ROOT_LEVEL": "CRITICAL",
}
# Prefect's usage analytics: the server's heartbeat and the client's events.
NO_TELEMETRY_ENVIRONMENT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}
# The level of Prefect's console handler (its ``logging.yml`` reads this variable); the
# temporary server and the processes ``serve`` starts for its runs read it too.
CONSOLE_LEVEL_ENV = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"
QUIET_CONSOLE_LEVEL = "WARNING"
# An operator who set one of these chose what the console shows.
OPERATOR_LEVEL_ENVS = ("PREFECT_LOGGING_LEVEL", CONSOLE_LEVEL_ENV)
# How a failed state names its error: "Failed('Task run encountered an exception FeedError: …')".
FAILED_WITH = re.compile(r"encountered an exception (\w+):")
# Where Prefect reads its logging configuration from, when set.
LOGGING_CONFIG_ENVS = ("PREFECT_LOGGING_CONFIG_PATH", "PREFECT_LOGGING_SETTINGS_PATH")
# Prefect's configuration with the filter, by ``drop``: for commands that print a summary
# (``ingest``) and for those that do not (``serve``).
LOGGING_FILES = {True: "newswatch-logging.yml", False: "newswatch-serve-logging.yml"}
# The console handler in Prefect's logging.yml, and the filter added to it.
CONSOLE_HANDLER = "\n  console:\n    level: 0\n"
CONSOLE_FILTER = """
# newswatch: an expected failure (a NewswatchError) has no traceback on the console; with drop,
# no line either (the command prints it in its summary).
filters:
  newswatch_expected:
    (): flows.quiet.ExpectedFailures
    drop: {drop}
"""
# newswatch's own loggers keep their warnings even though the root logger is quieter.
OWN_LOGGERS = ("pipeline", "flows")


def quiet_embedded_server() -> None:
    """Set the embedded server's log levels (unless already set); call before importing flows."""
    for name, value in QUIET_PREFECT_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for name in OWN_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def quiet_prefect(*, verbose: bool = False, summary: bool = True) -> None:
    """Keep Prefect's INFO lines, expected tracebacks and telemetry off the operator's terminal.

    Call before the flow runs. ``verbose`` leaves the console as Prefect has it; ``summary``
    says the command prints each failed source itself, so Prefect's lines about an expected
    failure are dropped rather than shortened to one line. Prefect is not imported here (its
    import is most of a command's start-up, which the temporary server's start overlaps): it
    reads these settings when it is.
    """
    for name, value in NO_TELEMETRY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    quiet_embedded_server()
    if verbose:
        return
    operator_chose = any(os.environ.get(name) for name in OPERATOR_LEVEL_ENVS)
    if not operator_chose:
        os.environ[CONSOLE_LEVEL_ENV] = QUIET_CONSOLE_LEVEL
    use_filtered_logging_config(drop=summary)
    if "prefect.logging.handlers" in sys.modules:
        # Prefect configured this process's logging already: its handlers are set here.
        from prefect.logging.handlers import PrefectConsoleHandler

        for handler in logging.getLogger().handlers:
            if isinstance(handler, PrefectConsoleHandler):
                if not operator_chose:
                    handler.setLevel(QUIET_CONSOLE_LEVEL)
                if not any(isinstance(f, ExpectedFailures) for f in handler.filters):
                    handler.addFilter(ExpectedFailures(drop=summary))


def use_filtered_logging_config(*, drop: bool) -> None:
    """Have Prefect put ``ExpectedFailures`` on its console, in this process and those it
    starts (the temporary server, the runs ``serve`` starts).

    Prefect configures logging from a file when it is imported: its own, unless
    ``PREFECT_LOGGING_CONFIG_PATH`` (or ``$PREFECT_HOME/logging.yml``) names the operator's,
    which is then used as it is. Otherwise a copy of Prefect's with the filter on the console is
    written to Prefect's home and named in the environment.
    """
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    if any(os.environ.get(name) for name in LOGGING_CONFIG_ENVS):
        return
    if (home / "logging.yml").exists():
        return
    text = filtered_logging_config(drop=drop)
    if text is None:
        return
    path = home / LOGGING_FILES[drop]
    home.mkdir(parents=True, exist_ok=True)
    # Whole or not at all: two commands may start at once.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    os.environ[LOGGING_CONFIG_ENVS[0]] = str(path)


def filtered_logging_config(*, drop: bool) -> str | None:
    """Prefect's logging configuration with ``ExpectedFailures(drop=drop)`` on its console
    handler; None when this Prefect's file is not laid out as expected."""
    spec = find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    default = Path(next(iter(spec.submodule_search_locations))) / "logging" / "logging.yml"
    try:
        text = default.read_text(encoding="utf-8")
    except OSError:
        return None
    if text.count(CONSOLE_HANDLER) != 1 or "\nfilters:" in text:
        return None
    text = text.replace(CONSOLE_HANDLER, f"{CONSOLE_HANDLER}    filters: [newswatch_expected]\n")
    return text + CONSOLE_FILTER.format(drop=str(drop).lower())


class ExpectedFailures:
    """A console handler's filter: Prefect's records of a flow or task run that failed with a
    ``NewswatchError`` lose their traceback (``drop``: are left out altogether). Called with
    each record, it says whether the console shows it (shortened when it is kept)."""

    def __init__(self, *, drop: bool) -> None:
        self.drop = drop
        # Runs that failed with an expected error: their "Finished in state Failed" follows.
        self.expected: set[str] = set()

    def __call__(self, record: logging.LogRecord) -> bool:
        run = _run_of(record)
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, NewswatchError):
            if run is not None:
                self.expected.add(run)
            if self.drop:
                return False
            # Seen by the console alone: the API handler of the run's logger had it before.
            record.exc_info = None
            record.exc_text = None
            return True
        message = record.getMessage()
        if not message.startswith("Finished in state"):
            return True
        # The state repeats the error of the line before; or it is the only line, when the
        # task's retry condition turned the error down.
        if run in self.expected:
            self.expected.discard(run)
            return False
        named = FAILED_WITH.search(message)
        return named is None or named[1] not in _expected_names()


def _expected_names() -> set[str]:
    """The class names of every ``NewswatchError``."""
    names, pending = set(), [NewswatchError]
    while pending:
        kind = pending.pop()
        names.add(kind.__name__)
        pending.extend(kind.__subclasses__())
    return names


def _run_of(record: logging.LogRecord) -> str | None:
    """The task run (else the flow run) a Prefect record is about."""
    for attribute in ("task_run_id", "flow_run_id"):
        value = getattr(record, attribute, None)
        if value is not None:
            return f"{attribute}:{value}"
    return None
