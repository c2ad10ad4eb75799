"""``newswatch sources check|list|pause|resume``: the configured sources and their state.

The configuration says which sources exist; the database says how each fares: failed runs in a
row, a backoff (not read before a time), an operator's pause. ``check`` and ``list`` show that
state when the database can be read, and say why not otherwise; ``pause`` and ``resume`` write
it, so it holds for every scheduler and machine on the database.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    AlertsOption,
    ConfigDirOption,
    DbOption,
    SourcesOption,
    TaxonomyOption,
    VerboseOption,
    config_files,
    console,
    err_console,
    exit_with_problems,
    fail,
    load_or_fail,
    open_engine,
    resolve_db,
    say,
)
from pipeline.errors import ConfigError, NewswatchError

if TYPE_CHECKING:
    from pipeline.models import Source
    from pipeline.store.repo import SourceState

sources_app = typer.Typer(
    help="Inspect the configured sources; pause and resume them.", no_args_is_help=True
)
# Known ids suggested for an unknown one.
SUGGESTIONS = 3
SourceIdArgument = Annotated[
    str, typer.Argument(help="A source id, as in sources.toml.", show_default=False)
]


@sources_app.command("check")
def sources_check(
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    alerts_path: AlertsOption = None,
    db_url: DbOption = None,
) -> None:
    """Validate the configuration files and print every problem with its file, entry and field.

    Says which files it read first: given on the command line, in the configuration directory,
    in the current directory, or the shipped defaults. Then the sources that are paused, backing
    off or failing, with the reason and the next attempt (Hong Kong time), from the database.
    """
    from pipeline.configuration import check_configuration

    files = config_files(
        config_dir, sources=sources_path, taxonomy=taxonomy_path, alerts=alerts_path
    )
    for line in files.describe():
        say(line)
    configuration = check_configuration(files)
    problems = configuration.problems
    if problems:
        for problem in problems:
            # One line per problem, however long, so it can be searched for as written.
            err_console.print(
                Text.assemble(("✗ ", "red"), problem), highlight=False, soft_wrap=True
            )
        err_console.print(f"{len(problems)} problem(s) found")
        raise typer.Exit(1)
    sources = configuration.sources
    enabled = sum(1 for s in sources if s.enabled)
    say(f"✓ {len(sources)} sources ({enabled} enabled), taxonomy and alerts are valid")
    _print_troubled(sources, _read_states(db_url), datetime.now(UTC))


@sources_app.command("list")
def sources_list(
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
    db_url: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List the configured sources, with each one's state from the database: paused (since
    when, why), backing off (failed runs in a row, next attempt) or failing."""
    from pipeline.config import load_sources

    files = config_files(config_dir, sources=sources_path, verbose=verbose)
    try:
        sources = load_sources(files.sources.path)
    except ConfigError as exc:
        exit_with_problems(exc.problems)
    states = _read_states(db_url, verbose=verbose)
    now = datetime.now(UTC)
    table = Table()
    for column in ("id", "kind", "regulator", "doc_type", "enabled", "state", "url"):
        # An id stays whole, to be copied into `sources pause ID`; the rest fold.
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for s in sources:
        state = states.get(s.id)
        table.add_row(
            Text(s.id),
            s.kind,
            "yes" if s.regulator else "",
            Text(s.doc_type),
            str(s.enabled),
            _label(state, now) if state else "",
            Text(s.urls[0]),
        )
    console.print(table)
    # The reasons in full, one line each: a table column would fold them past reading.
    _print_troubled(sources, states, now)


