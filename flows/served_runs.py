"""A flow run that ``newswatch serve`` started in a process of its own ends when serve does.

Prefect's runner starts each scheduled run in a child process. When serve is killed outright
(SIGKILL, the OOM killer), the runs it started would go on alone, reporting to a server that
died with serve. So serve names itself in the environment its runs inherit
(``SERVE_PID_ENV``), and each flow, as it starts in such a child, watches its parent: once the
parent is gone (the process is handed to another parent) the run is sent SIGTERM, which
Prefect turns into a crashed run, and is killed outright ``KILL_AFTER_SECONDS`` later if it
has not ended. A thread that looks once a second, rather than the kernel's parent-death
signal: that signal follows the parent *thread* that started the process, and Prefect's runner
may start runs from a worker thread that ends before they do.

A flow run in any other process (``newswatch ingest``, a Prefect worker) watches nothing.
"""

from __future__ import annotations

import os
import signal
import threading
import time

SERVE_PID_ENV = "NEWSWATCH_SERVE_PID"
# How often a served run looks for serve: it ends within about this of serve's death.
POLL_SECONDS = 1.0
# An orderly end first; a run still there this much later (its server is gone too, so Prefect's
# client may wait on it) is killed.
KILL_AFTER_SECONDS = 5.0

_watching = threading.Event()


def mark_serving() -> None:
    """In ``newswatch serve``: the runs started from here on watch this process."""
    os.environ[SERVE_PID_ENV] = str(os.getpid())


def end_with_serve() -> None:
    """In a flow: if ``newswatch serve`` started this process, end it when serve is gone."""
    named = os.environ.get(SERVE_PID_ENV, "")
    if not named.isdigit() or int(named) == os.getpid() or os.getppid() != int(named):
        return
    if _watching.is_set():
        return
    _watching.set()
    threading.Thread(
        target=_watch, args=(int(named),), name="newswatch-serve-watch", daemon=True
    ).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(KILL_AFTER_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)
