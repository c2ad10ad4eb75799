"""Which source a request is for, and what that source may still spend in this run.

The ingest enters ``Fetcher.source_scope(source)`` around each source's discovery and fetching;
the scope travels in a context variable, so adapters keep calling ``fetcher.get(url)`` without
passing their source along, and concurrent sources never see each other's scope.
"""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass, field

from pipeline.models import Source
from pipeline.options import Option, Options, boolean, positive_seconds, seconds

# The options every source kind takes, read by the fetcher for the source's requests.
FETCH_OPTIONS = Options(
    Option(
        "conditional",
        boolean,
        "send the stored ETag/Last-Modified; false for a feed that sends stale ones",
        default=True,
    ),
    Option("min_delay", seconds, "seconds between two requests to the same host", default=0.0),
    Option(
        "time_budget",
        positive_seconds,
        "seconds the source may spend in one run, retries included (default 300)",
    ),
)


@dataclass
class SourceScope:
    """One source's state in a run: its options for fetching and its time budget."""

    source_id: str
    budget: float
    conditional: bool = True
    min_delay: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        """Seconds left of the budget."""
        return self.budget - (time.monotonic() - self.started)


CURRENT_SCOPE: contextvars.ContextVar[SourceScope | None] = contextvars.ContextVar(
    "newswatch_fetch_scope", default=None
)


def scope_of(source: Source, default_budget: float) -> SourceScope:
    """A new scope for ``source`` from its options; its budget starts now."""
    budget = FETCH_OPTIONS.value(source, "time_budget")
    return SourceScope(
        source_id=source.id,
        budget=float(budget) if budget is not None else default_budget,
        conditional=FETCH_OPTIONS.value(source, "conditional"),
        min_delay=float(FETCH_OPTIONS.value(source, "min_delay")),
    )


def describe(url: str, scope: SourceScope | None) -> str:
    """How messages name a request: its source, when known, then the URL."""
    return f"{scope.source_id}: {url}" if scope is not None else url
