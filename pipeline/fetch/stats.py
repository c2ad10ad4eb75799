"""Counts of one fetcher's work, kept by every step of a request that does some of it."""

from __future__ import annotations

from dataclasses import dataclass


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
