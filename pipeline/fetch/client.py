"""The one HTTP client of a run and the polite ``Fetcher`` over it.

What a request goes through, in order:

1. robots.txt of its origin, read once per run (``pipeline/fetch/robots.py``); a disallowed URL
   is never fetched: ``RobotsDisallowed`` says so, and the ingest lists it on the source's report;
2. a global slot and a slot of its host (small pools, see ``PerHostTransport``), and the
   minimum delay between two requests to that host (per source option, robots Crawl-delay);
3. conditional headers (If-None-Match / If-Modified-Since) when the caller asks and the source
   allows it (``options.conditional``); a 304 comes back as a ``Page`` with no body;
4. the answer read while streaming: connect/read timeouts, a total time per answer, a size cap
   on the decoded body and a ratio cap against decompression bombs (the body is inflated here,
   in bounded steps, not by httpx);
5. retries with exponential backoff and jitter on connect errors, timeouts, 429 and 5xx, waiting
   what ``Retry-After`` asks, within the source's time budget for the run;
6. redirects followed by hand (at most ``max_redirects``), each hop through steps 1-5;
7. the body checked against the kind the adapter expects (``pipeline/fetch/content.py``).

Which source a request is for comes from ``Fetcher.source_scope(source)``, entered by the ingest
around each source's discovery and fetching: adapters keep calling ``fetcher.get(url)``.
Every error message names the source (when known), the URL and the fault.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import email.utils
import random
import time
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.errors import (
    BudgetExceeded,
    FetchError,
    LimitExceeded,
    RobotsDisallowed,
)
from pipeline.fetch.content import Expect, check_content
from pipeline.fetch.policy import (
    INFLATE_STEP_BYTES,
    MAX_BODY_BYTES,
    MAX_REDIRECTS,
    MAX_ROBOTS_BYTES,
    PER_HOST_CONCURRENCY,
    FetchPolicy,
)
from pipeline.fetch.replay import ReplayMiss
from pipeline.fetch.robots import ROBOTS_AGENT, RobotsRules, origin_of
from pipeline.fetch.state import NewValidators, ValidatorStore
from pipeline.fetch.transport import PerHostTransport, environment_mounts
from pipeline.models import Page, Source

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_BODY_BYTES",
    "MAX_REDIRECTS",
    "PER_HOST_CONCURRENCY",
    "FetchStats",
    "Fetcher",
    "SourceScope",
    "build_client",
]

DEFAULT_USER_AGENT = "newswatch/0.1 (+https://example.org/newswatch; ops@example.org)"
# Statuses worth asking again: rate limited, and server-side faults that pass (501 "Not
# Implemented" and 505 will not).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 507, 508, 520, 521, 522, 523, 524})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Only these are asked for, so only these need inflating.
ACCEPT_ENCODING = "gzip, deflate"

_SCOPE: contextvars.ContextVar[SourceScope | None] = contextvars.ContextVar(
    "newswatch_fetch_scope", default=None
)


def build_client(
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    user_agent: str = DEFAULT_USER_AGENT,
    policy: FetchPolicy | None = None,
) -> httpx.AsyncClient:
    """The run's ``httpx.AsyncClient``: a pool per host, or the given transport (replay, mock)."""
    policy = policy or FetchPolicy()
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    if transport is None:
        pools = PerHostTransport(policy.per_host)
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


@dataclass
class FetchStats:
    """Counts of one fetcher's work (the benchmark and the run summary print them)."""

    requests: int = 0
    bodies: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes_downloaded: int = 0
    robots_requests: int = 0
    robots_skipped: int = 0


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes


class _Retryable(Exception):
    """A fault worth another attempt; ``fault`` says what it was for the final message."""

    def __init__(self, fault: str, retry_after: float | None = None) -> None:
        super().__init__(fault)
        self.fault = fault
        self.retry_after = retry_after


def _option_number(source: Source, name: str, default: float) -> float:
    value = source.options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default
    return float(value)


def host_key(url: str) -> str:
    """What politeness counts as one host: the host name and its port (two ports of one
    address are two servers, as ``PerHostTransport`` pools them)."""
    # urlsplit: httpx.URL costs about 70 µs a parse, a tenth of a request's whole budget.
    return urlsplit(url).netloc.rpartition("@")[2].lower()


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


