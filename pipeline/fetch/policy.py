"""Every tuning constant of the fetch layer, with the reason for its value, and ``FetchPolicy``.

A ``FetchPolicy`` carries them into a ``Fetcher``; tests and benchmarks pass a policy with short
waits so fault cases finish in milliseconds, the run uses the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

# Small per-host pools: httpx's pool slows as it grows (about 1,370 req/s at 5 connections
# against 90 at 100 on loopback), and real sites ask for few connections per client.
PER_HOST_CONCURRENCY = 4
# A bound on open sockets and buffered bodies, not a throughput knob: 32 hosts at their full
# four connections each. Below hosts × PER_HOST it throttles slow hosts (latency-bound, not
# CPU-bound): at 64, twenty hosts answering in 100 ms take a quarter longer than at 80.
GLOBAL_CONCURRENCY = 128
# No news page or feed is this large; anything bigger is a fault or an attack.
MAX_BODY_BYTES = 10 * 1024 * 1024
# HTML and XML compress about 5-10:1; 100:1 past the first megabyte is a decompression bomb.
MAX_DECOMPRESSION_RATIO = 100
# Below this many decoded bytes the ratio is not checked: a small page of repeated markup can
# compress far better than 100:1 and is harmless at that size.
RATIO_CHECK_AFTER_BYTES = 1024 * 1024
# Decoded bytes produced per step while inflating, so a bomb never allocates more than this
# beyond the cap before it is refused.
INFLATE_STEP_BYTES = 256 * 1024
# Regulators' sites answer within seconds; 10 s to connect covers a slow TLS handshake abroad.
CONNECT_TIMEOUT = 10.0
# Longest silence between two chunks of one answer.
READ_TIMEOUT = 30.0
# One answer, redirects excluded, from the request to the last byte: a body that trickles a
# byte at a time never trips the read timeout, this catches it.
TOTAL_TIMEOUT = 60.0
# Waiting for a free connection of the host's own small pool.
POOL_TIMEOUT = 120.0
MAX_REDIRECTS = 5
# Attempts per request (1 + retries) for connect errors, timeouts, 429 and 5xx. Three retries
# ride out a restart or a short overload; more only delays the run record of a real outage.
MAX_ATTEMPTS = 4
# Exponential backoff: base × 2^retry, jittered, capped. Half a second is the SFC's asked gap.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# A Retry-After longer than this is not waited for: the source is recorded as failed and the
# next run tries again (a daily run cannot wait an hour for one source).
MAX_RETRY_AFTER = 120.0
# Wall time one source may spend in a run, retries and waits included; after it the source is
# recorded as failed. A feed with a hundred new articles at one request a second fits.
SOURCE_TIME_BUDGET = 300.0
# Crawl-delay asked by robots.txt is honoured up to this; more would stall a daily run.
MAX_CRAWL_DELAY = 10.0
# RFC 9309 lets a crawler stop reading robots.txt after 500 KiB.
MAX_ROBOTS_BYTES = 500 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """Limits, timeouts and retry settings of one ``Fetcher`` (defaults: the constants above)."""

    per_host: int = PER_HOST_CONCURRENCY
    global_concurrency: int = GLOBAL_CONCURRENCY
    max_body_bytes: int = MAX_BODY_BYTES
    max_ratio: float = MAX_DECOMPRESSION_RATIO
    ratio_after_bytes: int = RATIO_CHECK_AFTER_BYTES
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    total_timeout: float = TOTAL_TIMEOUT
    pool_timeout: float = POOL_TIMEOUT
    max_redirects: int = MAX_REDIRECTS
    max_attempts: int = MAX_ATTEMPTS
    backoff_base: float = BACKOFF_BASE
    backoff_cap: float = BACKOFF_CAP
    max_retry_after: float = MAX_RETRY_AFTER
    source_budget: float = SOURCE_TIME_BUDGET
    max_crawl_delay: float = MAX_CRAWL_DELAY
    respect_robots: bool = True
