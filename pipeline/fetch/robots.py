"""robots.txt rules of one host, read once per run (RFC 9309 semantics, stdlib parser).

- 2xx: the rules apply (``Crawl-delay`` too, up to ``MAX_CRAWL_DELAY``).
- 4xx (404 above all): no rules, everything is allowed.
- 5xx or unreachable: nothing on the host is fetched in this run, and each request to it fails
  with a ``FetchError`` saying why (RFC 9309 asks for "complete disallow" when the rules cannot
  be read; as a network fault the flow retries it and the next run tries again). Such an
  outcome is not cached, so a robots.txt that comes back during the run is read then.
- A replayed run with no recorded robots.txt: everything is allowed (recordings predate it).

``Crawl-delay`` is read here rather than by the stdlib parser, which keeps whole seconds only
and drops ``Crawl-delay: 0.5``.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from urllib.robotparser import RobotFileParser

from pipeline.errors import FetchError, RobotsDisallowed
from pipeline.fetch.exchange import Answer
from pipeline.fetch.policy import MAX_ROBOTS_BYTES
from pipeline.fetch.redirects import redirect_target
from pipeline.fetch.replay import ReplayMiss
from pipeline.fetch.stats import FetchStats

# The product token robots.txt groups are matched against (``User-agent: newswatch``).
ROBOTS_AGENT = "newswatch"
# Seconds, whole or decimal ("2", "0.5", ".5"); any other value is ignored, as the stdlib
# ignores one it cannot read.
_DELAY_VALUE = re.compile(r"\d+(?:\.\d*)?|\.\d+")


@dataclass(frozen=True)
class RobotsRules:
    """What robots.txt of one origin says for this crawler."""

    origin: str
    parser: RobotFileParser | None
    # Why there are no rules (a 404, a replay without a recording), for messages.
    reason: str = ""
    delay: float | None = None

    @classmethod
    def allow_all(cls, origin: str, reason: str) -> RobotsRules:
        """Rules that allow everything (robots.txt absent)."""
        return cls(origin, None, reason)

    @classmethod
    def parse(cls, origin: str, text: str) -> RobotsRules:
        """Rules from the text of a robots.txt."""
        lines = text.splitlines()
        parser = RobotFileParser()
        parser.parse(lines)
        return cls(origin, parser, delay=_crawl_delay(lines, ROBOTS_AGENT))

    def allows(self, url: str) -> bool:
        """Whether this crawler may fetch ``url``."""
        if self.parser is None:
            return True
        return self.parser.can_fetch(ROBOTS_AGENT, url)

    def crawl_delay(self) -> float | None:
        """The ``Crawl-delay`` asked of this crawler, in seconds (decimals included)."""
        return self.delay


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    delay: float | None = None


def _groups(lines: list[str]) -> list[_Group]:
    # Formed exactly as RobotFileParser.parse forms its entries (a blank line ends a group, a
    # rule before any User-agent is ignored), so the delay is read from the group whose
    # rules ``allows`` applies.
    groups: list[_Group] = []
    group = _Group()
    state = 0  # 0: outside a group, 1: in its User-agent lines, 2: in its rules
    for raw in lines:
        if not raw:
            if state == 2:
                groups.append(group)
            if state:
                group, state = _Group(), 0
            continue
        line = raw.split("#", 1)[0].strip()
        key, colon, value = line.partition(":")
        if not colon:
            continue
        key, value = key.strip().lower(), unquote(value.strip())
        if key == "user-agent":
            if state == 2:
                groups.append(group)
                group = _Group()
            group.agents.append(value)
            state = 1
        elif key in ("allow", "disallow", "crawl-delay", "request-rate") and state:
            if key == "crawl-delay" and _DELAY_VALUE.fullmatch(value.strip()):
                group.delay = float(value)
            state = 2
    if state == 2:
        groups.append(group)
    return groups


def _crawl_delay(lines: list[str], agent: str) -> float | None:
    """The ``Crawl-delay`` of the group that applies to ``agent``, in seconds, or None."""
    # The group is chosen as RobotFileParser.crawl_delay chooses it: the first group naming a
    # part of the agent's name, else the first "*" group.
    name = agent.split("/")[0].lower()
    default: _Group | None = None
    for group in _groups(lines):
        if "*" in group.agents:
            if default is None:
                default = group
        elif any(listed.lower() in name for listed in group.agents):
            return group.delay
    return default.delay if default is not None else None


async def read_robots(
    origin: str,
    fetch: Callable[[str], Awaitable[Answer]],
    *,
    where: str,
    max_redirects: int,
) -> RobotsRules:
    """The rules of ``origin``, read with ``fetch`` (one GET with its retries), redirects
    followed; ``FetchError`` naming ``where`` when robots.txt cannot be read."""
    url = origin + "/robots.txt"
    for _ in range(max_redirects + 1):
        try:
            answer = await fetch(url)
        except FetchError as exc:
            if isinstance(exc.__cause__, ReplayMiss):
                return RobotsRules.allow_all(origin, "no recorded robots.txt in the replay")
            raise FetchError(
                f"{where}: not fetched: {origin}/robots.txt could not be read ({exc}); "
                "a host whose robots.txt fails is not crawled"
            ) from exc
        target = redirect_target(url, answer)
        if target is not None:
            url = target
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


class RobotsGate:
    """Asks robots.txt before each request: every origin's rules are read once per run, and a
    URL they forbid is refused unfetched."""

    def __init__(self, stats: FetchStats, *, max_redirects: int) -> None:
        self.stats = stats
        self.max_redirects = max_redirects
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def check(
        self,
        url: str,
        fetch: Callable[[str], Awaitable[Answer]],
        *,
        where: str,
        on_read: Callable[[RobotsRules], None],
    ) -> None:
        """Raise ``RobotsDisallowed`` naming ``where`` if ``url`` is forbidden; the first
        request to an origin reads its robots.txt with ``fetch`` and hands it to ``on_read``."""
        origin = origin_of(url)
        rules = self._rules.get(origin)
        if rules is None:
            # One read per origin: requests arriving meanwhile wait for it instead of asking too.
            async with self._locks[origin]:
                rules = self._rules.get(origin)
                if rules is None:
                    rules = await read_robots(
                        origin, fetch, where=where, max_redirects=self.max_redirects
                    )
                    self._rules[origin] = rules
                    on_read(rules)
        if not rules.allows(url):
            self.stats.robots_skipped += 1
            raise RobotsDisallowed(
                f"{where}: disallowed by {origin}/robots.txt for user agent "
                f"{ROBOTS_AGENT!r}; not fetched"
            )


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: robots.txt applies per origin."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2].lower()}"
