"""The one HTTP client of a run: limits, timeouts, a body-size cap, errors that name the URL.

Tuning constants sit at the top with the reason for their value.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from pipeline.errors import FetchError
from pipeline.models import Page

# Small per-host pools: httpx's pool slows as it grows (about 1,370 req/s at 5 connections
# against 90 at 100 on loopback), and real sites ask for few connections per client.
PER_HOST_CONCURRENCY = 4
# A run reads dozens of hosts; more than this in flight gains nothing on a 2-core machine.
GLOBAL_CONCURRENCY = 32
# No news page or feed is this large; anything bigger is a fault or an attack.
MAX_BODY_BYTES = 10 * 1024 * 1024
TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=10.0, pool=60.0)
MAX_REDIRECTS = 5
DEFAULT_USER_AGENT = "newswatch/0.1 (+https://example.org/newswatch; ops@example.org)"


def build_client(
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    user_agent: str = DEFAULT_USER_AGENT,
) -> httpx.AsyncClient:
    """The run's ``httpx.AsyncClient``; a transport (replay, mock) keeps it off the network."""
    return httpx.AsyncClient(
        transport=transport,
        timeout=TIMEOUT,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"user-agent": user_agent, "accept-encoding": "gzip, deflate"},
        limits=httpx.Limits(max_connections=GLOBAL_CONCURRENCY, max_keepalive_connections=16),
    )


class Fetcher:
    """Fetches URLs into ``Page`` records through an injected client, politely per host."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        per_host: int = PER_HOST_CONCURRENCY,
        max_body_bytes: int = MAX_BODY_BYTES,
        polite: bool = True,
    ) -> None:
        self.client = client
        # A replayed run talks to no real host, so waiting between requests would only slow it.
        self.polite = polite
        self.max_body_bytes = max_body_bytes
        self._per_host = per_host
        self._host_slots: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self._per_host)
        )
        self._min_delay: dict[str, float] = {}
        self._last_request: dict[str, float] = {}
        self.requests_made = 0

    def set_min_delay(self, url: str, seconds: float) -> None:
        """Keep at least ``seconds`` between two requests to the host of ``url``."""
        host = httpx.URL(url).host
        self._min_delay[host] = max(seconds, self._min_delay.get(host, 0.0))

    async def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Page:
        """GET ``url``; raises ``FetchError`` for network errors, limits and non-2xx answers."""
        return await self._send("GET", url, headers=headers)

    async def post_json(self, url: str, payload: Any) -> Page:
        """POST ``payload`` as JSON to ``url``."""
        return await self._send("POST", url, json_body=payload)

    async def _wait_turn(self, host: str) -> None:
        delay = self._min_delay.get(host, 0.0)
        if delay <= 0 or not self.polite:
            return
        # Reserve the slot before sleeping, so two concurrent requests never take the same one.
        now = time.monotonic()
        slot = max(now, self._last_request.get(host, 0.0) + delay)
        self._last_request[host] = slot
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Page:
        host = httpx.URL(url).host
        async with self._host_slots[host]:
            await self._wait_turn(host)
            self.requests_made += 1
            try:
                request = self.client.build_request(method, url, headers=headers, json=json_body)
                response = await self.client.send(request, stream=True)
                try:
                    body = await self._read_capped(response, url)
                finally:
                    await response.aclose()
            except httpx.TooManyRedirects as exc:
                raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects") from exc
            except httpx.TimeoutException as exc:
                raise FetchError(f"{url}: timed out ({type(exc).__name__})") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300 and response.status_code != 304:
            raise FetchError(f"{url}: HTTP {response.status_code}")
        return Page(
            url=url,
            final_url=str(response.url),
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=body,
            fetched_at=datetime.now(UTC),
        )

    async def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise FetchError(f"{url}: body larger than {self.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