@sources_app.command("pause")
def sources_pause(
    source_id: SourceIdArgument,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why: shown by `sources list` and on every skipped run."),
    ] = None,
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Pause a source: scheduled runs skip it, recording that they did, until it is resumed.

    Recorded in the database, so it holds for every scheduler and machine using it.
    `newswatch ingest --source ID` still reads a paused source.
    """
    from sqlalchemy.orm import Session

    from pipeline.store import db, repo

    source = _known_source(source_id, config_dir, sources_path, verbose)
    url = resolve_db(db_url, verbose=verbose)
    try:
        # Pausing before the first run is fine: a new, empty database gets its schema.
        db.prepare_schema(url)
    except NewswatchError as exc:
        fail(str(exc))
    engine = open_engine(url)
    try:
        with Session(engine) as session, session.begin():
            repo.sync_sources(session, [source])
            state = repo.pause_source(session, source.id, reason=reason, at=repo.utc_now())
    finally:
        engine.dispose()
    say(f"{source.id}: {state.describe(datetime.now(UTC))}")
    say(f"`newswatch ingest --source {source.id}` still reads it. Database: {db.display_url(url)}")


@sources_app.command("resume")
def sources_resume(
    source_id: SourceIdArgument,
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Resume a paused source and clear its backoff: the next scheduled run reads it."""
    from sqlalchemy.orm import Session

    from pipeline.store import repo

    source = _known_source(source_id, config_dir, sources_path, verbose)
    engine = open_engine(db_url, verbose=verbose)
    try:
        with Session(engine) as session, session.begin():
            stored = repo.source_states(session, [source.id])
            before = repo.resume_source(session, source.id) if source.id in stored else None
    finally:
        engine.dispose()
    was: list[str] = []
    if before is not None:
        # The pause and the failures apart: the pause's own text says how to resume.
        unpaused = replace(before, paused_at=None, paused_reason=None)
        found = (before.describe_pause(), unpaused.describe(datetime.now(UTC)))
        was = [text for text in found if text]
    if not was:
        say(f"{source.id} was neither paused nor failing: nothing to resume")
        return
    say(f"{source.id}: resumed; the next run reads it (it was {'; '.join(was)})")


def _known_source(
    source_id: str, config_dir: ConfigDirOption, sources_path: SourcesOption, verbose: bool
) -> Source:
    """The configured source ``source_id``, or end the command naming the closest known ids."""
    from pipeline.config import load_sources

    files = config_files(config_dir, sources=sources_path, verbose=verbose)
    sources = load_or_fail(load_sources, files.sources.path)
    by_id = {source.id: source for source in sources}
    if source_id in by_id:
        return by_id[source_id]
    # A cutoff of 0: the closest ids are named however far, so the message always helps.
    closest = difflib.get_close_matches(source_id, list(by_id), n=SUGGESTIONS, cutoff=0.0)
    fail(
        f"unknown source id {source_id!r} in {files.sources.path}"
        + (f"; the closest known: {', '.join(closest)}" if closest else ": it lists no source")
    )


def _read_states(db_url: str | None, *, verbose: bool = False) -> dict[str, SourceState]:
    """Each stored source's state; when the database cannot be read, none, and a line on
    stderr saying why (the configuration is still checked or listed)."""
    from pipeline.store import repo
    from pipeline.store.reader import open_reader

    try:
        reader = open_reader(resolve_db(db_url, verbose=verbose))
    except NewswatchError as exc:
        say(f"source states not shown: {exc}", "dim", stderr=True)
        return {}
    try:
        return repo.source_states(reader)
    except NewswatchError as exc:
        say(f"source states not shown: {exc}", "dim", stderr=True)
        return {}
    finally:
        reader.close()


def _print_troubled(sources: list[Source], states: dict[str, SourceState], now: datetime) -> None:
    """One line per source paused, backing off or failing: why, and when it is tried next;
    then its last failure."""
    marks = {"paused": "⏸", "backing off": "↻", "failing": "!"}
    for source in sources:
        state = states.get(source.id)
        described = state.describe(now) if state else None
        if state is None or described is None:
            continue
        say(f"{marks[_label(state, now)]} {source.id}: {described}", "yellow")
        failure = state.describe_failure()
        if failure is not None:
            say(f"  {failure}")


def _label(state: SourceState, now: datetime) -> str:
    """The state in a word or two, for a table column."""
    if state.paused:
        return "paused"
    if state.backing_off(now):
        return "backing off"
    return "failing" if state.consecutive_failures else ""