class _Inflater:
    """Inflates gzip/deflate in steps of ``INFLATE_STEP_BYTES``, so a bomb is caught early."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # 32 + 15: zlib reads the gzip or zlib header itself; plain deflate is tried as raw.
        self._obj = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._raw_tried = encoding != "deflate"

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                piece = self._obj.decompress(data, INFLATE_STEP_BYTES)
            except zlib.error:
                if self._raw_tried:
                    raise
                # Some servers send raw deflate under "deflate"; start over reading it raw.
                self._raw_tried = True
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = self._obj.decompress(data, INFLATE_STEP_BYTES)
            tail = self._obj.unconsumed_tail
            yield piece
            if not piece and tail == data:
                break
            data = tail

    def flush(self) -> bytes:
        return self._obj.flush()


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
        self.stats = FetchStats()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._global = asyncio.Semaphore(self.policy.global_concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.policy.per_host)
        )
        self._min_delay: dict[str, float] = {}
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, RobotsRules] = {}
        self._robots_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._scopes: dict[str, SourceScope] = {}
        self._new_validators: dict[str, NewValidators] = {}

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
            conditional = source.options.get("conditional", True)
            scope = SourceScope(
                source_id=source.id,
                budget=_option_number(source, "time_budget", self.policy.source_budget),
                conditional=conditional if isinstance(conditional, bool) else True,
                min_delay=_option_number(source, "min_delay", 0.0),
            )
            self._scopes[source.id] = scope
        return scope

    @contextmanager
    def source_scope(self, source: Source) -> Iterator[SourceScope]:
        """Requests made inside the block are for ``source``: its budget, options and records."""
        scope = self.scope_for(source)
        token = _SCOPE.set(scope)
        try:
            yield scope
        finally:
            _SCOPE.reset(token)

    def new_validators(self, source_ids: Iterable[str] | None = None) -> list[NewValidators]:
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
        host = host_key(url)
        self._min_delay[host] = max(seconds, self._min_delay.get(host, 0.0))

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

    def _where(self, url: str, scope: SourceScope | None) -> str:
        return f"{scope.source_id}: {url}" if scope is not None else url

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
        scope = _SCOPE.get()
        where = self._where(url if method == "GET" else f"{method} {url}", scope)
        conditional = conditional and method == "GET" and (scope is None or scope.conditional)
        if scope is not None and scope.min_delay > 0:
            self.set_min_delay(url, scope.min_delay)
        base_headers = dict(headers or {})
        send_headers = dict(base_headers)
        if conditional and self.validators is not None:
            stored = self.validators.get(url)
            if stored is not None and stored.etag:
                send_headers["if-none-match"] = stored.etag
            if stored is not None and stored.last_modified:
                send_headers["if-modified-since"] = stored.last_modified
        current = url
        hops = [url]
        for _ in range(self.policy.max_redirects + 1):
            await self._check_robots(current, scope, self._where(current, scope))
            answer = await self._with_retries(method, current, send_headers, json_body, scope)
            location = answer.headers.get("location")
            if answer.status not in REDIRECT_STATUSES or not location:
                break
            current = urljoin(current, location)
            hops.append(current)
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, json_body = "GET", None
            # Validators belong to the URL they were stored for, not to where it now points.
            send_headers = dict(base_headers)
        else:
            shown = " → ".join(hops[-4:])
            raise LimitExceeded(
                f"{where}: more than {self.policy.max_redirects} redirects (… {shown})"
            )
        if not 200 <= answer.status < 300 and answer.status != 304:
            moved = f" (redirected to {current})" if current != url else ""
            raise FetchError(f"{where}: HTTP {answer.status}{moved}")
        page = Page(
            url=url,
            final_url=current,
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
                self._new_validators[url] = NewValidators(
                    scope.source_id if scope else None, url, etag, modified, answer.status
                )
        check_content(page, expect, where)
        return page

    async def _with_retries(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        scope: SourceScope | None,
        *,
        robots: bool = False,
    ) -> _Answer:
        where = self._where(url, scope)
        attempt = 0
        while True:
            attempt += 1
            if scope is not None and scope.remaining() <= 0:
                raise BudgetExceeded(
                    f"{where}: time budget of {scope.budget:g} s for source "
                    f"{scope.source_id!r} spent before attempt {attempt}"
                )
            try:
                answer = await self._attempt(method, url, headers, json_body, scope, robots)
                if answer.status in RETRY_STATUSES:
                    retry_after = parse_retry_after(answer.headers.get("retry-after"))
                    raise _Retryable(f"HTTP {answer.status}", retry_after)
                return answer
            except _Retryable as fault:
                if attempt >= self.policy.max_attempts:
                    raise FetchError(f"{where}: {fault.fault} (after {attempt} attempts)") from None
                delay = self._delay(attempt, fault.retry_after)
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

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when given, else exponential backoff with jitter (half fixed, half
        random, so retries from many requests spread out but never come at once)."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    async def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json_body: Any,
        scope: SourceScope | None,
        robots: bool,
    ) -> _Answer:
        where = self._where(url, scope)
        host = host_key(url)
        limit = self.policy.total_timeout
        budget_bound = scope is not None and scope.remaining() < limit
        if scope is not None:
            limit = max(min(limit, scope.remaining()), 0.0)
        # The host's slot first: a request waiting for its host must not hold a global slot
        # that a request to an idle host could use.
        async with self._host_slots[host], self._global:
            await self._wait_turn(host)
            if robots:
                self.stats.robots_requests += 1
            else:
                self.stats.requests += 1
            request = self.client.build_request(method, url, headers=headers, json=json_body)
            try:
                async with asyncio.timeout(limit):
                    response = await self.client.send(request, stream=True)
                    try:
                        body = await self._read_body(response, where)
                    finally:
                        await response.aclose()
            except TimeoutError:
                if budget_bound and scope is not None:
                    raise BudgetExceeded(
                        f"{where}: time budget of {scope.budget:g} s for source "
                        f"{scope.source_id!r} spent while reading the answer"
                    ) from None
                raise _Retryable(
                    f"answer not complete within the total time limit of {limit:g} s "
                    "(a body that trickles?)"
                ) from None
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})") from exc
            except ReplayMiss as exc:
                raise FetchError(f"{where}: {exc}") from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                detail = str(exc) or "connection closed"
                raise _Retryable(f"{type(exc).__name__}: {detail}") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{where}: {type(exc).__name__}: {exc}") from exc
        return _Answer(
            url=url,
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=body,
        )

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

    async def _read_body(self, response: httpx.Response, where: str) -> bytes:
        """The decoded body, refused once it passes the size cap or the inflation ratio."""
        cap = self.policy.max_body_bytes
        encoding = response.headers.get("content-encoding", "").strip().lower()
        try:
            ready: bytes | None = response.content
        except httpx.ResponseNotRead:
            ready = None
        if ready is not None:
            # A transport that built its answer from bytes (replay, mock) had httpx read and
            # decode it already: there is no stream left, only the size to check.
            self.stats.bytes_downloaded += len(ready)
            if len(ready) > cap:
                raise LimitExceeded(f"{where}: body larger than {cap} bytes; refused")
            return ready
        if encoding in ("", "identity"):
            inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            inflater = _Inflater(encoding)
        else:
            raise FetchError(f"{where}: unsupported content-encoding {encoding!r}")
        declared = response.headers.get("content-length", "")
        if inflater is None and declared.isdigit() and int(declared) > cap:
            raise LimitExceeded(
                f"{where}: body of {declared} bytes declared, larger than {cap} bytes; refused"
            )
        out = bytearray()
        raw = 0

        def take(piece: bytes) -> None:
            out.extend(piece)
            if len(out) > cap:
                state = " once decompressed" if inflater is not None else ""
                raise LimitExceeded(f"{where}: body larger than {cap} bytes{state}; refused")
            if (
                inflater is not None
                and len(out) > self.policy.ratio_after_bytes
                and len(out) > raw * self.policy.max_ratio
            ):
                raise LimitExceeded(
                    f"{where}: decompression bomb refused: {len(out)} bytes from {raw} "
                    f"{inflater.encoding} bytes (more than {self.policy.max_ratio:g}:1)"
                )

        try:
            async for chunk in response.aiter_raw():
                raw += len(chunk)
                self.stats.bytes_downloaded += len(chunk)
                if inflater is None:
                    take(chunk)
                    continue
                for piece in inflater.feed(chunk):
                    take(piece)
            if inflater is not None:
                take(inflater.flush())
        except zlib.error as exc:
            raise FetchError(f"{where}: {encoding} body does not decompress ({exc})") from exc
        return bytes(out)

    # --- robots.txt -------------------------------------------------------------------------

    async def _check_robots(self, url: str, scope: SourceScope | None, where: str) -> None:
        if not self.policy.respect_robots:
            return
        origin = origin_of(url)
        rules = self._robots.get(origin)
        if rules is None:
            async with self._robots_locks[origin]:
                rules = self._robots.get(origin)
                if rules is None:
                    rules = await self._read_robots(origin, scope, where)
                    self._robots[origin] = rules
                    delay = rules.crawl_delay()
                    if delay:
                        self.set_min_delay(url, min(delay, self.policy.max_crawl_delay))
        if not rules.allows(url):
            self.stats.robots_skipped += 1
            raise RobotsDisallowed(
                f"{where}: disallowed by {origin}/robots.txt for user agent "
                f"{ROBOTS_AGENT!r}; not fetched"
            )

    async def _read_robots(self, origin: str, scope: SourceScope | None, where: str) -> RobotsRules:
        url = origin + "/robots.txt"
        for _ in range(self.policy.max_redirects + 1):
            try:
                answer = await self._with_retries("GET", url, {}, None, scope, robots=True)
            except FetchError as exc:
                if isinstance(exc.__cause__, ReplayMiss):
                    return RobotsRules.allow_all(origin, "no recorded robots.txt in the replay")
                raise FetchError(
                    f"{where}: not fetched: {origin}/robots.txt could not be read ({exc}); "
                    "a host whose robots.txt fails is not crawled"
                ) from exc
            location = answer.headers.get("location")
            if answer.status in REDIRECT_STATUSES and location:
                url = urljoin(url, location)
                continue
            if 200 <= answer.status < 300:
                text = answer.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
                return RobotsRules.parse(origin, text)
            if 400 <= answer.status < 500:
                return RobotsRules.allow_all(origin, f"robots.txt answered HTTP {answer.status}")
            raise FetchError(
                f"{where}: not fetched: {origin}/robots.txt answered HTTP {answer.status}; "
                "a host whose robots.txt fails is not crawled"
            )
        return RobotsRules.allow_all(origin, "robots.txt redirects too often")
