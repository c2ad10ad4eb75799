"""Repository: records in, rows out. Every function takes a ``Session`` and never commits.

The caller owns the transaction. Writes are idempotent upserts keyed on natural keys (item key,
article + source, article + rule + channel), so a re-run, a crash mid-run or two runs at once never
duplicate a row. Upserts use the dialect's own ``INSERT … ON CONFLICT`` (SQLite and Postgres).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from pipeline.errors import StoreError
from pipeline.models import Alert, Source, Tag, TaggedArticle
from pipeline.store.schema import (
    ALERT_STATUSES,
    RUN_STATUSES,
    SOURCE_RESULT_STATUSES,
    VERDICTS,
    AlertRow,
    Article,
    ArticleTag,
    FetchState,
    Run,
    RunSource,
    Sighting,
    SourceRow,
    TagRow,
)

# Keys per IN (...) query: far below SQLite's bound-parameter limit, large enough that a run's few
# thousand keys take a handful of round trips.
IN_CHUNK = 500
# An alert snippet is the article's opening, short enough for a chat message or a mail subject.
SNIPPET_CHARS = 280
# A failed alert is retried on later sends until it has failed this many times; then it waits
# for an operator (``alerts list --status failed``) instead of failing on every run.
MAX_ALERT_ATTEMPTS = 5


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def _insert(session: Session, entity: type[Any]) -> Any:
    """A dialect-specific INSERT for ``entity`` that supports ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    # The Core table, not the ORM class: ORM-enabled INSERTs pay a per-row bookkeeping cost
    # that dominated storing an article's tag links.
    table = entity.__table__
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"database dialect {dialect!r} is not supported (use SQLite or Postgres)")


def _chunks(values: list[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise StoreError(f"{what}: {value!r} is not one of {', '.join(allowed)}")


# Sources ------------------------------------------------------------------------------------


def sync_sources(session: Session, sources: Iterable[Source]) -> None:
    """Insert or update the ``sources`` rows from the configuration."""
    rows = {
        s.id: {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "lang": s.lang,
            "regulator": s.regulator,
            "doc_type": s.doc_type,
            "enabled": s.enabled,
            "urls": list(s.urls),
        }
        for s in sources
    }
    if not rows:
        return
    stmt = _insert(session, SourceRow).values(list(rows.values()))
    updated = ("name", "kind", "lang", "regulator", "doc_type", "enabled", "urls")
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"], set_={name: stmt.excluded[name] for name in updated}
        ),
        rows,
    )


# Articles -----------------------------------------------------------------------------------


def existing_item_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The subset of ``keys`` already stored as articles."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(session.scalars(select(Article.item_key).where(Article.item_key.in_(chunk))))
    return found


def stored_markers(session: Session, keys: Iterable[str]) -> dict[str, str | None]:
    """For each of ``keys`` already stored, the source's change marker kept with it (or None)."""
    wanted = sorted(set(keys))
    found: dict[str, str | None] = {}
    for chunk in _chunks(wanted):
        stmt = select(Article.item_key, Article.source_modified).where(Article.item_key.in_(chunk))
        found.update({key: marker for key, marker in session.execute(stmt)})
    return found


def dedupe_index(session: Session) -> Iterator[tuple[str, str | None, str, str]]:
    """(item key, canonical URL, content hash, item key of the original) for every article."""
    original = aliased(Article)
    stmt = (
        select(Article.item_key, Article.canonical_url, Article.content_hash, original.item_key)
        .outerjoin(original, original.id == Article.duplicate_of)
        .order_by(Article.id)
    )
    for key, canonical, digest, original_key in session.execute(stmt):
        yield key, canonical, digest or "", original_key or key


def article_id_for_key(session: Session, item_key: str) -> int | None:
    """The id of the article stored under ``item_key``, if any."""
    return session.scalar(select(Article.id).where(Article.item_key == item_key))


