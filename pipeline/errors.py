"""Exceptions newswatch raises, one hierarchy so callers can catch at the depth they need.

    NewswatchError
    ├── ConfigError            a config file is wrong; names file, entry and field
    ├── SourceError            a source could not be read; names the source
    │   ├── FetchError         network, HTTP status, replay miss (worth retrying later)
    │   │   └── LimitExceeded  a body too large, a decompression bomb, too many redirects,
    │   │                      a total time limit
    │   ├── BudgetExceeded     a source's time budget for one run is spent (retries included)
    │   ├── RobotsDisallowed   robots.txt forbids the URL; it was not fetched
    │   ├── ForbiddenAddress   a URL newswatch will not request: not http(s), or a host that
    │   │                      resolves to an internal address; never retried
    │   ├── FeedError          a body that is not a feed at all
    │   ├── ApiError           an API answered but said it failed (HKMA header.success=false)
    │   └── PayloadError       an answer whose shape does not fit what the adapter expects
    │       └── UnexpectedContent  a body of another kind than asked for (HTML for a feed,
    │                              an empty 200)
    ├── ExtractError           a page that yields no article
    │   └── PageTooComplex     markup past the extraction budget (tags, nesting), refused
    │                          before it is parsed
    ├── StoreError             the database refused or is not migrated
    ├── QueryError             a search query past its limits (length, terms); never run
    └── DeliveryError          a channel refused an alert or could not be reached; retried
        └── DeliveryUnknown    the send may have arrived (a timeout after the request went
                               out): retried with the same idempotency key

Every message says what went wrong and where, so a run record can show it as it is.
"""

from __future__ import annotations


class NewswatchError(Exception):
    """Base of every error newswatch raises on purpose."""


class ConfigError(NewswatchError):
    """A configuration file is malformed; ``problems`` lists every finding at once."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class SourceError(NewswatchError):
    """A source could not be read."""


class FetchError(SourceError):
    """A request failed: network error, bad status, a limit exceeded, or no recorded answer."""


class LimitExceeded(FetchError):
    """A response broke a limit: body size, decompression ratio, redirects or total time."""


class BudgetExceeded(SourceError):
    """A source spent its time budget for the run; not a ``FetchError``, so no task retry
    spends it again."""


class RobotsDisallowed(SourceError):
    """robots.txt forbids the URL for this user agent; the URL was skipped, not fetched."""


class ForbiddenAddress(SourceError):
    """A URL outside the network boundary: not http(s), or a host whose address is internal."""


class FeedError(SourceError):
    """A body that is not a feed at all."""


class ApiError(SourceError):
    """An API answered but reported failure (e.g. HKMA ``header.success`` false)."""


class PayloadError(SourceError):
    """An answer whose shape does not fit what the adapter expects."""


class UnexpectedContent(PayloadError):
    """A body of another kind than the adapter asked for (HTML for a feed, an empty 200)."""


class ExtractError(NewswatchError):
    """A page from which no article can be extracted."""


class PageTooComplex(ExtractError):
    """Markup that would cost more to read than the extraction budget allows (too many tags,
    nesting too deep); refused before parsing, the message naming the limit and the measure."""


class StoreError(NewswatchError):
    """The database refused a write or is not at the expected schema."""


class QueryError(NewswatchError):
    """A search query newswatch will not run: too long or too many terms."""


class DeliveryError(NewswatchError):
    """A channel did not deliver an alert; the message says which channel and why, with no
    secret in it."""


class DeliveryUnknown(DeliveryError):
    """A delivery whose outcome is unknown: the request went out and no answer came in time.
    Retried with the same idempotency key, so the receiver can drop a second copy."""
