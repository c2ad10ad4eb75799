"""Analysts' read-only queries: ``newswatch search`` and ``newswatch runs``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    DbOption,
    OutputFormat,
    console,
    fail,
    local_iso,
    open_engine,
    print_csv,
    say,
)
from pipeline.cli.filters import (
    DocTypeOption,
    EntityOption,
    LangOption,
    RegulatorOption,
    SinceOption,
    SourceOption,
    TaxonomyPathOption,
    TopicOption,
    UntilOption,
    build_filters,
)
from pipeline.errors import QueryError


def search(
    query: Annotated[str | None, typer.Argument(help="Full-text query.")] = None,
    entity: EntityOption = None,
    topic: TopicOption = None,
    source: SourceOption = None,
    doc_type: DocTypeOption = None,
    lang: LangOption = None,
    regulator: RegulatorOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="JSON/CSV fields, comma-separated, from: "
            + ", ".join(HIT_FIELDS)
            + " (text and evidence only when named).",
        ),
    ] = None,
    taxonomy_path: TaxonomyPathOption = None,
    db_url: DbOption = None,
) -> None:
    """Search stored articles by text, entity, topic, source, type, language and date; says
    how many more matched than --limit shows."""
    from sqlalchemy.orm import Session

    from pipeline.store.search import count_articles, search_articles

    chosen = _chosen_fields(fields)
    filters = build_filters(
        entity=entity,
        topic=topic,
        source=source,
        doc_type=doc_type,
        lang=lang,
        regulator=regulator,
        since=since,
        until=until,
        taxonomy_path=taxonomy_path,
    )
    engine = open_engine(db_url)
    try:
        with Session(engine) as session:
            hits = search_articles(session, query, filters=filters, limit=limit)
            total = (
                count_articles(session, query, filters=filters) if len(hits) == limit else len(hits)
            )
    except QueryError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    _print_hits([_hit_record(hit, evidence="evidence" in chosen) for hit in hits], output, chosen)
    if total > len(hits):
        # On stderr: JSON and CSV on stdout stay what a program expects.
        say(
            f"{total - len(hits)} more article(s) match, not shown (--limit {total} shows all)",
            "yellow",
            stderr=True,
        )


def _print_hits(rows: list[dict[str, Any]], output: OutputFormat, chosen: frozenset[str]) -> None:
    if output is OutputFormat.json:
        shown = [{k: v for k, v in row.items() if k in chosen} for row in rows]
        print(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.csv:
        print_csv(rows, [field for field in HIT_FIELDS if field in chosen and field != "evidence"])
        return
    table = Table(show_lines=False)
    for column in ("published", "story", "source", "title", "tags"):
        table.add_column(column, overflow="fold")
    for row in rows:
        tags = ", ".join(t["name"] for t in row["tags"][:6])
        published = (row["published_at"] or "")[:10]
        story = "" if row["story_id"] is None else str(row["story_id"])
        title = Text(row["title"])
        title.append("\n" + row["url"], style="dim")
        table.add_row(published, story, Text(row["source"]), title, Text(tags))
    console.print(table)
    console.print(f"{len(rows)} article(s)")


# Every field a hit has; text and evidence are long, so they come only when named.
HIT_FIELDS = (
    "id",
    "story_id",
    "title",
    "url",
    "canonical_url",
    "source",
    "published_at",
    "doc_type",
    "regulator",
    "snippet",
    "tags",
    "text",
    "evidence",
)
DEFAULT_FIELDS = frozenset(HIT_FIELDS) - {"text", "evidence"}


def _chosen_fields(value: str | None) -> frozenset[str]:
    """The fields ``--fields`` names (the defaults when it is not given)."""
    if value is None:
        return DEFAULT_FIELDS
    chosen = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in HIT_FIELDS]
    if unknown or not chosen:
        fail(
            f"--fields: {', '.join(unknown) or 'nothing'} is not a field; fields: "
            + ", ".join(HIT_FIELDS)
        )
    return frozenset(chosen)


def _hit_record(hit: Any, *, evidence: bool) -> dict[str, Any]:
    return {
        "id": hit.id,
        "story_id": hit.story_id,
        "title": hit.title,
        "url": hit.url,
        "canonical_url": hit.canonical_url,
        "source": hit.source_id,
        "published_at": local_iso(hit.published_at),
        "doc_type": hit.doc_type,
        "regulator": hit.regulator,
        "snippet": hit.snippet,
        "text": hit.text,
        "tags": [
            {"id": t[0], "name": t[1], "kind": t[2], "count": t[3]}
            | ({"evidence": list(t[4])} if evidence else {})
            for t in hit.tags
        ],
    }


def runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 10,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    db_url: DbOption = None,
) -> None:
    """Show recent runs with their per-source counts and errors."""
    from sqlalchemy.orm import Session

    from pipeline.store import repo

    engine = open_engine(db_url)
    with Session(engine) as session:
        records = repo.latest_runs(session, limit=limit)
    rows = [repo.run_record_dict(r) for r in records]
    if output is not OutputFormat.table:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    for row in rows:
        say(
            f"run {row['id']} {row['status']} started {row['started_at']}"
            + (f" error: {row['error']}" if row.get("error") else "")
        )
        for src in row["sources"]:
            if src["error"]:
                console.print(
                    Text.assemble(("  " + src["source_id"], "red"), f": {src['error']}"),
                    highlight=False,
                )