def count_articles(session: Session) -> int:
    """How many articles are stored (duplicates included)."""
    return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def insert_article(
    session: Session,
    tagged: TaggedArticle,
    *,
    item_key: str,
    duplicate_of_key: str | None = None,
    parents: Mapping[str, str | None] | None = None,
    regulators: set[str] | None = None,
    known_tag_ids: set[str] | None = None,
    source_modified: str | None = None,
) -> tuple[int, bool]:
    """Store an article once under ``item_key``; returns (article id, whether it was created).

    ``source_modified`` is the source's own change marker, kept to spot a later edit.

    A second call with the same key changes nothing and returns the stored id. A new article's
    tags are upserted (but for ``known_tag_ids``, which gains the ones upserted) and linked;
    ``duplicate_of_key`` marks it as a copy of that article.
    """
    article = tagged.article
    duplicate_of = article_id_for_key(session, duplicate_of_key) if duplicate_of_key else None
    published = article.published_at
    if published is not None:
        # A naive time is taken as UTC, as the column type does; never as the host's zone.
        published = published.replace(tzinfo=UTC) if published.tzinfo is None else published
        published = published.astimezone(UTC)
    values = {
        "item_key": item_key,
        "source_id": article.source_id,
        "item_id": article.item_id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "text": article.text,
        "summary": article.description,
        "author": article.author,
        "lang": article.lang,
        "doc_type": article.doc_type,
        "regulator": article.regulator,
        "published_at": published,
        "first_seen_at": utc_now(),
        "content_hash": tagged.content_hash,
        "taxonomy_version": tagged.taxonomy_version,
        "duplicate_of": duplicate_of,
        "categories": list(article.categories),
        "entities": list(article.entities),
        "source_modified": source_modified,
    }
    # Values go as parameters, not .values(): the statement then compiles once and is cached.
    stmt = (
        _insert(session, Article)
        .on_conflict_do_nothing(index_elements=["item_key"])
        .returning(Article.id)
    )
    new_id = session.execute(stmt, values).scalar_one_or_none()
    if new_id is None:
        existing = article_id_for_key(session, item_key)
        if existing is None:  # pragma: no cover - a conflict implies the row exists
            raise StoreError(f"article {item_key!r}: insert conflicted but no row was found")
        return existing, False
    tags = _unique_tags(tagged.tags)
    if tags:
        # Tags the caller has already stored (``known_tag_ids``) need no upsert per article.
        unknown = [t for t in tags if known_tag_ids is None or t.id not in known_tag_ids]
        if unknown:
            upsert_tags(session, unknown, parents, regulators)
            if known_tag_ids is not None:
                known_tag_ids.update(t.id for t in unknown)
        _insert_links(session, new_id, tags, tagged.taxonomy_version)
    return new_id, True


def update_article(
    session: Session, tagged: TaggedArticle, *, item_key: str, source_modified: str | None
) -> int:
    """Rewrite the stored article under ``item_key`` with a changed version; returns its id.

    The row keeps its id, first-seen time and alerts (an edit is not a new item); its text,
    metadata, change marker and tag links become the new version's.
    """
    article_id = article_id_for_key(session, item_key)
    if article_id is None:
        raise StoreError(f"article {item_key!r}: no stored row to update")
    article = tagged.article
    published = article.published_at
    if published is not None:
        published = published.replace(tzinfo=UTC) if published.tzinfo is None else published
        published = published.astimezone(UTC)
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(
            url=article.url,
            canonical_url=article.canonical_url,
            title=article.title,
            text=article.text,
            summary=article.description,
            author=article.author,
            lang=article.lang,
            doc_type=article.doc_type,
            published_at=published,
            content_hash=tagged.content_hash,
            categories=list(article.categories),
            entities=list(article.entities),
            source_modified=source_modified,
        )
    )
    replace_article_tags(session, article_id, tagged.tags, tagged.taxonomy_version)
    return article_id


def _unique_tags(tags: Iterable[Tag]) -> list[Tag]:
    """One tag per id (the first), since one statement may not touch a row twice."""
    unique: dict[str, Tag] = {}
    for tag in tags:
        unique.setdefault(tag.id, tag)
    return list(unique.values())


