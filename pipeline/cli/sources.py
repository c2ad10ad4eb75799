"""``newswatch sources check|list``: the configuration files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from pipeline.cli.common import (
    AlertsOption,
    SourcesOption,
    TaxonomyOption,
    console,
    err_console,
    load_or_fail,
)
from pipeline.errors import ConfigError, NewswatchError

sources_app = typer.Typer(help="Inspect the configured sources.", no_args_is_help=True)


@sources_app.command("check")
def sources_check(
    sources_path: SourcesOption = Path("sources.toml"),
    taxonomy_path: TaxonomyOption = Path("taxonomy.toml"),
    alerts_path: AlertsOption = Path("alerts.toml"),
) -> None:
    """Validate the configuration files and print every problem with its file, entry and field."""
    from pipeline.config import check_sources, load_alerts
    from pipeline.tag import Tagger

    sources, problems = check_sources(sources_path)
    for label, loader, path in (
        ("taxonomy", Tagger.from_path, taxonomy_path),
        ("alerts", load_alerts, alerts_path),
    ):
        try:
            loader(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
        except NewswatchError as exc:
            problems.append(f"{path}: {label}: {exc}")
    if problems:
        for problem in problems:
            err_console.print(f"[red]✗[/] {problem}", highlight=False)
        err_console.print(f"{len(problems)} problem(s) found")
        raise typer.Exit(1)
    enabled = sum(1 for s in sources if s.enabled)
    console.print(f"✓ {len(sources)} sources ({enabled} enabled), taxonomy and alerts are valid")


@sources_app.command("list")
def sources_list(sources_path: SourcesOption = Path("sources.toml")) -> None:
    """List the configured sources."""
    from pipeline.config import load_sources

    sources = load_or_fail(load_sources, sources_path)
    table = Table()
    for column in ("id", "kind", "regulator", "doc_type", "enabled", "url"):
        table.add_column(column, overflow="fold")
    for s in sources:
        table.add_row(
            s.id, s.kind, "yes" if s.regulator else "", s.doc_type, str(s.enabled), s.urls[0]
        )
    console.print(table)
