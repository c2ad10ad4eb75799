"""Runs say who runs them and when they last wrote; a run that died can be marked ``crashed``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14

- ``runs.pid``, ``runs.host``: the process that started the run and its machine, so a later
  run or command on the same machine can see the process is gone;
- ``runs.heartbeat_at``: the run's last write, so a run on another machine that stopped
  writing is taken for dead after a while;
- ``runs.status`` may be ``crashed``;
- ``run_sources.duration``: the seconds a source took, when the run measured it;
- an index on ``run_sources (source_id, finished_at)``: ``newswatch health`` reads each
  source's latest results.

Columns are added and dropped in place. The status check is widened in place too, not by
rebuilding ``runs``: SQLite cannot alter a constraint, and rebuilding ``runs`` drops the table,
which with foreign keys on (they are, on every connection, and cannot be switched off inside
the migration's transaction) deletes every ``run_sources`` row and empties ``sightings.run_id``
through their ``ON DELETE`` actions. So on SQLite the table's SQL in ``sqlite_schema`` is
edited, the procedure SQLite documents for changing a CHECK constraint (ALTER TABLE, "Making
Other Kinds Of Table Schema Changes"): every stored row satisfies the new check, since the
change allows one more value, and the downgrade turns ``crashed`` rows into ``failed`` before
narrowing it again. Existing runs get no pid, host or heartbeat.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0001 named it; the naming convention prefixes it once more in the database.
NAME = "ck_runs_status"
BEFORE = ("running", "completed", "completed_with_errors", "failed")
AFTER = (*BEFORE, "crashed")
INDEX = "ix_run_sources_source_id_finished_at"


def _one_of(values: tuple[str, ...]) -> str:
    # The same text 0001 wrote, so the SQLite edit finds it.
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _run_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    ]


def _sqlite_replace_check(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    bind = op.get_bind()
    table_sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'")
    ).scalar_one()
    old, new = f"CHECK ({_one_of(before)})", f"CHECK ({_one_of(after)})"
    if table_sql.count(old) != 1:
        raise RuntimeError(f"runs: expected the status check {old!r} once in {table_sql!r}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'runs'"),
        {"sql": table_sql.replace(old, new)},
    )
    # A new schema version makes every connection, this one included, read the schema again.
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def _replace_check(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_replace_check(before, after)
        return
    op.drop_constraint(NAME, "runs", type_="check")
    op.create_check_constraint(NAME, "runs", _one_of(after))


def upgrade() -> None:
    """Add pid, host and heartbeat to runs, a duration to run_sources; allow ``crashed``."""
    for column in _run_columns():
        op.add_column("runs", column)
    op.add_column("run_sources", sa.Column("duration", sa.Float(), nullable=True))
    op.create_index(INDEX, "run_sources", ["source_id", "finished_at"])
    _replace_check(BEFORE, AFTER)


def downgrade() -> None:
    """Back to four statuses (a ``crashed`` run becomes ``failed``, its error kept); drop the
    columns and the index. Every run and source result is kept."""
    op.execute(
        "UPDATE runs SET status = 'failed', error = COALESCE(error, 'crashed')"
        " WHERE status = 'crashed'"
    )
    _replace_check(AFTER, BEFORE)
    op.drop_index(INDEX, table_name="run_sources")
    op.drop_column("run_sources", "duration")
    for column in reversed(_run_columns()):
        op.drop_column("runs", column.name)