def link_values(article_id: int, tag: Tag, version: str) -> dict[str, Any]:
    """The row of the link between an article and one of its tags."""
    return {
        "article_id": article_id,
        "tag_id": tag.id,
        "count": tag.count,
        "in_title": tag.in_title,
        "in_lead": tag.in_lead,
        "evidence": list(tag.evidence),
        "taxonomy_version": version,
    }


def _insert_links(session: Session, article_id: int, tags: list[Tag], version: str) -> None:
    rows = [link_values(article_id, tag, version) for tag in tags]
    # An executemany of one cached statement: a multi-row VALUES would compile anew every time.
    stmt = _insert(session, ArticleTag).on_conflict_do_nothing(
        index_elements=["article_id", "tag_id"]
    )
    session.execute(stmt, rows)


# Tags ---------------------------------------------------------------------------------------


def upsert_tags(
    session: Session,
    tags: Iterable[Tag],
    parents: Mapping[str, str | None] | None = None,
    regulators: set[str] | None = None,
) -> None:
    """Insert or update tag rows; ``parents``/``regulators`` (from the taxonomy) when known.

    Without ``regulators`` a new tag is a regulator when its type says so, and a stored tag keeps
    its flag; without ``parents`` a stored tag keeps its parent.
    """
    unique = _unique_tags(tags)
    if not unique:
        return

    def is_regulator(tag: Tag) -> bool:
        return tag.id in regulators if regulators is not None else tag.type == "regulator"

    rows = [
        {
            "id": tag.id,
            "name": tag.name,
            "kind": tag.kind,
            "type": tag.type,
            "parent_id": parents.get(tag.id) if parents is not None else None,
            "regulator": is_regulator(tag),
        }
        for tag in unique
    ]
    stmt = _insert(session, TagRow)
    updated = ["name", "kind", "type"]
    if parents is not None:
        updated.append("parent_id")
    if regulators is not None:
        updated.append("regulator")
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"], set_={name: stmt.excluded[name] for name in updated}
        ),
        rows,
    )


def replace_article_tags(
    session: Session, article_id: int, tags: Iterable[Tag], version: str
) -> tuple[set[str], set[str]]:
    """Make the article's tag links exactly ``tags``; returns (added ids, removed ids).

    Only links that changed are written; the article's ``taxonomy_version`` becomes ``version``.
    """
    wanted = {tag.id: tag for tag in _unique_tags(tags)}
    columns = ("count", "in_title", "in_lead", "evidence", "taxonomy_version")
    stored = {
        row.tag_id: row
        for row in session.execute(
            select(ArticleTag.tag_id, *(getattr(ArticleTag, c) for c in columns)).where(
                ArticleTag.article_id == article_id
            )
        )
    }
    added = set(wanted) - set(stored)
    removed = set(stored) - set(wanted)
    if removed:
        session.execute(
            delete(ArticleTag).where(
                ArticleTag.article_id == article_id, ArticleTag.tag_id.in_(removed)
            )
        )
    if added:
        upsert_tags(session, [wanted[tag_id] for tag_id in added])
        _insert_links(session, article_id, [wanted[tag_id] for tag_id in sorted(added)], version)
    for tag_id in set(wanted) & set(stored):
        fresh = link_values(article_id, wanted[tag_id], version)
        changes = {c: fresh[c] for c in columns if getattr(stored[tag_id], c) != fresh[c]}
        if changes:
            session.execute(
                update(ArticleTag)
                .where(ArticleTag.article_id == article_id, ArticleTag.tag_id == tag_id)
                .values(changes)
            )
    session.execute(
        update(Article)
        .where(Article.id == article_id, Article.taxonomy_version != version)
        .values(taxonomy_version=version)
    )
    return added, removed


# Sightings ----------------------------------------------------------------------------------


