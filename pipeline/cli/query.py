"""``newswatch search``: stored articles by text and filters, one row per story or article."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    PAGE_ROWS,
    DbOption,
    OutputFormat,
    console,
    fail,
    local_iso,
    open_reader,
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
from pipeline.errors import NewswatchError

# Matches counted past the page: a frequent term can match a tenth of a large database, and
# counting every match costs more than finding the page; past this, "at least" is said.
COUNT_BEYOND = 1_000
# Tags shown in the table, most frequent first; the JSON and CSV carry them all.
SHOWN_TAGS = 6


class Grouping(StrEnum):
    """One row per story or per article."""

    story = "story"
    article = "article"


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
    group: Annotated[
        Grouping,
        typer.Option(
            "--group",
            help="One row per story (its best match, with its outlets and languages) or per"
            " article.",
        ),
    ] = Grouping.story,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = PAGE_ROWS,
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
    """Search stored articles by text ("phrases", prefix*, OR, -exclude; Chinese in either
    script), entity, topic, source, type, language and date; one row per story by default;
    says how many more matched than --limit shows."""
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
    reader = open_reader(db_url)
    try:
        hits = search_articles(reader, query, filters=filters, limit=limit, group=group.value)
        total = len(hits)
        if total == limit:
            total = count_articles(
                reader, query, filters=filters, group=group.value, at_most=limit + COUNT_BEYOND
            )
    except NewswatchError as exc:
        fail(str(exc))
    finally:
        reader.close()
    words = parse_words(query)
    records = [_hit_record(hit, evidence="evidence" in chosen) for hit in hits]
    _print_hits(records, output, chosen, group, words)
    if total > len(hits):
        more = total - len(hits)
        exact = more < COUNT_BEYOND
        # On stderr: JSON and CSV on stdout stay what a program expects.
        say(
            f"{'' if exact else 'at least '}{more:,} more"
            f" {'story(ies)' if group is Grouping.story else 'article(s)'} match, not shown"
            + (f" (--limit {total} shows all)" if exact else " (a larger --limit shows more)"),
            "yellow",
            stderr=True,
        )


def parse_words(query: str | None) -> list[str]:
    """The words of ``query`` to highlight, a Chinese one in each script (none for no query)."""
    from pipeline.querytext import parse_query
    from pipeline.store.chinese_script import with_script_variants

    return with_script_variants(parse_query(query)).words if query else []


def _print_hits(
    rows: list[dict[str, Any]],
    output: OutputFormat,
    chosen: frozenset[str],
    group: Grouping,
    words: list[str],
) -> None:
    if output is OutputFormat.json:
        shown = [{k: v for k, v in row.items() if k in chosen} for row in rows]
        print(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.csv:
        print_csv(rows, [field for field in HIT_FIELDS if field in chosen and field != "evidence"])
        return
    table = Table(show_lines=True)
    for column in ("published\nsource", "story", "title"):
        table.add_column(column, overflow="fold")
    for row in rows:
        published = Text((row["published_at"] or "")[:10] + "\n")
        published.append(row["source"], style="dim")
        table.add_row(published, _story_cell(row), _title_cell(row, words))
    console.print(table)
    console.print(f"{len(rows)} {'story(ies)' if group is Grouping.story else 'article(s)'}")


def _story_cell(row: dict[str, Any]) -> Text:
    """The story's id, and for a story of several articles its size, outlets and languages."""
    if row["story_id"] is None:
        return Text("")
    cell = Text(str(row["story_id"]))
    if row["story_articles"] > 1:
        cell.append(
            f"\n{row['story_articles']} articles\n{len(row['outlets'])} outlet(s)"
            f"\n{', '.join(row['languages'])}",
            style="dim",
        )
    return cell


def _title_cell(row: dict[str, Any], words: list[str]) -> Text:
    """The title, the URL, the snippet with the query's words highlighted, and the tags."""
    cell = Text(row["title"], style="bold")
    cell.append("\n" + row["url"], style="blue")
    if words and row["snippet"]:
        cell.append("\n" + row["snippet"])
    cell.highlight_words(words, style="reverse", case_sensitive=False)
    if row["tags"]:
        cell.append("\n" + ", ".join(t["name"] for t in row["tags"][:SHOWN_TAGS]), style="dim")
    return cell


# Every field a hit has; text and evidence are long, so they come only when named.
HIT_FIELDS = (
    "id",
    "story_id",
    "story_articles",
    "matched_in_story",
    "outlets",
    "languages",
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
        "story_articles": hit.story_articles,
        "matched_in_story": hit.matched_in_story,
        "outlets": list(hit.outlets),
        "languages": list(hit.languages),
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
