"""``Leads``: an adapter's leads plus notes on how they were found, for the run record."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.models import Lead, Source
from pipeline.options import Option, positive_int

# A feed lists what is new since yesterday: tens of items, a few hundred for a busy outlet.
# A listing of 100,000 items is a fault or an attack (it took six minutes and 515 MB through a
# run); the first items are read and the rest wait for the next run.
DEFAULT_MAX_ITEMS = 1_000
MAX_ITEMS = Option(
    "max_items",
    positive_int,
    f"items read from the listing per run (default {DEFAULT_MAX_ITEMS:,}); the rest wait, with a"
    " note on the run",
    default=DEFAULT_MAX_ITEMS,
)


class Leads(list[Lead]):
    """Leads plus notes on how they were found (e.g. a fallback feed read for a failed API)."""

    def __init__(self, leads: Iterable[Lead] = (), notes: Iterable[str] = ()) -> None:
        super().__init__(leads)
        self.notes: list[str] = list(notes)


def notes_of(leads: Iterable[Lead]) -> list[str]:
    """The notes an adapter attached to its leads (none for a plain list)."""
    return list(leads.notes) if isinstance(leads, Leads) else []


def cap_leads(source: Source, leads: list[Lead], limit: int) -> tuple[list[Lead], list[str]]:
    """The first ``limit`` leads, and a note when more were listed."""
    if len(leads) <= limit:
        return leads, []
    note = (
        f"{source.id} listed {len(leads):,} items; the first {limit:,} were read"
        " (options.max_items)"
    )
    return leads[:limit], [note]
