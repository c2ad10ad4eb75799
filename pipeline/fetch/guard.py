"""The network boundary: newswatch requests public http(s) hosts only.

Pages and feeds are written by strangers, and a link or a redirect can point anywhere: at the
cloud metadata service (169.254.169.254), at a database on the private network, at the machine
itself. So every request and every redirect hop is checked before it is sent, and the check is
made again on the address the connection really uses:

- the scheme must be http or https;
- the host's addresses (all of them) must be public: loopback, private, link-local, shared
  (CGNAT), multicast, reserved and unspecified ranges are refused, IPv4-mapped IPv6 included;
- ``GuardedBackend`` resolves the host when it opens a connection, checks every address, and
  connects to a checked address itself, so a name that resolves to a public address for the
  first check and to a private one a moment later (DNS rebinding) is refused all the same.

``NEWSWATCH_ALLOW_HOSTS`` (comma-separated host names, addresses or networks, e.g.
``127.0.0.1,intranet.example,10.20.0.0/16``) lets an operator reach named internal hosts; tests
and demos on 127.0.0.1 run so. A refused request is a ``ForbiddenAddress``, which names the URL
and the reason and is never retried.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from pipeline.errors import ForbiddenAddress
from pipeline.settings import ALLOW_HOSTS_ENV

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) → the addresses it resolves to, as the system resolver gives them (OSError when
# the name does not resolve).
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = ("http", "https")
# 100.64.0.0/10 is carrier-grade NAT space: not "private" to ipaddress, not public either.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (IPv4 and IPv6), in the resolver's order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def blocked_reason(address: Address) -> str | None:
    """Why ``address`` is not a public one (``loopback``, ``private``…), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for reason, hit in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("shared", address in SHARED_ADDRESS_SPACE),
    ):
        if hit:
            return reason
    return None


@dataclass(frozen=True)
class AllowList:
    """Host names and networks an operator lets newswatch reach although they are internal."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, value: str) -> AllowList:
        """From ``NEWSWATCH_ALLOW_HOSTS``: names, addresses and networks, comma-separated."""
        hosts: set[str] = set()
        networks: list[Network] = []
        for entry in (part.strip() for part in value.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        """Whether ``host`` is named in the list."""
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: Address) -> bool:
        """Whether ``address`` is in one of the listed networks."""
        return any(address in network for network in self.networks)


class AddressGuard:
    """Checks URLs and addresses against the boundary (see the module docstring)."""

    def __init__(self, allow: AllowList | None = None, resolve: Resolver = system_resolve):
        self.allow = allow or AllowList()
        self.resolve = resolve

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AddressGuard:
        """A guard allowing what ``NEWSWATCH_ALLOW_HOSTS`` names."""
        env = os.environ if environ is None else environ
        return cls(AllowList.parse(env.get(ALLOW_HOSTS_ENV, "")))

    async def check_url(self, url: str) -> None:
        """``ForbiddenAddress`` unless ``url`` is http(s) on a public (or allowed) host."""
        parsed = check_scheme(url)
        host = parsed.host
        if self.allow.allows_host(host):
            return
        try:
            await self.addresses(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        except OSError:
            # Unresolvable now: the connection attempt reports it (and checks again if it
            # resolves by then).
            return

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, every one checked; ``ForbiddenAddress`` if one is not
        public and not allowed."""
        literal = _literal(host)
        found = [host] if literal is not None else await self.resolve(host, port)
        for text in found:
            address = ipaddress.ip_address(text.split("%")[0])
            reason = blocked_reason(address)
            if reason is not None and not self.allow.allows_address(address):
                shown = host if literal is not None else f"{host} resolves to {text}, which"
                raise ForbiddenAddress(
                    f"{shown} is a {reason} address; newswatch requests public hosts only"
                    f" (allow it with {ALLOW_HOSTS_ENV})"
                )
        return found


def check_scheme(url: str) -> httpx.URL:
    """The parsed ``url``; ``ForbiddenAddress`` unless it is an http(s) URL with a host."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ForbiddenAddress(f"{url}: not a URL ({exc})") from exc
    if parsed.scheme not in ALLOWED_SCHEMES or not parsed.host:
        raise ForbiddenAddress(
            f"{url}: scheme {parsed.scheme or 'none'!r} is not requested (http and https only)"
        )
    return parsed


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections only to checked addresses: resolves the host itself, checks every
    address, and connects to the first (so the address checked is the one used)."""

    def __init__(self, guard: AddressGuard, inner: httpcore.AsyncNetworkBackend | None = None):
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection to a checked address of ``host``."""
        target = host
        if not self.guard.allow.allows_host(host):
            try:
                target = (await self.guard.addresses(host, port))[0]
            except OSError as exc:
                # A network fault like any other failed connection (retried by the fetcher).
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        return await self.inner.connect_tcp(
            target,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: a socket file is never a public host."""
        raise ForbiddenAddress(f"unix socket {path}: newswatch requests public hosts only")

    async def sleep(self, seconds: float) -> None:
        """Sleep as the inner backend does."""
        await self.inner.sleep(seconds)
