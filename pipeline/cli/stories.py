"""``newswatch stories``: list and show stories, split a wrong link, rebuild after a change.

A story is one event and every article about it: the regulator's release and its translation,
syndicated copies, other outlets' write-ups. Each article shows how it joined (translation,
duplicate, near-duplicate, same story) and the score, so a wrong grouping can be seen and
undone with ``split``; ``rebuild`` regroups every stored article after a threshold change.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import (
    DbOption,
    ReportFormat,
    console,
    fail,
    fail_on,
    local_iso,
    open_engine,
    parse_when,
)
from pipeline.errors import NewswatchError

stories_app = typer.Typer(
    help="Stories: every copy, rewrite and translation of one event, grouped.",
    no_args_is_help=True,
)

FormatOption = Annotated[ReportFormat, typer.Option("--format", help="A table or JSON.")]


def _day(moment: datetime | None) -> str:
    from pipeline.dates import local_time

    local = local_time(moment)
    return local.date().isoformat() if local else ""


def story_record(story: Any) -> dict[str, Any]:
    """A story's summary as JSON (``stories list|show``, ``show story:ID``)."""
    return {
        "id": story.id,
        "lead_article_id": story.lead_article_id,
        "lead_title": story.lead_title,
        "first_seen_at": local_iso(story.first_seen_at),
        "last_seen_at": local_iso(story.last_seen_at),
        "articles": story.article_count,
        "outlets": list(story.outlets),
        "languages": list(story.languages),
    }


def member_record(member: Any) -> dict[str, Any]:
    """An article of a story and how it joined, as JSON."""
    return {
        "article_id": member.article_id,
        "title": member.title,
        "source": member.source_id,
        "lang": member.lang,
        "published_at": local_iso(member.published_at),
        "url": member.url,
        "link": member.link_kind,
        "linked_article_id": member.linked_article_id,
        "score": member.score,
    }


@stories_app.command("list")
def list_command(
    min_articles: Annotated[
        int, typer.Option("--min-articles", min=1, help="Only stories of at least this many.")
    ] = 2,
    since: Annotated[
        str | None, typer.Option("--since", help="Active on or after this date.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 20,
    output: FormatOption = ReportFormat.table,
    db_url: DbOption = None,
) -> None:
    """List stories, most recently active first (by default those of two articles or more)."""
    from sqlalchemy.orm import Session

    from pipeline.store.story_reads import list_stories

    since_at = parse_when(since, "--since")
    engine = open_engine(db_url)
    try:
        with Session(engine) as session:
            found = list_stories(session, min_articles=min_articles, since=since_at, limit=limit)
    finally:
        engine.dispose()
    records = [story_record(story) for story in found]
    if output is ReportFormat.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = Table()
    for column in ("story", "first seen", "last seen", "articles", "languages", "lead"):
        table.add_column(column, overflow="fold", no_wrap=column != "lead")
    for story in found:
        table.add_row(
            str(story.id),
            _day(story.first_seen_at),
            _day(story.last_seen_at),
            str(story.article_count),
            Text(", ".join(story.languages)),
            Text(story.lead_title),
        )
    console.print(table)
    console.print(f"{len(found)} story(ies)", highlight=False)


@stories_app.command("show")
def show_command(
    story_id: Annotated[int, typer.Argument(help="The story's id (search shows it).")],
    output: FormatOption = ReportFormat.table,
    db_url: DbOption = None,
) -> None:
    """Show one story: its tags, its articles, and how and how strongly each was linked."""
    from sqlalchemy.orm import Session

    from pipeline.store.story_reads import get_story, story_tags

    engine = open_engine(db_url)
    try:
        with Session(engine) as session:
            found = get_story(session, story_id)
            tags = story_tags(session, story_id)
    finally:
        engine.dispose()
    if found is None:
        fail(f"story {story_id}: no such story")
    story, members = found
    if output is ReportFormat.json:
        record = story_record(story)
        record["tags"] = [
            {"id": tag, "kind": kind, "name": name, "articles": count}
            for tag, kind, name, count in tags
        ]
        record["members"] = [member_record(m) for m in members]
        print(json.dumps(record, indent=2, ensure_ascii=False))
        return
    console.print(
        Text(f"story {story.id}: {story.article_count} article(s), lead {story.lead_article_id}")
    )
    if tags:
        console.print(Text("tags: " + ", ".join(name for _, _, name, _ in tags[:12])))
    table = Table()
    for column in ("article", "published", "source", "lang", "link", "to", "score", "title"):
        table.add_column(column, overflow="fold", no_wrap=column != "title")
    for m in members:
        table.add_row(
            str(m.article_id),
            _day(m.published_at),
            Text(m.source_id),
            m.lang or "",
            m.link_kind or ("lead" if m.article_id == story.lead_article_id else "first"),
            "" if m.linked_article_id is None else str(m.linked_article_id),
            "" if m.score is None else f"{m.score:.2f}",
            Text(m.title),
        )
    console.print(table)


@stories_app.command("split")
def split_command(
    article_id: Annotated[int, typer.Argument(help="The article to take out of its story.")],
    db_url: DbOption = None,
) -> None:
    """Take a wrongly grouped article out of its story; it stays apart, even after rebuild."""
    from pipeline.regroup import split_article

    engine = open_engine(db_url)
    try:
        left, own = split_article(engine, article_id)
    except NewswatchError as exc:
        fail_on(exc)
    finally:
        engine.dispose()
    console.print(
        f"article {article_id} left story {left}; it is now story {own} of its own",
        highlight=False,
    )


@stories_app.command("rebuild")
def rebuild_command(
    output: FormatOption = ReportFormat.table,
    db_url: DbOption = None,
) -> None:
    """Regroup every stored article into stories (after a threshold change); writes only changes."""
    from pipeline.cli.progress import progress_reporter
    from pipeline.regroup import rebuild_stories

    engine = open_engine(db_url)
    try:
        # Each article is a step twice: its fingerprint refiled, then its grouping replayed.
        with progress_reporter("stories rebuild: steps") as progress:
            report = rebuild_stories(engine, progress=progress)
    except NewswatchError as exc:
        fail_on(exc)
    finally:
        engine.dispose()
    if output is ReportFormat.json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    console.print(
        f"{report.articles} articles: {report.refiled} refiled, {report.moved} moved to another"
        f" story, {report.relinked} relinked; stories {report.stories_before} →"
        f" {report.stories_after}",
        highlight=False,
    )
