"""``newswatch sources check|list``: the configuration files."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    AlertsOption,
    ConfigDirOption,
    SourcesOption,
    TaxonomyOption,
    VerboseOption,
    config_files,
    console,
    err_console,
    exit_with_problems,
    say,
)
from pipeline.errors import ConfigError

sources_app = typer.Typer(help="Inspect the configured sources.", no_args_is_help=True)


@sources_app.command("check")
def sources_check(
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
    taxonomy_path: TaxonomyOption = None,
    alerts_path: AlertsOption = None,
) -> None:
    """Validate the configuration files and print every problem with its file, entry and field.

    Says which files it read first: given on the command line, in the configuration directory,
    in the current directory, or the shipped defaults.
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


@sources_app.command("list")
def sources_list(
    config_dir: ConfigDirOption = None,
    sources_path: SourcesOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List the configured sources."""
    from pipeline.config import load_sources

    files = config_files(config_dir, sources=sources_path, verbose=verbose)
    try:
        sources = load_sources(files.sources.path)
    except ConfigError as exc:
        exit_with_problems(exc.problems)
    table = Table()
    for column in ("id", "kind", "regulator", "doc_type", "enabled", "url"):
        table.add_column(column, overflow="fold")
    for s in sources:
        table.add_row(
            Text(s.id),
            s.kind,
            "yes" if s.regulator else "",
            Text(s.doc_type),
            str(s.enabled),
            Text(s.urls[0]),
        )
    console.print(table)
