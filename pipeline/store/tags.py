"""The ``tags`` table mirrors the taxonomy: every node becomes a row before articles link to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from pipeline.models import Tag
from pipeline.store import repo

if TYPE_CHECKING:
    from pipeline.tag import Tagger


def sync_taxonomy(session: Session, tagger: Tagger) -> set[str]:
    """Store every taxonomy node as a tag row (names, parents, regulator flags); returns the ids.

    Rows of nodes since removed from the taxonomy stay: old links and searches may name them.
    """
    nodes = list(tagger.nodes)
    repo.upsert_tags(
        session,
        [Tag(id=n.id, name=n.name, kind=n.kind, type=n.type, count=0) for n in nodes],
        parents={n.id: n.parent for n in nodes},
        regulators={n.id for n in nodes if n.regulator},
    )
    return {n.id for n in nodes}
