"""Reading runs: the recent ingestion runs with each source's counts and error; marking the
runs that died.

The read side of ``runs`` (which records them): SQL text read through a
``pipeline.store.reader.Reader`` (or a caller's session), so ``newswatch runs`` starts without
SQLAlchemy. ``repo`` exports these for the library's callers.

A run records the process that started it (pid and host) and a heartbeat, its last write. A run
still ``running`` whose process is gone from this host, or whose heartbeat is older than
``RUN_STALE_AFTER``, died: ``mark_crashed_runs`` marks it ``crashed`` with the reason. The next
run does so when it starts, and so do ``newswatch runs`` and ``newswatch health``: a single
read when no run is left ``running``, one small write when one died.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import StoreError
from pipeline.settings import HONG_KONG_TZ, RUN_STALE_AFTER
from pipeline.store.reader import (
    EngineReader,
    Reader,
    SessionReader,
    SqliteReader,
    bind_list,
    json_value,
    reader_for,
    stored_time,
    utc,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_RUN_COLUMNS = "id, flow_run_id, started_at, finished_at, status, options, error, pid, host"
_RUN_COLUMNS += ", heartbeat_at"
# A process started this long after its run did is another process that got the same pid: the
# run is recorded after its process starts, and the kernel's boot time is kept to the second.
PID_REUSE_SLACK = timedelta(seconds=2)


@dataclass(frozen=True)
class RunSourceRecord:
    """One source's outcome in one run."""

    source_id: str
    status: str
    found: int
    new: int
    duplicates: int
    errors: int
    error: str | None
    finished_at: datetime
    # Seconds, when the run measured it.
    duration: float | None = None


@dataclass(frozen=True)
class RunRecord:
    """A run with its per-source outcomes."""

    id: int
    flow_run_id: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    options: dict[str, Any]
    error: str | None
    sources: tuple[RunSourceRecord, ...]
    pid: int | None = None
    host: str | None = None
    heartbeat_at: datetime | None = None

    def seconds(self, now: datetime) -> float:
        """How long the run took, or has been running at ``now``."""
        return ((self.finished_at or now) - self.started_at).total_seconds()


def latest_runs(db: Session | Reader, limit: int = 10) -> list[RunRecord]:
    """The most recent runs, newest first."""
    reader = reader_for(db)
    runs = reader.rows(
        f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT :limit", {"limit": limit}
    )
    return _records(reader, runs)


