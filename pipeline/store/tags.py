"""The ``tags`` table mirrors the taxonomy: every node becomes a row before articles link to it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.models import Tag
from pipeline.store.schema import TagRow
from pipeline.store.sql import dialect_insert

if TYPE_CHECKING:
    from pipeline.taxonomy import Node


def unique_tags(tags: Iterable[Tag]) -> list[Tag]:
    """One tag per id (the first), since one statement may not touch a row twice."""
    unique: dict[str, Tag] = {}
    for tag in tags:
        unique.setdefault(tag.id, tag)
    return list(unique.values())


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
    unique = unique_tags(tags)
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
    stmt = dialect_insert(session, TagRow)
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


def sync_taxonomy(session: Session, nodes: Iterable[Node]) -> set[str]:
    """Store every taxonomy node as a tag row (names, parents, regulator flags); returns the ids.

    Rows of nodes since removed from the taxonomy stay: old links and searches may name them.
    """
    nodes = list(nodes)
    upsert_tags(
        session,
        [Tag(id=n.id, name=n.name, kind=n.kind, type=n.type, count=0) for n in nodes],
        parents={n.id: n.parent for n in nodes},
        regulators={n.id for n in nodes if n.regulator},
    )
    return {n.id for n in nodes}


def tag_names(session: Session, tag_ids: Iterable[str]) -> dict[str, str]:
    """The stored names of ``tag_ids`` (those that have a row)."""
    wanted = sorted(set(tag_ids))
    if not wanted:
        return {}
    found = session.execute(select(TagRow.id, TagRow.name).where(TagRow.id.in_(wanted)))
    return {tag_id: name for tag_id, name in found}
