"""``newswatch show``: one article or one story in full, as an analyst reads it.

An article shows its facts, where it was seen, its story (how it joined, the article it matched,
the other versions: translations, copies, other outlets), its tags with every evidence sentence,
the alerts raised for its story, and its text. A story shows its members with how each joined,
its tags and its alerts. Every string a site wrote is printed as text, never as Rich markup.
Both are read through a ``Reader``: on a SQLite file the command starts without SQLAlchemy.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from pipeline.cli.common import DbOption, ReportFormat, console, fail, local_iso, open_reader
from pipeline.cli.stories import member_record, story_record
from pipeline.errors import NewswatchError

if TYPE_CHECKING:
    from pipeline.store.alert_reads import OutboxRow
    from pipeline.store.article_reads import ArticleView
    from pipeline.store.story_reads import StoryMember, StorySummary

    StoryTags = list[tuple[str, str, str, int]]
    StoryView = tuple[StorySummary, list[StoryMember], StoryTags, list[OutboxRow]]

# ``123`` or ``article:123`` is an article, ``story:45`` a story.
TARGET = re.compile(r"(?:(article|story):)?([0-9]+)")
# Ids are 64-bit at most: a larger number names nothing, and SQLite could not even bind it.
MAX_ID = 2**63 - 1
# What JSON shows of an alert, a tag and an earlier version (times in Hong Kong, ISO).
ALERT_FIELDS: tuple[str, ...] = ("id", "rule", "channel", "status", "event", "mode", "severity")
ALERT_FIELDS += ("article_id", "attempts", "last_error", "created_at", "due_at")
ALERT_FIELDS += ("next_attempt_at", "sent_at", "key")
TAG_FIELDS = ("id", "kind", "name", "count", "in_title", "in_lead", "evidence")
REVISION_FIELDS = ("title", "chars", "source_modified", "replaced_at")
# The text is wrapped at the terminal's width, but no wider than a comfortable line.
TEXT_WIDTH = 100

TargetArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="An article id (123, or article:123) or a story id (story:45).",
        show_default=False,
    ),
]
NoTextOption = Annotated[
    bool, typer.Option("--no-text", help="Leave an article's text out (table and JSON).")
]
FormatOption = Annotated[
    ReportFormat, typer.Option("--format", help="A table or JSON (every field, times ISO).")
]


def show(
    target: TargetArgument,
    no_text: NoTextOption = False,
    output: FormatOption = ReportFormat.table,
    db_url: DbOption = None,
) -> None:
    """Show one article (ID) or one story (story:ID) in full: text, tags with evidence,
    versions and outlets, the story and how the article joined it, and the alerts raised."""
    kind, ident = _parse_target(target)
    if kind == "story":
        story = _read_story(ident, db_url)
        if story is None:
            fail(f"no story {ident}")
        if output is ReportFormat.json:
            _print_json(_story_record(story))
        else:
            _print_story(story)
        return
    article = _read_article(ident, db_url)
    if article is None:
        fail(f"no article {ident}")
    if output is ReportFormat.json:
        _print_json(_article_record(article, with_text=not no_text))
    else:
        _print_article(article, with_text=not no_text)


def _parse_target(target: str) -> tuple[str, int]:
    """``("article" | "story", id)`` from the command's argument; a usage error otherwise."""
    matched = TARGET.fullmatch(target.strip())
    if matched is None:
        fail(f"cannot read {target!r} as an id: give 123 (an article) or story:45", code=2)
    return matched.group(1) or "article", int(matched.group(2))


def _read_article(article_id: int, db_url: str | None) -> ArticleView | None:
    from pipeline.store.article_reads import get_article

    if article_id > MAX_ID:
        return None
    reader = open_reader(db_url)
    try:
        return get_article(reader, article_id)
    except NewswatchError as exc:
        fail(str(exc))
    finally:
        reader.close()


def _read_story(story_id: int, db_url: str | None) -> StoryView | None:
    from pipeline.store.alert_reads import OutboxFilter, outbox_rows
    from pipeline.store.story_reads import get_story, story_tags

    if story_id > MAX_ID:
        return None
    reader = open_reader(db_url)
    try:
        found = get_story(reader, story_id)
        if found is None:
            return None
        tags = story_tags(reader, story_id)
        # Oldest first: the order the alerts were raised in.
        alerts = outbox_rows(reader, OutboxFilter(story_id=story_id), newest_first=False)
    except NewswatchError as exc:
        fail(str(exc))
    finally:
        reader.close()
    return found[0], found[1], tags, alerts


