"""A transport that gives every host its own small connection pool.

httpx's pool slows as one pool grows (encode/httpx#3215: about 1,370 req/s at 5 connections
against 90 at 100 on loopback), so a run that reads twenty hosts keeps twenty pools of a few
connections each instead of one pool of eighty. Pools are made on first use of a host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import urllib.request

import httpcore
import httpx

from pipeline.fetch.guard import AddressGuard, GuardedBackend
from pipeline.fetch.policy import PER_HOST_CONCURRENCY


class PerHostTransport(httpx.AsyncBaseTransport):
    """Routes each request to the ``AsyncHTTPTransport`` of its (scheme, host, port); every
    connection is opened through ``guard`` (the network boundary, ``pipeline.fetch.guard``)."""

    def __init__(self, per_host: int = PER_HOST_CONCURRENCY, guard: AddressGuard | None = None):
        self.per_host = per_host
        self.guard = guard or AddressGuard.from_env()
        # Loading the CA bundle takes about 20 ms; every pool shares one context.
        self.ssl_context = httpx.create_ssl_context()
        self._pools: dict[tuple[str, str, int | None], httpx.AsyncHTTPTransport] = {}
        self._closed = False

    def _pool(self, url: httpx.URL) -> httpx.AsyncHTTPTransport:
        key = (url.scheme, url.host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            limits = httpx.Limits(
                max_connections=self.per_host, max_keepalive_connections=self.per_host
            )
            pool = httpx.AsyncHTTPTransport(verify=self.ssl_context, limits=limits)
            # httpx takes no network backend, so its connection pool is made again with the
            # guarded one: the same settings, but every connection goes to a checked address.
            pool._pool = httpcore.AsyncConnectionPool(
                ssl_context=self.ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=GuardedBackend(self.guard),
            )
            self._pools[key] = pool
        return pool

    @property
    def hosts(self) -> int:
        """How many host pools were opened."""
        return len(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through its host's pool."""
        if self._closed:
            raise httpx.TransportError("transport is closed")
        return await self._pool(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        """Close every host's pool."""
        self._closed = True
        pools, self._pools = list(self._pools.values()), {}
        await asyncio.gather(*(pool.aclose() for pool in pools))


def _no_proxy_pattern(host: str) -> str:
    """The httpx mount pattern of one NO_PROXY entry (curl's rules, as httpx reads them)."""
    if "://" in host:
        return host
    address = host.split("/")[0]
    version: int
    try:
        version = ipaddress.ip_address(address.strip("[]")).version
    except ValueError:
        version = 0
    if version == 4 or host.lower() == "localhost":
        return f"all://{host}"
    if version == 6:
        return f"all://[{address.strip('[]')}]"
    return f"all://*{host}"


def environment_mounts(
    direct: httpx.AsyncBaseTransport, ssl_context: ssl.SSLContext | None = None
) -> dict[str, httpx.AsyncBaseTransport]:
    """Routes for the proxies the environment names (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY); hosts
    NO_PROXY lists go to ``direct``. httpx reads these only when it builds its own transport,
    so a client with per-host pools has to be given them."""
    info = urllib.request.getproxies()
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    for scheme in ("http", "https", "all"):
        proxy = info.get(scheme)
        if proxy:
            url = proxy if "://" in proxy else f"http://{proxy}"
            verify: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
            mounts[f"{scheme}://"] = httpx.AsyncHTTPTransport(proxy=url, verify=verify)
    if not mounts:
        return {}
    for entry in info.get("no", "").split(","):
        host = entry.strip()
        if host == "*":
            return {}
        if host:
            mounts[_no_proxy_pattern(host)] = direct
    return mounts
