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
    conditional = source.options.get("conditional", True)
    return SourceScope(
        source_id=source.id,
        budget=_option_number(source, "time_budget", default_budget),
        conditional=conditional if isinstance(conditional, bool) else True,
        min_delay=_option_number(source, "min_delay", 0.0),
    )


def describe(url: str, scope: SourceScope | None) -> str:
    """How messages name a request: its source, when known, then the URL."""
    return f"{scope.source_id}: {url}" if scope is not None else url


def _option_number(source: Source, name: str, default: float) -> float:
    # The config loader already refuses bad values; a Source built in code gets the default.
    value = source.options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default
    return float(value)
