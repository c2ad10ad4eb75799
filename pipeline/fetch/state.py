"""Conditional GET state as the fetcher sees it: where it reads the validators of a URL.

The fetcher reads the stored validators of a URL before a conditional request and keeps the
validators of this run's answers in memory (``SeenValidators``). The store reads and writes the
``fetch_state`` table (``pipeline.store.fetch_state``); the ingest hands it the new validators at
the end of the run, and only for sources that finished without error: a feed answered 304 next
time lists nothing, so its validators must not be kept before its items are stored.
"""

from __future__ import annotations

from typing import Protocol

from pipeline.models import Validators


class ValidatorStore(Protocol):
    """Where a fetcher reads the validators of the last response for a URL."""

    def get(self, url: str) -> Validators | None:
        """The stored validators for ``url``, if any."""
        ...
