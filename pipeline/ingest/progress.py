"""How far a run has got, for whoever watches it: items fetched and items stored.

A run counts two steps per item it plans to read, one when its page is fetched and one when its
batch is stored, so a backfill that spends minutes paging and fetching shows movement before
anything is stored. The command that runs the flow in its own process listens
(``watch_progress``) and draws a bar; a run nobody watches counts nothing. The listener rides
in a context variable, since the flow's parameters cannot carry a function and the flow runs
in the caller's context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# ``progress(done, total)``: the same callback the other long commands take.
ProgressListener = Callable[[int, "int | None"], None]
# Steps counted per planned item: its fetch, and the store of its batch.
STEPS_PER_ITEM = 2


@dataclass
class RunProgress:
    """Steps done out of the steps expected, told to the listener at each change."""

    listener: ProgressListener
    done: int = 0
    total: int | None = None

    def expect(self, items: int) -> None:
        """The run plans to read ``items`` items."""
        self.total = STEPS_PER_ITEM * items
        self.listener(self.done, self.total)

    def advance(self, steps: int) -> None:
        """``steps`` more steps are done."""
        self.done += steps
        self.listener(self.done, self.total)


_watching: ContextVar[RunProgress | None] = ContextVar("newswatch_run_progress", default=None)


@contextmanager
def watch_progress(listener: ProgressListener) -> Iterator[RunProgress]:
    """Runs started in the block (in this context) report their steps to ``listener``."""
    progress = RunProgress(listener)
    token = _watching.set(progress)
    try:
        yield progress
    finally:
        _watching.reset(token)


def expect_items(items: int) -> None:
    """Tell the listener, if any, how many items the run plans to read."""
    progress = _watching.get()
    if progress is not None:
        progress.expect(items)


def items_fetched(count: int = 1) -> None:
    """``count`` items had their page fetched (or failed to)."""
    progress = _watching.get()
    if progress is not None:
        progress.advance(count)


def items_stored(count: int) -> None:
    """A batch of ``count`` items was processed and stored."""
    progress = _watching.get()
    if progress is not None:
        progress.advance(count)