def run_by_id(db: Session | Reader, run_id: int) -> RunRecord | None:
    """The run ``run_id`` with its per-source outcomes; None when there is none."""
    reader = reader_for(db)
    runs = reader.rows(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = :id", {"id": run_id})
    found = _records(reader, runs)
    return found[0] if found else None


def count_runs(db: Session | Reader) -> int:
    """How many runs are recorded."""
    return int(reader_for(db).rows("SELECT COUNT(*) AS n FROM runs")[0]["n"])


def _records(reader: Reader, runs: list[dict[str, Any]]) -> list[RunRecord]:
    per_run = _sources(reader, [run["id"] for run in runs])
    return [
        RunRecord(
            id=run["id"],
            flow_run_id=run["flow_run_id"],
            started_at=stored_time(run["started_at"]),
            finished_at=utc(run["finished_at"]),
            status=run["status"],
            options=dict(json_value(run["options"]) or {}),
            error=run["error"],
            sources=tuple(per_run.get(run["id"], ())),
            pid=run["pid"],
            host=run["host"],
            heartbeat_at=utc(run["heartbeat_at"]),
        )
        for run in runs
    ]


def _sources(reader: Reader, run_ids: list[int]) -> dict[int, list[RunSourceRecord]]:
    """Each run's per-source outcomes, by source id."""
    if not run_ids:
        return {}
    params: dict[str, Any] = {}
    sql = (
        "SELECT run_id, source_id, status, found, new, duplicates, errors, error, finished_at,"
        f" duration FROM run_sources WHERE run_id IN ({bind_list('run', run_ids, params)})"
        " ORDER BY source_id"
    )
    per_run: dict[int, list[RunSourceRecord]] = {}
    for row in reader.rows(sql, params):
        per_run.setdefault(row["run_id"], []).append(
            RunSourceRecord(
                source_id=row["source_id"],
                status=row["status"],
                found=row["found"],
                new=row["new"],
                duplicates=row["duplicates"],
                errors=row["errors"],
                error=row["error"],
                finished_at=stored_time(row["finished_at"]),
                duration=row["duration"],
            )
        )
    return per_run


def run_record_dict(record: RunRecord) -> dict[str, Any]:
    """A JSON-able form of a run record: times in Hong Kong time (ISO 8601 with the offset),
    as every JSON output gives them."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return _hong_kong(value).isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    result: dict[str, Any] = plain(asdict(record))
    return result


def this_host() -> str:
    """The name runs record for the machine they run on."""
    return socket.gethostname()


def crash_reason(
    *,
    pid: int | None,
    host: str | None,
    started_at: datetime,
    heartbeat_at: datetime | None,
    now: datetime,
    here: str,
) -> str | None:
    """Why a run still marked ``running`` is dead; None while it may be alive.

    On the machine that started it, its process decides: gone, the run died. Elsewhere, for a
    run that recorded no process, or where processes cannot be probed, only its heartbeat can:
    silent for longer than ``RUN_STALE_AFTER``."""
    last = heartbeat_at or started_at
    alive = _process_alive(pid, started_at) if pid is not None and host == here else None
    if alive is not None:
        if alive:
            return None
        return f"crashed: its process {pid} on {host} is gone (last heartbeat {_shown(last)})"
    silent = now - last
    if silent <= RUN_STALE_AFTER:
        return None
    where = f"process {pid} on {host}" if pid is not None else "no process recorded"
    return (
        f"crashed: no heartbeat for {_span(silent)} (since {_shown(last)}; {where}), more than"
        f" the {_span(RUN_STALE_AFTER)} after which a silent run is taken for dead"
    )


def mark_crashed_runs(db: Session | Reader, now: datetime | None = None) -> dict[int, str]:
    """Mark every ``running`` run that died ``crashed``, with why in its error; the ids marked
    and why. A run that finishes meanwhile keeps its own status.

    A reader of its own (a command's) commits the change; a caller's session keeps it in its
    transaction. ``StoreError`` when the database refuses the write (e.g. a read-only file)."""
    reader = reader_for(db)
    moment = now or datetime.now(UTC)
    here = this_host()
    dead: dict[int, tuple[str, datetime]] = {}
    for row in reader.rows(
        "SELECT id, pid, host, started_at, heartbeat_at FROM runs WHERE status = 'running'"
    ):
        started, beat = stored_time(row["started_at"]), utc(row["heartbeat_at"])
        reason = crash_reason(
            pid=row["pid"],
            host=row["host"],
            started_at=started,
            heartbeat_at=beat,
            now=moment,
            here=here,
        )
        if reason is not None:
            dead[row["id"]] = (reason, beat or started)
    if dead:
        _write_crashed(reader, dead)
    return {run_id: reason for run_id, (reason, _) in dead.items()}


def _write_crashed(reader: Reader, dead: dict[int, tuple[str, datetime]]) -> None:
    """One guarded UPDATE per dead run; it ends at its last sign of life."""
    sql = (
        "UPDATE runs SET status = 'crashed', finished_at = :at, error = :error"
        " WHERE id = :id AND status = 'running'"
    )
    rows = [
        {"id": run_id, "error": reason, "at": reader.time(last)}
        for run_id, (reason, last) in dead.items()
    ]
    if isinstance(reader, SqliteReader):
        try:
            reader.connection.executemany(sql, rows)
            reader.connection.commit()
        except sqlite3.Error as exc:
            reader.connection.rollback()
            raise StoreError(f"cannot mark runs crashed: {exc}") from exc
        return
    if isinstance(reader, SessionReader):
        _write_in_session(reader, sql, rows)
        return
    raise StoreError(f"cannot mark runs crashed through {type(reader).__name__}")


def _write_in_session(reader: SessionReader, sql: str, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    owned = isinstance(reader, EngineReader)
    try:
        reader.session.execute(text(sql), rows)
        if owned:
            reader.session.commit()
    except SQLAlchemyError as exc:
        if owned:
            reader.session.rollback()
        raise StoreError(f"cannot mark runs crashed: {exc}") from exc


def _process_alive(pid: int, run_started: datetime) -> bool | None:
    """Whether process ``pid`` of this machine still runs the run started at ``run_started``;
    None where that cannot be known."""
    if os.name != "posix":
        return None  # no signal 0 to probe with (os.kill would end the process)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    found = _linux_process(pid)
    if found is None:
        return True
    state, started = found
    # A zombie has ended; only its parent has not collected its exit status yet.
    return state != "Z" and started <= run_started + PID_REUSE_SLACK


def _linux_process(pid: int) -> tuple[str, datetime] | None:
    """Process ``pid``'s state letter and start time, from /proc; None where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text(encoding="ascii").splitlines()
            if line.startswith("btime ")
        )
        # The fields after the command name, which may hold spaces and ")": the state is
        # field 3, the start time (clock ticks after boot) field 22.
        fields = stat[stat.rindex(")") + 2 :].split()
        started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return fields[0], datetime.fromtimestamp(started, UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _hong_kong(moment: datetime) -> datetime:
    # zoneinfo, not pipeline.dates: the query commands would pay for that module's imports.
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(HONG_KONG_TZ))


def _shown(moment: datetime) -> str:
    """A time as an operator reads it: Hong Kong time to the second."""
    return _hong_kong(moment).strftime("%Y-%m-%d %H:%M:%S HKT")


def _span(span: timedelta) -> str:
    """A length of time to the minute: ``2h05m``, ``3d4h``, ``45m``."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
