"""The installed ``newswatch`` command run as a process of its own, for tests of what an
operator sees: its output, its exit code, and nothing it started left running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

# Prefect's start on a loaded machine, and a small run.
RUN_SECONDS = 240


def newswatch(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``newswatch`` command; it and its Prefect server end with the call."""
    command = [str(Path(sys.executable).with_name("newswatch")), *args]
    # A session of its own, so that the whole group (Prefect's server too) can be ended.
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_SECONDS)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
