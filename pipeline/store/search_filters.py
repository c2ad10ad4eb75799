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


def _tagged(article_id: str, tag_ids: str) -> str:
    """SQL true when the article ``article_id`` has one of the tags ``tag_ids``."""
    return (
        f"EXISTS (SELECT 1 FROM article_tags WHERE article_tags.article_id = {article_id}"
        f" AND article_tags.tag_id IN ({tag_ids}))"
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
        found: list[str] = []
        if not self.include_duplicates:
            found.append(NOT_A_COPY)
        if self.sources:
            found.append(f"articles.source_id IN ({bind_list('source', self.sources, params)})")
        if self.doc_types:
            found.append(f"articles.doc_type IN ({bind_list('doc', self.doc_types, params)})")
        if self.langs:
            # "zh" takes zh-hant and zh-hk, as a rule's languages do.
            patterns = [f"{lang.lower()}%" for lang in self.langs]
            names = bind_list("lang", patterns, params).split(", ")
            found.append("(" + " OR ".join(f"lower(articles.lang) LIKE {n}" for n in names) + ")")
        if self.regulator is not None:
            found.append("articles.regulator" if self.regulator else "NOT articles.regulator")
        tagged = [("entity", value) for value in self.entities]
        tagged += [("topic", value) for value in self.topics]
        tag_ids = [
            _tag_ids(reader, kind, value.strip().lower(), f"tag{index}_", params)
            for index, (kind, value) in enumerate(tagged)
        ]
        timed: list[str] = []
        if self.since is not None:
            params["since"] = reader.time(self.since)
            timed.append(f"{WHEN} >= :since")
        if self.until is not None:
            params["until"] = reader.time(self.until)
            timed.append(f"{WHEN} < :until")
        return [
            [*found, *(_tagged(article_id, ids) for ids in tag_ids), *timed]
            for article_id in article_ids
        ]