def record_sighting(
    session: Session,
    *,
    article_id: int,
    source_id: str,
    url: str,
    guid: str | None,
    verdict: str,
    run_id: int | None,
) -> bool:
    """Note that ``source_id`` carried the article; True the first time, False after."""
    _check(verdict, VERDICTS, f"sighting of article {article_id} in {source_id}")
    stmt = (
        _insert(session, Sighting)
        .on_conflict_do_nothing(index_elements=["article_id", "source_id"])
        .returning(Sighting.id)
    )
    values = {
        "article_id": article_id,
        "source_id": source_id,
        "run_id": run_id,
        "url": url,
        "guid": guid,
        "verdict": verdict,
        "seen_at": utc_now(),
    }
    return session.execute(stmt, values).scalar_one_or_none() is not None


# Runs ---------------------------------------------------------------------------------------


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


def start_run(session: Session, *, flow_run_id: str | None, options: dict[str, Any]) -> int:
    """Open a run record in state ``running``; returns its id."""
    stmt = (
        _insert(session, Run)
        .values(flow_run_id=flow_run_id, started_at=utc_now(), status="running", options=options)
        .returning(Run.id)
    )
    return int(session.execute(stmt).scalar_one())


def record_source_result(
    session: Session,
    run_id: int,
    source_id: str,
    *,
    status: str,
    found: int,
    new: int,
    duplicates: int,
    errors: int,
    error: str | None = None,
) -> None:
    """Store (or replace) one source's counts and error for a run."""
    _check(status, SOURCE_RESULT_STATUSES, f"run {run_id}, source {source_id!r}: status")
    values = {
        "status": status,
        "found": found,
        "new": new,
        "duplicates": duplicates,
        "errors": errors,
        "error": error,
        "finished_at": utc_now(),
    }
    stmt = _insert(session, RunSource).values(run_id=run_id, source_id=source_id, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["run_id", "source_id"],
            set_={name: stmt.excluded[name] for name in values},
        )
    )


def finish_run(session: Session, run_id: int, status: str, error: str | None = None) -> None:
    """Close a run with its final status (and the error that failed it, if any)."""
    _check(status, RUN_STATUSES, f"run {run_id}: status")
    result = session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, finished_at=utc_now(), error=error)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise StoreError(f"run {run_id} does not exist")


def _run_records(session: Session, runs: list[Run]) -> list[RunRecord]:
    per_run: dict[int, list[RunSourceRecord]] = {run.id: [] for run in runs}
    if per_run:
        rows = session.scalars(
            select(RunSource)
            .where(RunSource.run_id.in_(list(per_run)))
            .order_by(RunSource.source_id)
        )
        for row in rows:
            per_run[row.run_id].append(
                RunSourceRecord(
                    source_id=row.source_id,
                    status=row.status,
                    found=row.found,
                    new=row.new,
                    duplicates=row.duplicates,
                    errors=row.errors,
                    error=row.error,
                    finished_at=row.finished_at,
                )
            )
    return [
        RunRecord(
            id=run.id,
            flow_run_id=run.flow_run_id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=run.status,
            options=dict(run.options or {}),
            error=run.error,
            sources=tuple(per_run[run.id]),
        )
        for run in runs
    ]


def get_run(session: Session, run_id: int) -> RunRecord:
    """The run ``run_id`` with its per-source rows; ``StoreError`` if there is none."""
    run = session.get(Run, run_id)
    if run is None:
        raise StoreError(f"run {run_id} does not exist")
    return _run_records(session, [run])[0]


def latest_runs(session: Session, limit: int = 10) -> list[RunRecord]:
    """The most recent runs, newest first."""
    runs = list(session.scalars(select(Run).order_by(Run.id.desc()).limit(limit)))
    return _run_records(session, runs)


