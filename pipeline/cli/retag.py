"""``newswatch retag``: re-tag stored articles after the taxonomy changes."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    ConfigDirOption,
    DbOption,
    ReportFormat,
    TaxonomyOption,
    VerboseOption,
    config_files,
    console,
    fail_on,
    load_or_fail,
    open_engine,
)
from pipeline.errors import NewswatchError


def retag(
    db_url: DbOption = None,
    config_dir: ConfigDirOption = None,
    taxonomy_path: TaxonomyOption = None,
    verbose: VerboseOption = False,
    all_articles: Annotated[
        bool,
        typer.Option("--all", help="Re-tag every article, not only those of older versions."),
    ] = False,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="Report as a table or JSON.")
    ] = ReportFormat.table,
) -> None:
    """Re-tag stored articles after taxonomy.toml changes; show which tags were gained or lost."""
    from pipeline.cli.progress import progress_reporter
    from pipeline.retag import retag_articles
    from pipeline.tag import Tagger

    files = config_files(config_dir, taxonomy=taxonomy_path, verbose=verbose)
    tagger = load_or_fail(Tagger.from_path, files.taxonomy.path)
    engine = open_engine(db_url, verbose=verbose)
    try:
        with progress_reporter("retag: articles") as progress:
            report = retag_articles(engine, tagger, all_articles=all_articles, progress=progress)
    except NewswatchError as exc:
        fail_on(exc)
    finally:
        engine.dispose()
    if output is ReportFormat.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    console.print(
        f"taxonomy {report.taxonomy_version}: {report.considered} articles considered,"
        f" {report.rewritten} rewritten, {report.unchanged} unchanged",
        highlight=False,
    )
    changes = report.changes()
    if not changes:
        return
    table = Table()
    for column in ("tag", "name", "gained", "lost"):
        table.add_column(column, justify="right" if column in ("gained", "lost") else "left")
    for change in changes:
        table.add_row(Text(change.tag_id), Text(change.name), str(change.gained), str(change.lost))
    console.print(table)
