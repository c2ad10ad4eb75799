"""Every CLI command has help text and is documented in the README; query commands skip Prefect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from support import REPO
from typer.testing import CliRunner

from pipeline.cli import app


def all_commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, command: Any) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            found.append((prefix, command))

    walk("", root)
    return found


COMMANDS = all_commands()
CONFIG_FILES = ("sources.toml", "taxonomy.toml", "alerts.toml")


def test_the_contract_commands_exist() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"ingest", "search", "alerts list", "sources check", "db upgrade"} <= names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_and_is_documented(name: str, command: Any) -> None:
    assert command.help and command.help.strip(), f"{name} has no help text"
    result = CliRunner().invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"newswatch {name}" in readme, f"`newswatch {name}` is not in README.md"


def test_commands_that_run_no_flow_do_not_import_prefect(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    sources, taxonomy, alerts = (str(REPO / name) for name in CONFIG_FILES)
    commands = [
        ["search", "hkma", "--format", "json", "--db", url],
        ["alerts", "list", "--format", "json", "--db", url],
        ["runs", "--format", "json", "--db", url],
        ["export", "--out", str(tmp_path / "out.csv"), "--db", url],
        ["alerts", "retry", "--all", "--db", url],
        ["alerts", "preview", "hkma-new-item", "--db", url, "--alerts", alerts],
        ["db", "upgrade", "--db", url],
        ["sources", "check", "--sources", sources, "--taxonomy", taxonomy, "--alerts", alerts],
        ["sources", "list", "--sources", sources],
        ["retag", "--format", "json", "--db", url, "--taxonomy", taxonomy],
    ]
    script = (
        "import sys\n"
        "from pipeline.store import db\n"
        f"db.upgrade({url!r})\n"
        "from pipeline.cli import app\n"
        f"for argv in {commands!r}:\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (argv, exc.code)\n"
        "print('PREFECT_LOADED' if 'prefect' in sys.modules else 'PREFECT_ABSENT')\n"
    )
    # Run in the test's own directory: the shipped files are named by absolute path.
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert '"considered": 0' in result.stdout
    assert result.stdout.strip().endswith("PREFECT_ABSENT")
