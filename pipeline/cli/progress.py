"""Progress of the long commands (backfill, retag, stories rebuild, export) on stderr.

With a terminal on stderr, a Rich progress bar that disappears when the work ends, leaving the
command's summary. Without one (a log file, cron, a pipe), plain lines: one every few seconds
while the work lasts, and a last one when it ends, so a quick run prints none and a log of a
long one shows it moving. The library reports through a callback, ``progress(done, total)``
(``total`` None when unknown), and never imports Rich.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from pipeline.cli.common import err_console

ProgressCallback = Callable[[int, "int | None"], None]

# Seconds between two plain lines: a long backfill or export logs a dozen lines a minute.
PLAIN_EVERY = 5.0


class PlainProgress:
    """Progress as plain lines on a console that is no terminal, at most one per ``every``
    seconds, and a last line when some were printed (a quick run prints none)."""

    def __init__(
        self,
        label: str,
        console: Console,
        *,
        every: float = PLAIN_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.console = console
        self.every = every
        self.clock = clock
        self.started = clock()
        self.last_line = self.started
        self.lines = 0
        self.done = 0
        self.total: int | None = None

    def __call__(self, done: int, total: int | None) -> None:
        """Record ``done`` of ``total``; print a line when the last one is old enough."""
        self.done, self.total = done, total
        now = self.clock()
        if now - self.last_line >= self.every:
            self._line(now)

    def finish(self) -> None:
        """The last line, when the work was long enough to print any before."""
        if self.lines:
            self._line(self.clock())

    def _line(self, now: float) -> None:
        self.last_line = now
        self.lines += 1
        counted = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        if self.total:
            counted += f" ({100 * self.done // self.total}%)"
        self.console.print(
            Text(f"{self.label}: {counted}, {now - self.started:.0f} s"),
            highlight=False,
            soft_wrap=True,
        )


@contextmanager
def progress_reporter(
    label: str,
    *,
    console: Console | None = None,
    every: float = PLAIN_EVERY,
    enabled: bool = True,
) -> Iterator[ProgressCallback]:
    """A ``progress(done, total)`` callback for the block: a Rich bar when ``console`` (stderr
    by default) is a terminal, plain lines every ``every`` seconds when it is not, nothing
    when not ``enabled``."""
    out = console or err_console
    if not enabled:
        yield _ignore
        return
    if not out.is_terminal:
        plain = PlainProgress(label, out, every=every)
        yield plain
        plain.finish()
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        # Gone once the work ends: the command's summary says what was done.
        transient=True,
        # The command's own output goes where it goes, untouched (an export to stdout).
        redirect_stdout=False,
        redirect_stderr=False,
    )
    task = bar.add_task(label, total=None)

    def update(done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update


def _ignore(done: int, total: int | None) -> None:
    """Progress no one shows."""
