"""Politeness per host: a few requests to one host at a time, a bound on all requests at once,
and a minimum gap between two requests to one host (a source's ``min_delay``, robots.txt
``Crawl-delay``)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


def host_key(url: str) -> str:
    """What politeness counts as one host: the host name and its port (two ports of one
    address are two servers, as ``PerHostTransport`` pools them)."""
    # urlsplit: httpx.URL costs about 70 µs a parse, a tenth of a request's whole budget.
    return urlsplit(url).netloc.rpartition("@")[2].lower()


class HostGate:
    """The slots of each host and of the whole run, and the spacing of requests per host."""

    def __init__(self, per_host: int, global_concurrency: int) -> None:
        self._global = asyncio.Semaphore(global_concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host)
        )
        self._min_delay: dict[str, float] = {}
        self._last_request: dict[str, float] = {}

    def set_min_delay(self, url: str, seconds: float) -> None:
        """Keep at least ``seconds`` between two requests to the host of ``url``."""
        host = host_key(url)
        # Several parties ask (a source's option, robots.txt): the slowest pace wins.
        self._min_delay[host] = max(seconds, self._min_delay.get(host, 0.0))

    def min_delay(self, url: str) -> float:
        """The least gap kept between two requests to the host of ``url``, in seconds."""
        return self._min_delay.get(host_key(url), 0.0)

    @asynccontextmanager
    async def turn(self, url: str, *, spaced: bool = True) -> AsyncIterator[None]:
        """Hold a slot of the host of ``url`` and a global one; with ``spaced``, also wait
        until the host's minimum gap since the previous request has passed."""
        host = host_key(url)
        # The host's slot first: a request waiting for its host must not hold a global slot
        # that a request to an idle host could use.
        async with self._host_slots[host], self._global:
            if spaced:
                await self._wait_gap(host)
            yield

    async def _wait_gap(self, host: str) -> None:
        delay = self._min_delay.get(host, 0.0)
        if delay <= 0:
            return
        # Reserve the slot before sleeping, so two concurrent requests never take the same one.
        now = time.monotonic()
        slot = max(now, self._last_request.get(host, 0.0) + delay)
        self._last_request[host] = slot
        if slot > now:
            await asyncio.sleep(slot - now)
