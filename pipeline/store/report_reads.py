"""Reading what ``newswatch report`` shows for a period: tag mentions and regulator items per
Hong Kong day, the regulator items themselves, the stories most outlets told, and each source's
health.

A public read module like ``story_reads``. The period is a pair of instants (``until``
exclusive) applied to each article's publication time, else the time it was first stored, as
``search`` applies ``--since``/``--until``; the Hong Kong day of each article comes from the
analysts' views (migration 0007), so the report's numbers are those an analyst finds there:
summed over whole days, a tag's counts are ``daily_tag_counts.articles``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    and_,
    column,
    distinct,
    func,
    select,
    table,
)
from sqlalchemy.orm import Session

from pipeline.store.schema import Run, RunSource, SourceRow

# The stories the report ranks: a page a desk reads through, not an archive.
TOP_STORIES = 10
# A source's run counts as a success in this state; "partial" fetched some items but not all.
SUCCESS = "ok"
# What the health table shows of a source's last ``run_sources`` row.
RUN_FIELDS = ("run_id", "status", "finished_at", "found", "new", "duplicates", "errors", "error")

# The views' columns the report reads, typed so that each dialect's days and UTC times come
# back as ``date`` and ``datetime`` (SQLite gives text).
OVERVIEW = table(
    "article_overview",
    column("article_id", Integer),
    column("source_id", String),
    column("story_id", Integer),
    column("published_day_hk", Date),
    column("published_at_utc", DateTime),
    column("first_seen_at_utc", DateTime),
    column("lang", String),
    column("url", Text),
)
EVIDENCE = table(
    "article_tag_evidence",
    column("article_id", Integer),
    column("tag_id", String),
    column("kind", String),
    column("name", String),
)
STORY_OVERVIEW = table(
    "story_overview",
    column("story_id", Integer),
    column("lead_article_id", Integer),
    column("lead_title", Text),
)
REGULATOR_ITEMS = table(
    "regulator_items",
    column("article_id", Integer),
    column("source_id", String),
    column("reference", String),
    column("doc_type", String),
    column("story_id", Integer),
    column("lang", String),
    column("title", Text),
    column("url", Text),
)


@dataclass(frozen=True)
class TagSeries:
    """One tag's articles per Hong Kong day of the period (days without any left out)."""

    tag_id: str
    name: str
    total: int
    by_day: Mapping[date, int]


@dataclass(frozen=True)
class RegulatorVersion:
    """One stored article of a regulator's release: one language of it."""

    article_id: int
    source_id: str
    lang: str | None
    title: str
    url: str


@dataclass(frozen=True)
class RegulatorRelease:
    """A regulator's item with its translations: the articles sharing its story, regulator,
    document type and reference (an item without a reference stands alone)."""

    regulator: str
    day: date
    published_at: datetime | None
    doc_type: str
    reference: str | None
    story_id: int | None
    versions: tuple[RegulatorVersion, ...]


@dataclass(frozen=True)
class StoryRank:
    """A story's articles in the period, the outlets and languages among them, its lead."""

    story_id: int
    lead_title: str
    lead_url: str | None
    articles: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class SourceHealth:
    """A configured source: its last run's row (none when it never ran), its last success, its
    articles in the period."""

    source_id: str
    name: str
    enabled: bool
    last_success_at: datetime | None
    articles: int
    run_id: int | None = None
    status: str | None = None
    finished_at: datetime | None = None
    found: int = 0
    new: int = 0
    duplicates: int = 0
    errors: int = 0
    error: str | None = None


@dataclass(frozen=True)
class RunSummary:
    """The latest run as a whole."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows for the period ``since`` to ``until`` (exclusive)."""

    since: datetime
    until: datetime
    articles: int
    entities: tuple[TagSeries, ...]
    topics: tuple[TagSeries, ...]
    releases: tuple[RegulatorRelease, ...]
    stories: tuple[StoryRank, ...]
    sources: tuple[SourceHealth, ...]
    last_run: RunSummary | None


