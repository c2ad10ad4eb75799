"""The operations guide keeps up with the code: every ``NEWSWATCH_`` environment variable the
package reads is in its table of variables (and none that nothing reads), every deployment of
``prefect.yaml`` is in its table of schedules, and it has the sections an operator looks for."""

from __future__ import annotations

import re

import yaml
from support import REPO

GUIDE = REPO / "docs" / "operations.md"
VARIABLE = re.compile(r"NEWSWATCH_[A-Z][A-Z0-9_]*[A-Z0-9]")
SECTIONS = (
    "One machine",
    "Several machines",
    "Upgrades and migrations",
    "Backups",
    "Health check wired to a monitor",
    "Environment variables",
)


def section(text: str, title: str) -> str:
    """The body of the ``## title`` section, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/operations.md has no section '## {title}'"
    return match.group(1)


def table_names(text: str) -> set[str]:
    """The names in the first column of the Markdown tables in ``text``."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def variables_in(*folders: str) -> set[str]:
    """The ``NEWSWATCH_`` variables named in the Python files under ``folders``."""
    found: set[str] = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            found.update(VARIABLE.findall(path.read_text(encoding="utf-8")))
    return found


def documented() -> set[str]:
    return table_names(section(GUIDE.read_text(encoding="utf-8"), "Environment variables"))


def test_every_variable_the_package_reads_is_documented() -> None:
    read = variables_in("pipeline", "flows")
    assert {"NEWSWATCH_DB_URL", "NEWSWATCH_CONFIG_DIR"} <= read
    assert read - documented() == set()


def test_every_documented_variable_is_read_somewhere() -> None:
    named = {name for name in documented() if name.startswith("NEWSWATCH_")}
    assert named - variables_in("pipeline", "flows", "tests", "bench") == set()


def test_a_variable_only_mentioned_in_prose_is_not_documented() -> None:
    # The check reads the table's first column only: a variable merely mentioned in prose is
    # not documented.
    text = "## Environment variables\n\n| variable | what |\n|---|---|\n| `NEWSWATCH_A` | x |\n"
    body = section(text + "\nSee `NEWSWATCH_B` too.\n", "Environment variables")
    assert table_names(body) == {"NEWSWATCH_A"}


def test_the_guide_has_every_section() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for title in SECTIONS:
        assert section(text, title).strip(), title


def test_every_deployment_is_in_the_schedules_table() -> None:
    deployments = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    schedules = section(GUIDE.read_text(encoding="utf-8"), "Schedules")
    listed = {
        row.split("|")[1].strip().strip("`")
        for row in schedules.splitlines()
        if row.startswith("| `")
    }
    assert {d["name"] for d in deployments["deployments"]} == listed
