"""The data folder beside the repository (``../shared``), which the repository never holds.

It keeps the seed articles, the real regulator API answers and third-party corpora. A clone on
its own has no such folder: the tests that read it call ``shared_path``, which skips them with a
reason naming the missing folder, and carry the ``shared`` marker. ``conftest.py`` counts those
skips for CI, which has the folder and must not skip them. ``NEWSWATCH_SHARED_DIR`` points
elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import REPO

SHARED_DIR_ENV = "NEWSWATCH_SHARED_DIR"
SHARED = Path(os.environ.get(SHARED_DIR_ENV) or REPO.parent / "shared")
# Every skip for missing shared data starts with this, so that it can be told from other skips.
SKIP_PREFIX = "shared data not found"


def shared_path(*parts: str) -> Path:
    """``SHARED`` joined with ``parts``; skips the test, naming what is missing, if absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{SKIP_PREFIX}: {path} ({_missing(path)})")
    return path


def _missing(path: Path) -> str:
    """What is absent on the way to ``path``: the outermost missing folder, else the file."""
    outermost = path
    while outermost != SHARED and not outermost.parent.exists():
        outermost = outermost.parent
    if outermost == path and path.suffix:
        return f"the shared folder {path.parent} holds no {path.name}"
    return f"the shared folder {outermost} is absent"


def is_shared_skip(report: pytest.TestReport) -> bool:
    """Whether ``report`` is of a test skipped by ``shared_path``."""
    if not report.skipped:
        return False
    longrepr = report.longrepr
    # A skip's longrepr is (file, line, "Skipped: reason").
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return message.removeprefix("Skipped: ").startswith(SKIP_PREFIX)
