"""Fetching: one ``httpx.AsyncClient`` per run, a polite ``Fetcher`` over it, and replay."""

from pipeline.fetch.client import Fetcher, FetchStats, SourceScope, build_client
from pipeline.fetch.policy import FetchPolicy
from pipeline.fetch.replay import ReplayMiss, ReplayTransport, write_exchange
from pipeline.fetch.state import DbValidatorStore, NewValidators, save_validators

__all__ = [
    "DbValidatorStore",
    "FetchPolicy",
    "FetchStats",
    "Fetcher",
    "NewValidators",
    "ReplayMiss",
    "ReplayTransport",
    "SourceScope",
    "build_client",
    "save_validators",
    "write_exchange",
]
