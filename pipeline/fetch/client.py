"""The one HTTP client of a run and the polite ``Fetcher`` over it.

What a request goes through, in order (each step in its own module):

1. robots.txt of its origin, read once per run (``robots.py``); a disallowed URL is never
   fetched: ``RobotsDisallowed`` says so, and the ingest lists it on the source's report;
2. a global slot and a slot of its host (small pools, see ``PerHostTransport``), and the
   minimum delay between two requests to that host (per source option, robots Crawl-delay;
   ``politeness.py``);
3. conditional headers (If-None-Match / If-Modified-Since) when the caller asks and the source
   allows it (``options.conditional``); a 304 comes back as a ``Page`` with no body;
4. the answer read while streaming: connect/read timeouts, a total time per answer
   (``exchange.py``), a size cap on the decoded body and a ratio cap against decompression
   bombs (the body is inflated in bounded steps by ``body.py``, not by httpx);
5. retries with exponential backoff and jitter on connect errors, timeouts, 429 and 5xx, waiting
   what ``Retry-After`` asks, within the source's time budget for the run (``retry.py``);
6. redirects followed by hand (at most ``max_redirects``), each hop through steps 1-5
   (``redirects.py``);
7. the body checked against the kind the adapter expects (``content.py``).

Which source a request is for comes from ``Fetcher.source_scope(source)``, entered by the ingest
around each source's discovery and fetching (``scope.py``): adapters keep calling
``fetcher.get(url)``. Every error message names the source (when known), the URL and the fault.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx

from pipeline.errors import FetchError, ForbiddenAddress
from pipeline.fetch.body import ACCEPT_ENCODING, read_body
from pipeline.fetch.content import Expect, check_content
from pipeline.fetch.exchange import Answer, send_once, time_limit
from pipeline.fetch.guard import AddressGuard, check_scheme
from pipeline.fetch.policy import (
    MAX_BODY_BYTES,
    MAX_REDIRECTS,
    PER_HOST_CONCURRENCY,
    FetchPolicy,
)
from pipeline.fetch.politeness import HostGate
from pipeline.fetch.redirects import follow
from pipeline.fetch.retry import Retrier, parse_retry_after
from pipeline.fetch.robots import RobotsGate, RobotsRules
from pipeline.fetch.scope import CURRENT_SCOPE, SourceScope, describe, scope_of
from pipeline.fetch.state import ValidatorStore
from pipeline.fetch.stats import FetchStats
from pipeline.fetch.transport import PerHostTransport, environment_mounts
from pipeline.models import Page, SeenValidators, Source
from pipeline.settings import DEFAULT_USER_AGENT

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_BODY_BYTES",
    "MAX_REDIRECTS",
    "PER_HOST_CONCURRENCY",
    "FetchStats",
    "Fetcher",
    "SourceScope",
    "build_client",
    "parse_retry_after",
]



def build_client(
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    user_agent: str = DEFAULT_USER_AGENT,
    policy: FetchPolicy | None = None,
    guard: AddressGuard | None = None,
) -> httpx.AsyncClient:
    """The run's ``httpx.AsyncClient``: a pool per host whose connections pass ``guard`` (by
    default the boundary ``NEWSWATCH_ALLOW_HOSTS`` widens), or the given transport (replay)."""
    policy = policy or FetchPolicy()
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    if transport is None:
        pools = PerHostTransport(policy.per_host, guard)
        # A custom transport turns httpx's own proxy settings off; they are mounted here.
        mounts = environment_mounts(pools, pools.ssl_context)
        transport = pools
    return httpx.AsyncClient(
        transport=transport,
        mounts=mounts,
        timeout=httpx.Timeout(
            connect=policy.connect_timeout,
            read=policy.read_timeout,
            write=policy.read_timeout,
            pool=policy.pool_timeout,
        ),
        # Redirects are followed by the Fetcher, so each hop passes robots.txt and politeness.
        follow_redirects=False,
        headers={"user-agent": user_agent, "accept-encoding": ACCEPT_ENCODING},
    )


class Fetcher:
    """Fetches URLs into ``Page`` records through an injected client, politely per host."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        policy: FetchPolicy | None = None,
        per_host: int | None = None,
        max_body_bytes: int | None = None,
        polite: bool = True,
        validators: ValidatorStore | None = None,
        guard: AddressGuard | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        policy = policy or FetchPolicy()
        overrides: dict[str, Any] = {}
        if per_host is not None:
            overrides["per_host"] = per_host
        if max_body_bytes is not None:
            overrides["max_body_bytes"] = max_body_bytes
        self.policy = dataclasses.replace(policy, **overrides)
        self.client = client
        # A replayed run talks to no real host, so waiting between requests would only slow it.
        self.polite = polite
        self.validators = validators
        # Live runs check every hop against the network boundary before sending it; the
        # scheme is checked whatever the transport.
        self.guard = guard
        self.stats = FetchStats()
        self._gate = HostGate(self.policy.per_host, self.policy.global_concurrency)
        self._retrier = Retrier(self.policy, self.stats, sleep=sleep, rng=rng or random.Random())
        self._robots = RobotsGate(self.stats, max_redirects=self.policy.max_redirects)
        self._scopes: dict[str, SourceScope] = {}
        self._new_validators: dict[str, SeenValidators] = {}

    @property
    def max_body_bytes(self) -> int:
        """The cap on a decoded body."""
        return self.policy.max_body_bytes

    @property
    def requests_made(self) -> int:
        """Requests sent (attempts and redirect hops; robots.txt not included)."""
        return self.stats.requests

    # --- per source -------------------------------------------------------------------------

    def scope_for(self, source: Source) -> SourceScope:
        """The scope of ``source`` in this run (made on first use; the budget starts then)."""
        scope = self._scopes.get(source.id)
        if scope is None:
            scope = self._scopes[source.id] = scope_of(source, self.policy.source_budget)
        return scope

    @contextmanager
    def source_scope(self, source: Source) -> Iterator[SourceScope]:
        """Requests made inside the block are for ``source``: its budget, options and records."""
        scope = self.scope_for(source)
        token = CURRENT_SCOPE.set(scope)
        try:
            yield scope
        finally:
            CURRENT_SCOPE.reset(token)

    def new_validators(self, source_ids: Iterable[str] | None = None) -> list[SeenValidators]:
        """Validators seen in this run (of the given sources only, when given)."""
        wanted = None if source_ids is None else set(source_ids)
        return [
            entry
            for entry in self._new_validators.values()
            if wanted is None or entry.source_id in wanted
        ]

    # --- public requests --------------------------------------------------------------------

    def set_min_delay(self, url: str, seconds: float) -> None:
        """Keep at least ``seconds`` between two requests to the host of ``url``."""
        self._gate.set_min_delay(url, seconds)

    def min_delay(self, url: str) -> float:
        """The least gap kept between two requests to the host of ``url``, in seconds."""
        return self._gate.min_delay(url)

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        expect: Expect | None = None,
        conditional: bool = False,
    ) -> Page:
        """GET ``url``; ``expect`` (feed, xml, json, html) checks the body's kind; with
        ``conditional`` the stored validators are sent and a 304 returns a ``Page`` without body.

        Raises ``FetchError`` (network, status, limits), ``BudgetExceeded``,
        ``RobotsDisallowed`` or ``UnexpectedContent``.
        """
        return await self._request(
            "GET", url, headers=headers, expect=expect, conditional=conditional
        )

    async def post_json(self, url: str, payload: Any, *, expect: Expect | None = None) -> Page:
        """POST ``payload`` as JSON to ``url``."""
        return await self._request("POST", url, json_body=payload, expect=expect)

    # --- the request ------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        expect: Expect | None = None,
        conditional: bool = False,
    ) -> Page:
        scope = CURRENT_SCOPE.get()
        where = describe(url if method == "GET" else f"{method} {url}", scope)
        conditional = conditional and method == "GET" and (scope is None or scope.conditional)
        if scope is not None and scope.min_delay > 0:
            self.set_min_delay(url, scope.min_delay)
        base_headers = dict(headers or {})
        first_headers = dict(base_headers)
        if conditional and self.validators is not None:
            stored = self.validators.get(url)
            if stored is not None and stored.etag:
                first_headers["if-none-match"] = stored.etag
            if stored is not None and stored.last_modified:
                first_headers["if-modified-since"] = stored.last_modified
        answer, final_url = await follow(
            partial(self._hop, scope=scope),
            method,
            url,
            headers=base_headers,
            first_headers=first_headers,
            json_body=json_body,
            max_redirects=self.policy.max_redirects,
            where=where,
        )
        if not 200 <= answer.status < 300 and answer.status != 304:
            moved = f" (redirected to {final_url})" if final_url != url else ""
            raise FetchError(f"{where}: HTTP {answer.status}{moved}")
        page = Page(
            url=url,
            final_url=final_url,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
            fetched_at=datetime.now(UTC),
        )
        if answer.status == 304:
            self.stats.not_modified += 1
        else:
            self.stats.bodies += 1
            etag, modified = answer.headers.get("etag"), answer.headers.get("last-modified")
            if conditional and (etag or modified):
                self._new_validators[url] = SeenValidators(
                    scope.source_id if scope else None, url, etag, modified, answer.status
                )
        check_content(page, expect, where)
        return page

    async def _hop(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        *,
        scope: SourceScope | None,
    ) -> Answer:
        where = describe(url, scope)
        try:
            if self.guard is not None:
                await self.guard.check_url(url)
            else:
                check_scheme(url)
            if self.policy.respect_robots:
                await self._robots.check(
                    url,
                    partial(self._get_robots, scope=scope),
                    where=where,
                    on_read=partial(self._obey_crawl_delay, url),
                )
            return await self._with_retries(method, url, headers, json_body, scope)
        except ForbiddenAddress as exc:
            message = str(exc)
            raise ForbiddenAddress(message if url in message else f"{where}: {message}") from None

    async def _with_retries(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        scope: SourceScope | None,
        *,
        robots: bool = False,
    ) -> Answer:
        return await self._retrier.run(
            partial(self._attempt, method, url, headers, json_body, scope, robots),
            describe(url, scope),
            scope,
        )

    async def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        scope: SourceScope | None,
        robots: bool,
    ) -> Answer:
        where = describe(url, scope)
        limit, budget_bound = time_limit(self.policy.total_timeout, scope)
        async with self._gate.turn(url, spaced=self.polite):
            if robots:
                self.stats.robots_requests += 1
            else:
                self.stats.requests += 1
            request = self.client.build_request(method, url, headers=headers, json=json_body)
            return await send_once(
                self.client,
                request,
                partial(read_body, where=where, policy=self.policy, stats=self.stats),
                where=where,
                limit=limit,
                budget_of=scope if budget_bound else None,
            )

    # --- robots.txt -------------------------------------------------------------------------

    def _obey_crawl_delay(self, url: str, rules: RobotsRules) -> None:
        delay = rules.crawl_delay()
        if delay:
            self.set_min_delay(url, min(delay, self.policy.max_crawl_delay))

    async def _get_robots(self, url: str, *, scope: SourceScope | None) -> Answer:
        return await self._with_retries("GET", url, {}, None, scope, robots=True)
