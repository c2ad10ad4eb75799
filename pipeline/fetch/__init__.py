"""Fetching: one ``httpx.AsyncClient`` per run, a polite ``Fetcher`` over it, and replay."""

from pipeline.fetch.client import Fetcher, FetchStats, SourceScope, build_client
from pipeline.fetch.policy import FetchPolicy
from pipeline.fetch.replay import ReplayMiss, ReplayTransport, write_exchange
from pipeline.fetch.state import ValidatorStore

__all__ = [
    "FetchPolicy",
    "FetchStats",
    "Fetcher",
    "ReplayMiss",
    "ReplayTransport",
    "SourceScope",
    "ValidatorStore",
    "build_client",
    "write_exchange",
]