def _when(moment: datetime | None) -> str:
    """Hong Kong time to the minute, with the zone's name, for tables."""
    if moment is None:
        return ""
    # zoneinfo, not pipeline.dates (as local_iso): its imports would cost this command 15 ms.
    from zoneinfo import ZoneInfo

    from pipeline.settings import HONG_KONG_TZ

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(HONG_KONG_TZ))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _print_json(record: dict[str, Any]) -> None:
    print(json.dumps(record, indent=2, ensure_ascii=False))


def _link(member: StoryMember, lead_id: int | None) -> str:
    """How a member joined its story; the story's first article joined nothing."""
    if member.link_kind:
        return member.link_kind
    return "lead" if member.article_id == lead_id else "first"


def _fields(item: object, names: tuple[str, ...]) -> dict[str, Any]:
    """``item``'s attributes ``names`` for JSON: times in Hong Kong, tuples as lists."""
    record: dict[str, Any] = {}
    for name in names:
        value = getattr(item, name)
        if isinstance(value, datetime):
            value = local_iso(value)
        record[name] = list(value) if isinstance(value, tuple) else value
    return record


def _article_record(view: ArticleView, *, with_text: bool) -> dict[str, Any]:
    a = view.article
    record: dict[str, Any] = {
        "type": "article",
        "id": a.id,
        "title": a.title,
        "source": {"id": a.source_id, "name": a.source_name},
        "item_id": a.item_id,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "published_at": local_iso(a.published_at),
        "first_seen_at": local_iso(a.first_seen_at),
        "lang": a.lang,
        "doc_type": a.doc_type,
        "regulator": a.regulator,
        "author": a.author,
        "summary": a.summary,
        "duplicate_of": a.duplicate_of,
        "source_modified": a.source_modified,
        "taxonomy_version": a.taxonomy_version,
        "seen": [
            {
                "source": s.source_id,
                "url": s.url,
                "verdict": s.verdict,
                "seen_at": local_iso(s.seen_at),
            }
            for s in view.seen
        ],
        "revisions": [_fields(r, REVISION_FIELDS) for r in view.revisions],
        "story": _joined_record(view),
        "versions": [member_record(m) for m in view.versions],
        "tags": [_fields(t, TAG_FIELDS) for t in view.tags],
        "alerts": [_fields(row, ALERT_FIELDS) for row in view.alerts],
    }
    if with_text:
        record["text"] = a.text
    return record


def _joined_record(view: ArticleView) -> dict[str, Any] | None:
    """The article's story and how the article joined it (no link: it was the first)."""
    if view.story is None:
        return None
    joined = view.joined
    return {
        **story_record(view.story),
        "is_lead": view.story.lead_article_id == view.article.id,
        "link": None if joined is None else joined.link_kind,
        "linked_article_id": None if joined is None else joined.linked_article_id,
        "score": None if joined is None else joined.score,
    }


def _story_record(story: StoryView) -> dict[str, Any]:
    summary, members, tags, alerts = story
    return {
        "type": "story",
        **story_record(summary),
        "tags": [
            {"id": tag, "kind": kind, "name": name, "articles": count}
            for tag, kind, name, count in tags
        ],
        "members": [member_record(m) for m in members],
        "alerts": [_fields(row, ALERT_FIELDS) for row in alerts],
    }


