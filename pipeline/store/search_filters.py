"""What a search or an export asks of an article besides its text: tags, sources, types,
languages, the regulator flag and a time range, as SQL conditions over ``articles``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.store.reader import Reader, bind_list

# An article's time: its publication, or when it was first stored if its source gave none.
WHEN = "COALESCE(articles.published_at, articles.first_seen_at)"
# Unary plus: nearly every article is no copy, and SQLite would otherwise read through the
# duplicate_of index instead of the time or text indexes.
NOT_A_COPY = "+articles.duplicate_of IS NULL"


def _tag_ids(reader: Reader, kind: str, name: str, key: str, params: dict[str, Any]) -> str:
    """The bound list of the ids of the tags of ``kind`` whose id or name is ``name``.

    The tag's id is looked up first, so that the condition is a probe of article_tags' key per
    article: Postgres otherwise joined the tags table in every probe, doubling its cost.
    """
    sql = "SELECT id FROM tags WHERE kind = :kind AND (lower(id) = :name OR lower(name) = :name)"
    ids = [row["id"] for row in reader.rows(sql, {"kind": kind, "name": name})]
    return bind_list(key, ids, params)


def _tagged(article_id: str, tag_ids: str, *, probe: bool = False) -> str:
    """SQL true when the article ``article_id`` has one of the tags ``tag_ids``. ``probe``:
    asked of a few articles, each by the key of article_tags."""
    # Postgres may otherwise answer a condition of the SELECT list by hashing every article of
    # the tag first (78,085 of a topic at 1M articles: 160 ms for a window of two thousand);
    # an OFFSET keeps it from rewriting the EXISTS that way.
    offset = " OFFSET 0" if probe else ""
    return (
        f"EXISTS (SELECT 1 FROM article_tags WHERE article_tags.article_id = {article_id}"
        f" AND article_tags.tag_id IN ({tag_ids}){offset})"
    )


def _many(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Filters:
    """What an article must be to match, besides the text: every entity and every topic named,
    one of the sources, document types and languages named, the regulator flag, a time range
    (``until`` exclusive; the publication time, or the time first seen for an undated one)."""

    entities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    regulator: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_duplicates: bool = False

    @classmethod
    def of(
        cls,
        *,
        entity: str | Sequence[str] | None = None,
        topic: str | Sequence[str] | None = None,
        source: str | Sequence[str] | None = None,
        doc_type: str | Sequence[str] | None = None,
        lang: str | Sequence[str] | None = None,
        regulator: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_duplicates: bool = False,
    ) -> Filters:
        """Filters from options given one value or several."""
        return cls(
            _many(entity),
            _many(topic),
            _many(source),
            _many(doc_type),
            _many(lang),
            regulator,
            since,
            until,
            include_duplicates,
        )

    def sql(
        self, reader: Reader, params: dict[str, Any], article_id: str = "articles.id"
    ) -> list[str]:
        """The WHERE conditions these filters make, their values added to ``params``.

        ``article_id``: the column the tag conditions probe by, when a table read before
        ``articles`` holds the id too (SQLite then checks the tags before reading the row).
        """
        return self.sql_per_id(reader, params, [article_id])[0]

    def sql_per_id(
        self, reader: Reader, params: dict[str, Any], article_ids: Sequence[str]
    ) -> list[list[str]]:
        """The conditions of ``sql``, once for each of the columns ``article_ids`` the tag
        conditions probe by; each tag is looked up once."""
        read_by, asked, tag_ids = self._parts(reader, params)
        return [
            [*read_by, *asked, *(_tagged(article_id, ids) for ids in tag_ids)]
            for article_id in article_ids
        ]

    def sql_for_walk(
        self, reader: Reader, params: dict[str, Any]
    ) -> tuple[list[str], list[str], list[str]]:
        """The conditions of ``sql`` in two: those the time index is read by (copies left
        out, the time range) and the rest; then the rest again as asked of each article a
        walk of the time index reads."""
        read_by, asked, tag_ids = self._parts(reader, params)
        return (
            read_by,
            [*asked, *(_tagged("articles.id", ids) for ids in tag_ids)],
            [*asked, *(_tagged("articles.id", ids, probe=True) for ids in tag_ids)],
        )

    def _parts(
        self, reader: Reader, params: dict[str, Any]
    ) -> tuple[list[str], list[str], list[str]]:
        """The conditions on the copy flag and the time, those on the other columns, and the
        bound lists of the ids of each tag named."""
        read_by: list[str] = []
        if not self.include_duplicates:
            read_by.append(NOT_A_COPY)
        if self.since is not None:
            params["since"] = reader.time(self.since)
            read_by.append(f"{WHEN} >= :since")
        if self.until is not None:
            params["until"] = reader.time(self.until)
            read_by.append(f"{WHEN} < :until")
        asked: list[str] = []
        if self.sources:
            asked.append(f"articles.source_id IN ({bind_list('source', self.sources, params)})")
        if self.doc_types:
            asked.append(f"articles.doc_type IN ({bind_list('doc', self.doc_types, params)})")
        if self.langs:
            # "zh" takes zh-hant and zh-hk, as a rule's languages do.
            patterns = [f"{lang.lower()}%" for lang in self.langs]
            names = bind_list("lang", patterns, params).split(", ")
            asked.append("(" + " OR ".join(f"lower(articles.lang) LIKE {n}" for n in names) + ")")
        if self.regulator is not None:
            asked.append("articles.regulator" if self.regulator else "NOT articles.regulator")
        tagged = [("entity", value) for value in self.entities]
        tagged += [("topic", value) for value in self.topics]
        tag_ids = [
            _tag_ids(reader, kind, value.strip().lower(), f"tag{index}_", params)
            for index, (kind, value) in enumerate(tagged)
        ]
        return read_by, asked, tag_ids
