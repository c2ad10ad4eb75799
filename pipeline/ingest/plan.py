"""Stage 2, plan: which sources a run reads, which listed items to fetch. No I/O.

Before discovery, ``hold_sources`` sets aside the sources a scheduled run skips: paused by an
operator, or backing off after failed runs. Items are planned in declaration order (sources as
configured, leads as listed), so two runs over the same answers plan the same; the first source
to list an item claims it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.canonical import canonical_url
from pipeline.dates import parse_date
from pipeline.dedupe import item_key
from pipeline.ingest.records import Action, Planned
from pipeline.models import Lead, Source

if TYPE_CHECKING:
    from pipeline.store.repo import SourceState


def hold_sources(
    sources: Sequence[Source],
    states: Mapping[str, SourceState],
    *,
    now: datetime,
    named: bool = False,
) -> tuple[list[Source], dict[str, SourceState]]:
    """Split a run's sources into those it reads and those it skips, with their state.

    A paused source, or one backing off at ``now``, is skipped; when an operator ``named`` the
    sources of the run (``--source``) they are all read whatever their state.
    """
    if named:
        return list(sources), {}
    read: list[Source] = []
    held: dict[str, SourceState] = {}
    for source in sources:
        state = states.get(source.id)
        if state is not None and state.held(now):
            held[source.id] = state
        else:
            read.append(source)
    return read, held


def lead_key(source: Source, lead: Lead) -> str:
    """The natural key a lead's item is stored under (before its page is seen)."""
    return item_key(source.namespace, lead.item_id, canonical_url(lead.url))


def plan_items(
    discovered: Sequence[tuple[Source, Sequence[Lead]]],
    stored: Mapping[str, str | None],
) -> list[Planned]:
    """Decide per lead whether to fetch it.

    ``stored`` maps each stored key to its stored change marker: a stored item is fetched
    again only when its lead carries a newer marker.
    """
    claimed: set[str] = set()
    plan: list[Planned] = []
    for source, leads in discovered:
        for lead in leads:
            key = lead_key(source, lead)
            action = _action(lead, key, stored, claimed)
            if action in (Action.fetch, Action.body, Action.update):
                claimed.add(key)
            plan.append(Planned(source, lead, key, action, lead.body_url or lead.url))
    return plan


def _action(lead: Lead, key: str, stored: Mapping[str, str | None], claimed: set[str]) -> Action:
    if key in stored:
        if key not in claimed and changed_since(lead.modified, stored[key]):
            return Action.update
        return Action.known
    if key in claimed:
        return Action.claimed
    return Action.body if lead.body_html is not None else Action.fetch


def changed_since(marker: str | None, stored: str | None) -> bool:
    """Whether a source's change marker is newer than the stored one (both ISO-like times)."""
    if not marker:
        return False
    fresh = parse_date(marker)
    if fresh is None:
        return False
    if not stored:
        return True
    before = parse_date(stored)
    return before is None or fresh > before
