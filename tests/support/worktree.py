"""A snapshot of the working tree, to show that the tests write nothing in the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Folders that tools, not the tests, write into (by name, at any depth; plus *.egg-info).
IGNORED_FOLDERS = frozenset(
    {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "build"}
)

Snapshot = dict[str, tuple[int, int]]

# The snapshot taken when the session starts, kept on the pytest config.
SESSION_START = pytest.StashKey[Snapshot]()


def _ignored(name: str) -> bool:
    return name in IGNORED_FOLDERS or name.endswith(".egg-info")


def snapshot(root: Path) -> Snapshot:
    """Relative path → (size, mtime in ns) of every file under ``root``, ignored files
    included, except under the tool folders of ``IGNORED_FOLDERS``."""
    files: Snapshot = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not _ignored(name)]
        for name in names:
            path = Path(folder, name)
            try:
                stat = path.lstat()
            except FileNotFoundError:  # removed while the walk went on
                continue
            files[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return files


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """One line per file added, removed or changed between two snapshots."""
    lines = [f"added: {path}" for path in sorted(after.keys() - before.keys())]
    lines += [f"removed: {path}" for path in sorted(before.keys() - after.keys())]
    for path in sorted(before.keys() & after.keys()):
        (size, mtime), (new_size, new_mtime) = before[path], after[path]
        if size != new_size:
            lines.append(f"changed: {path} ({size} → {new_size} bytes)")
        elif mtime != new_mtime:
            lines.append(f"changed: {path} (same size, modified)")
    return lines