def _facts(rows: list[tuple[str, Text | str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def _joined_text(view: ArticleView) -> str:
    """One line on the article's story and how the article came into it."""
    story, joined = view.story, view.joined
    if story is None:
        return "none"
    size = f"{story.article_count} article(s), {', '.join(story.languages)}"
    if joined is None or joined.link_kind is None:
        role = "the story's lead" if story.lead_article_id == view.article.id else "its first"
        return f"{story.id}: {role}; {size}"
    score = "" if joined.score is None else f" (score {joined.score:.2f})"
    how = f"joined as {joined.link_kind} of article {joined.linked_article_id}{score}"
    # The lead is the regulator's own release or the earliest article, not the first stored.
    is_lead = story.lead_article_id == view.article.id
    lead = "the story's lead" if is_lead else f"lead {story.lead_article_id}"
    return f"{story.id}: {how}; {lead}; {size}"


def _print_article(view: ArticleView, *, with_text: bool) -> None:
    a = view.article
    console.print(Text.assemble((f"article {a.id}: ", "bold"), (a.title, "bold")))
    seen = ", ".join(f"{s.source_id} ({s.verdict})" for s in view.seen)
    rows: list[tuple[str, Text | str]] = [
        ("source", Text(f"{a.source_id}  {a.source_name}".rstrip())),
        ("url", Text(a.canonical_url or a.url)),
        ("published", _when(a.published_at) or "unknown"),
        ("first seen", _when(a.first_seen_at)),
        ("language", Text(a.lang or "unknown")),
        ("doc type", Text(a.doc_type)),
        ("regulator", "yes" if a.regulator else "no"),
        ("seen on", Text(seen)),
        ("story", Text(_joined_text(view))),
    ]
    if a.author:
        rows.insert(4, ("author", Text(a.author)))
    if a.duplicate_of is not None:
        rows.append(("copy of", f"article {a.duplicate_of}"))
    for revision in view.revisions:
        line = f"{_when(revision.replaced_at)}: {revision.title} ({revision.chars} chars)"
        rows.append(("replaced", Text(line)))
    console.print(_facts(rows))
    lead_id = view.story.lead_article_id if view.story else None
    if view.versions:
        console.print(_members_table(list(view.versions), lead_id, "other versions"))
    console.print(_tags_table(view))
    _print_alerts(view.alerts, a.story_id)
    if with_text:
        console.print(Rule("text"))
        console.print(Text(a.text), width=min(console.width, TEXT_WIDTH))


def _members_table(members: list[StoryMember], lead_id: int | None, title: str) -> Table:
    # Three columns, so an 80-column terminal still shows each title and URL whole.
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("article, link", overflow="fold", max_width=22)
    table.add_column("source, language, published", overflow="fold", max_width=22)
    table.add_column("title and url", overflow="fold", ratio=1)
    for m in members:
        link = _link(m, lead_id)
        if m.linked_article_id is not None:
            link += f" of {m.linked_article_id}"
        if m.score is not None:
            link += f" ({m.score:.2f})"
        table.add_row(
            Text(f"{m.article_id}\n{link}"),
            Text(f"{m.source_id}\n{m.lang or ''}\n{_when(m.published_at)}"),
            Text(f"{m.title}\n{m.url}"),
        )
    return table


def _tags_table(view: ArticleView) -> Table | Text:
    if not view.tags:
        return Text("no tags")
    table = Table(title="tags", title_justify="left", show_lines=True)
    for column in ("kind", "tag", "count", "where"):
        table.add_column(column, overflow="fold")
    table.add_column("evidence", overflow="fold", ratio=1)
    for t in view.tags:
        where = [name for name, flag in (("title", t.in_title), ("lead", t.in_lead)) if flag]
        table.add_row(
            t.kind,
            Text(f"{t.name}\n{t.id}"),
            str(t.count),
            ", ".join(where),
            Text("\n".join(t.evidence)),
        )
    return table


def _print_alerts(alerts: tuple[OutboxRow, ...] | list[OutboxRow], story_id: int | None) -> None:
    if not alerts:
        console.print(f"no alert raised for story {story_id}", highlight=False)
        return
    table = Table(title=f"alerts of story {story_id}", title_justify="left")
    for column in ("id", "rule", "channel", "status", "article", "sent", "tries"):
        table.add_column(column, overflow="fold")
    table.add_column("last error", overflow="fold", ratio=1)
    for row in alerts:
        table.add_row(
            str(row.id),
            Text(row.rule),
            Text(row.channel),
            row.status,
            str(row.article_id),
            _when(row.sent_at),
            str(row.attempts),
            Text(row.last_error or ""),
        )
    console.print(table)


def _print_story(story: StoryView) -> None:
    summary, members, tags, alerts = story
    console.print(Text.assemble((f"story {summary.id}: ", "bold"), (summary.lead_title, "bold")))
    rows: list[tuple[str, Text | str]] = [
        ("lead", f"article {summary.lead_article_id}"),
        ("articles", str(summary.article_count)),
        ("first seen", _when(summary.first_seen_at)),
        ("last seen", _when(summary.last_seen_at)),
        ("outlets", Text(", ".join(summary.outlets))),
        ("languages", Text(", ".join(summary.languages))),
        ("tags", Text(", ".join(f"{name} ({count})" for _, _, name, count in tags))),
    ]
    console.print(_facts(rows))
    console.print(_members_table(members, summary.lead_article_id, "articles"))
    _print_alerts(alerts, summary.id)
