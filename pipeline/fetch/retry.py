"""Retries of one request: which answers are worth asking again, how long to wait before the
next attempt (what ``Retry-After`` asks, else exponential backoff with jitter), and when to
give up (attempts spent, a ``Retry-After`` longer than a run waits, the source's time budget)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

from pipeline.errors import BudgetExceeded, FetchError
from pipeline.fetch.exchange import Answer, Retryable
from pipeline.fetch.policy import FetchPolicy
from pipeline.fetch.scope import SourceScope
from pipeline.fetch.stats import FetchStats

# Statuses worth asking again: rate limited, and server-side faults that pass (501 "Not
# Implemented" and 505 will not).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 507, 508, 520, 521, 522, 523, 524})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(when.timestamp() - current, 0.0)


class Retrier:
    """Runs the attempts of one request until an answer is not worth asking again."""

    def __init__(
        self,
        policy: FetchPolicy,
        stats: FetchStats,
        *,
        sleep: Callable[[float], Awaitable[Any]],
        rng: random.Random,
    ) -> None:
        self.policy = policy
        self.stats = stats
        self._sleep = sleep
        self._rng = rng

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when given, else exponential backoff with jitter (half fixed, half
        random, so retries from many requests spread out but never come at once)."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    async def run(
        self, attempt_once: Callable[[], Awaitable[Answer]], where: str, scope: SourceScope | None
    ) -> Answer:
        """The first answer of ``attempt_once`` not worth retrying; ``FetchError`` when the
        attempts run out, ``BudgetExceeded`` when the source's budget would."""
        attempt = 0
        while True:
            attempt += 1
            if scope is not None and scope.remaining() <= 0:
                raise BudgetExceeded(
                    f"{where}: time budget of {scope.budget:g} s for source "
                    f"{scope.source_id!r} spent before attempt {attempt}"
                )
            try:
                answer = await attempt_once()
                if answer.status in RETRY_STATUSES:
                    retry_after = parse_retry_after(answer.headers.get("retry-after"))
                    raise Retryable(f"HTTP {answer.status}", retry_after)
                return answer
            except Retryable as fault:
                if attempt >= self.policy.max_attempts:
                    raise FetchError(f"{where}: {fault.fault} (after {attempt} attempts)") from None
                delay = self.delay(attempt, fault.retry_after)
                longest = self.policy.max_retry_after
                if fault.retry_after is not None and fault.retry_after > longest:
                    raise FetchError(
                        f"{where}: {fault.fault}, Retry-After {fault.retry_after:g} s is longer "
                        f"than the {longest:g} s a run waits"
                    ) from None
                if scope is not None and delay >= scope.remaining():
                    raise BudgetExceeded(
                        f"{where}: {fault.fault} (after {attempt} attempts); waiting "
                        f"{delay:.2f} s more would pass the time budget of {scope.budget:g} s "
                        f"for source {scope.source_id!r}"
                    ) from None
                self.stats.retries += 1
                await self._sleep(delay)