def run_record_dict(record: RunRecord) -> dict[str, Any]:
    """A JSON-able form of a run record (timestamps in ISO 8601)."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    result: dict[str, Any] = plain(asdict(record))
    return result


# Alerts (the outbox) ------------------------------------------------------------------------


def enqueue_alert(session: Session, *, article_id: int, rule: str, channel: str) -> bool:
    """Queue an alert for (article, rule, channel) once; True when newly queued."""
    stmt = (
        _insert(session, AlertRow)
        .on_conflict_do_nothing(index_elements=["article_id", "rule", "channel"])
        .returning(AlertRow.id)
    )
    values = {
        "article_id": article_id,
        "rule": rule,
        "channel": channel,
        "status": "pending",
        "created_at": utc_now(),
        "attempts": 0,
    }
    return session.execute(stmt, values).scalar_one_or_none() is not None


def _alert_query() -> Any:
    return select(
        AlertRow,
        Article.source_id,
        Article.title,
        Article.url,
        Article.published_at,
        func.substr(Article.text, 1, SNIPPET_CHARS),
    ).join(Article, Article.id == AlertRow.article_id)


def _alerts(session: Session, stmt: Any) -> list[Alert]:
    return [
        Alert(
            id=row.id,
            article_id=row.article_id,
            source_id=source_id,
            rule=row.rule,
            channel=row.channel,
            title=title,
            url=url,
            published_at=published_at,
            created_at=row.created_at,
            sent_at=row.sent_at,
            status=row.status,
            snippet=snippet or "",
        )
        for row, source_id, title, url, published_at, snippet in session.execute(stmt)
    ]


def pending_alerts(
    session: Session, channel: str | None = None, limit: int | None = None
) -> list[Alert]:
    """Alerts still owed, oldest first: pending ones, and failed ones with retries left."""
    stmt = _alert_query().where(
        (AlertRow.status == "pending")
        | ((AlertRow.status == "failed") & (AlertRow.attempts < MAX_ALERT_ATTEMPTS))
    )
    if channel is not None:
        stmt = stmt.where(AlertRow.channel == channel)
    stmt = stmt.order_by(AlertRow.created_at, AlertRow.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return _alerts(session, stmt)


def _mark_alert(session: Session, alert_id: int, **values: Any) -> None:
    result = session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id)
        .values(attempts=AlertRow.attempts + 1, **values)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise StoreError(f"alert {alert_id} does not exist")


def mark_alert_sent(session: Session, alert_id: int) -> None:
    """Record that alert ``alert_id`` was delivered."""
    _mark_alert(session, alert_id, status="sent", sent_at=utc_now(), last_error=None)


def mark_alert_failed(session: Session, alert_id: int, error: str) -> None:
    """Record a failed delivery of alert ``alert_id`` and why."""
    _mark_alert(session, alert_id, status="failed", last_error=error)


def list_alerts(
    session: Session,
    *,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Alerts in the outbox, newest first, optionally by status and creation time."""
    stmt = _alert_query()
    if status is not None:
        _check(status, ALERT_STATUSES, "alert status")
        stmt = stmt.where(AlertRow.status == status)
    if since is not None:
        stmt = stmt.where(AlertRow.created_at >= since)
    stmt = stmt.order_by(AlertRow.created_at.desc(), AlertRow.id.desc()).limit(limit)
    return _alerts(session, stmt)


# Fetch state (conditional GET) --------------------------------------------------------------


@dataclass(frozen=True)
class Validators:
    """What the last response for a URL said, for the next conditional request."""

    etag: str | None
    last_modified: str | None
    last_status: int | None = None
    content_hash: str | None = None


def fetch_state_get(session: Session, url: str) -> Validators | None:
    """The stored validators for ``url``, if it was fetched before."""
    row = session.get(FetchState, url)
    if row is None:
        return None
    return Validators(row.etag, row.last_modified, row.last_status, row.content_hash)


def fetch_state_put(
    session: Session,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    status: int | None = None,
    content_hash: str | None = None,
) -> None:
    """Store (or replace) the validators of the latest response for ``url``."""
    values = {
        "etag": etag,
        "last_modified": last_modified,
        "last_status": status,
        "content_hash": content_hash,
        "updated_at": utc_now(),
    }
    stmt = _insert(session, FetchState).values(url=url, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["url"], set_={name: stmt.excluded[name] for name in values}
        )
    )
