"""``Leads``: an adapter's leads plus notes on how they were found, for the run record."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.models import Lead


class Leads(list[Lead]):
    """Leads plus notes on how they were found (e.g. a fallback feed read for a failed API)."""

    def __init__(self, leads: Iterable[Lead] = (), notes: Iterable[str] = ()) -> None:
        super().__init__(leads)
        self.notes: list[str] = list(notes)


def notes_of(leads: Iterable[Lead]) -> list[str]:
    """The notes an adapter attached to its leads (none for a plain list)."""
    return list(leads.notes) if isinstance(leads, Leads) else []