def read_report(
    session: Session, *, since: datetime, until: datetime, top: int, stories: int = TOP_STORIES
) -> ReportData:
    """What the report shows for ``since``..``until`` (aware; ``until`` exclusive): the ``top``
    entities and topics by articles, the regulator items, the ``stories`` widest stories."""
    window = _window(since, until)
    counted = session.scalar(select(func.count()).select_from(OVERVIEW).where(*window))
    return ReportData(
        since=since,
        until=until,
        articles=int(counted or 0),
        entities=tuple(_tag_series(session, window, "entity", top)),
        topics=tuple(_tag_series(session, window, "topic", top)),
        releases=tuple(_releases(session, window)),
        stories=tuple(_stories(session, window, stories)),
        sources=tuple(_sources(session, window)),
        last_run=_last_run(session),
    )


def _window(since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    """The period's conditions on ``article_overview``, whose UTC times carry no zone."""
    when = _period_time()
    return [when >= _naive_utc(since), when < _naive_utc(until)]


def _period_time() -> ColumnElement[datetime]:
    """The time an article is placed in a period by, as ``search`` places it."""
    return func.coalesce(OVERVIEW.c.published_at_utc, OVERVIEW.c.first_seen_at_utc)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _tag_series(
    session: Session, window: Sequence[ColumnElement[bool]], kind: str, top: int
) -> list[TagSeries]:
    """The ``top`` tags of ``kind`` by articles in the period (ties by id), day by day."""
    joined = EVIDENCE.join(OVERVIEW, OVERVIEW.c.article_id == EVIDENCE.c.article_id)
    total = func.count()
    leaders = session.execute(
        select(EVIDENCE.c.tag_id, EVIDENCE.c.name, total)
        .select_from(joined)
        .where(EVIDENCE.c.kind == kind, *window)
        .group_by(EVIDENCE.c.tag_id, EVIDENCE.c.name)
        .order_by(total.desc(), EVIDENCE.c.tag_id)
        .limit(top)
    ).all()
    if not leaders:
        return []
    day = OVERVIEW.c.published_day_hk
    by_tag: dict[str, dict[date, int]] = defaultdict(dict)
    rows = session.execute(
        select(EVIDENCE.c.tag_id, day, func.count())
        .select_from(joined)
        .where(EVIDENCE.c.tag_id.in_([row[0] for row in leaders]), *window)
        .group_by(EVIDENCE.c.tag_id, day)
    )
    for tag_id, on, count in rows:
        by_tag[tag_id][_as_date(on)] = int(count)
    return [TagSeries(tag, name, int(count), by_tag[tag]) for tag, name, count in leaders]


def _as_date(value: Any) -> date:
    # A typed column gives a date on both dialects; text is read too, should a driver not.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _releases(session: Session, window: Sequence[ColumnElement[bool]]) -> list[RegulatorRelease]:
    """The period's regulator items, newest first, translations folded into their release."""
    rows = session.execute(
        select(REGULATOR_ITEMS, OVERVIEW.c.published_at_utc, OVERVIEW.c.published_day_hk)
        .join(OVERVIEW, OVERVIEW.c.article_id == REGULATOR_ITEMS.c.article_id)
        .where(*window)
        # Oldest first, so each release's first version is its earliest (English before its
        # translation when stored together); the releases are reversed at the end.
        .order_by(_period_time(), REGULATOR_ITEMS.c.article_id)
    )
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = (row.story_id, _regulator(row.source_id), row.doc_type, row.reference)
        grouped.setdefault(key if row.reference else ("article", row.article_id), []).append(row)
    return [_release(group) for group in grouped.values()][::-1]


def _regulator(source_id: str) -> str:
    # Regulators' source ids start with the regulator's own: hkma-press, sfc-circulars.
    return source_id.split("-", 1)[0]


def _release(rows: list[Any]) -> RegulatorRelease:
    first = rows[0]
    published = first.published_at_utc
    return RegulatorRelease(
        regulator=_regulator(first.source_id),
        day=_as_date(first.published_day_hk),
        published_at=None if published is None else published.replace(tzinfo=UTC),
        doc_type=first.doc_type,
        reference=first.reference,
        story_id=first.story_id,
        versions=tuple(
            RegulatorVersion(row.article_id, row.source_id, row.lang, row.title, row.url)
            for row in rows
        ),
    )


def _stories(
    session: Session, window: Sequence[ColumnElement[bool]], limit: int
) -> list[StoryRank]:
    """The stories with the most outlets in the period, then the most articles."""
    articles = func.count()
    outlets = func.count(distinct(OVERVIEW.c.source_id))
    ranked = session.execute(
        select(OVERVIEW.c.story_id, articles)
        .where(OVERVIEW.c.story_id.is_not(None), *window)
        .group_by(OVERVIEW.c.story_id)
        .order_by(outlets.desc(), articles.desc(), OVERVIEW.c.story_id)
        .limit(limit)
    ).all()
    ids = [row[0] for row in ranked]
    if not ids:
        return []
    lead = OVERVIEW.alias("lead")
    leads = {
        row.story_id: (row.lead_title, row.url)
        for row in session.execute(
            select(STORY_OVERVIEW.c.story_id, STORY_OVERVIEW.c.lead_title, lead.c.url)
            .outerjoin(lead, lead.c.article_id == STORY_OVERVIEW.c.lead_article_id)
            .where(STORY_OVERVIEW.c.story_id.in_(ids))
        )
    }
    seen: dict[int, tuple[set[str], set[str]]] = {story: (set(), set()) for story in ids}
    for story, source, lang in session.execute(
        select(OVERVIEW.c.story_id, OVERVIEW.c.source_id, OVERVIEW.c.lang).where(
            OVERVIEW.c.story_id.in_(ids), *window
        )
    ):
        seen[story][0].add(source)
        if lang:
            seen[story][1].add(lang)
    return [
        StoryRank(
            story_id=story,
            lead_title=leads.get(story, ("", None))[0] or "",
            lead_url=leads.get(story, ("", None))[1],
            articles=int(count),
            outlets=tuple(sorted(seen[story][0])),
            languages=tuple(sorted(seen[story][1])),
        )
        for story, count in ranked
    ]


def _sources(session: Session, window: Sequence[ColumnElement[bool]]) -> list[SourceHealth]:
    """Every configured source with its last run's row, its last success, and its articles."""
    latest = (
        select(RunSource.source_id, func.max(RunSource.run_id).label("run_id"))
        .group_by(RunSource.source_id)
        .subquery()
    )
    succeeded = (
        select(RunSource.source_id, func.max(RunSource.finished_at).label("at"))
        .where(RunSource.status == SUCCESS)
        .group_by(RunSource.source_id)
        .subquery()
    )
    stored: dict[str, int] = dict(
        session.execute(
            select(OVERVIEW.c.source_id, func.count()).where(*window).group_by(OVERVIEW.c.source_id)
        ).all()
    )
    rows = session.execute(
        select(SourceRow, RunSource, succeeded.c.at)
        .outerjoin(latest, latest.c.source_id == SourceRow.id)
        .outerjoin(
            RunSource,
            and_(RunSource.source_id == SourceRow.id, RunSource.run_id == latest.c.run_id),
        )
        .outerjoin(succeeded, succeeded.c.source_id == SourceRow.id)
        .order_by(SourceRow.id)
    )
    return [_health(source, run, at, int(stored.get(source.id, 0))) for source, run, at in rows]


def _health(
    source: SourceRow, run: RunSource | None, success: datetime | None, articles: int
) -> SourceHealth:
    last = {} if run is None else {name: getattr(run, name) for name in RUN_FIELDS}
    return SourceHealth(source.id, source.name, bool(source.enabled), success, articles, **last)


def _last_run(session: Session) -> RunSummary | None:
    run = session.scalars(select(Run).order_by(Run.id.desc()).limit(1)).first()
    if run is None:
        return None
    return RunSummary(run.id, run.started_at, run.finished_at, run.status, run.error)
