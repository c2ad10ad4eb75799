"""robots.txt rules of one host, read once per run (RFC 9309 semantics, stdlib parser).

- 2xx: the rules apply (``Crawl-delay`` too, up to ``MAX_CRAWL_DELAY``).
- 4xx (404 above all): no rules, everything is allowed.
- 5xx or unreachable: nothing on the host is fetched in this run, and each request to it fails
  with a ``FetchError`` saying why (RFC 9309 asks for "complete disallow" when the rules cannot
  be read; as a network fault the flow retries it and the next run tries again). Such an
  outcome is not cached, so a robots.txt that comes back during the run is read then.
- A replayed run with no recorded robots.txt: everything is allowed (recordings predate it).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# The product token robots.txt groups are matched against (``User-agent: newswatch``).
ROBOTS_AGENT = "newswatch"


@dataclass(frozen=True)
class RobotsRules:
    """What robots.txt of one origin says for this crawler."""

    origin: str
    parser: RobotFileParser | None
    # Why there are no rules (a 404, a replay without a recording), for messages.
    reason: str = ""

    @classmethod
    def allow_all(cls, origin: str, reason: str) -> RobotsRules:
        """Rules that allow everything (robots.txt absent)."""
        return cls(origin, None, reason)

    @classmethod
    def parse(cls, origin: str, text: str) -> RobotsRules:
        """Rules from the text of a robots.txt."""
        parser = RobotFileParser()
        parser.parse(text.splitlines())
        return cls(origin, parser)

    def allows(self, url: str) -> bool:
        """Whether this crawler may fetch ``url``."""
        if self.parser is None:
            return True
        return self.parser.can_fetch(ROBOTS_AGENT, url)

    def crawl_delay(self) -> float | None:
        """The ``Crawl-delay`` asked of this crawler, in seconds."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(ROBOTS_AGENT)
        return float(delay) if delay is not None else None


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: robots.txt applies per origin."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2].lower()}"


def robots_url(url: str) -> str:
    """Where the robots.txt governing ``url`` is."""
    return origin_of(url) + "/robots.txt"
