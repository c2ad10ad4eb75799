"""Fetching: one ``httpx.AsyncClient`` per run, a polite ``Fetcher`` over it, and replay."""

from pipeline.fetch.client import Fetcher, build_client
from pipeline.fetch.replay import ReplayMiss, ReplayTransport, write_exchange

__all__ = ["Fetcher", "ReplayMiss", "ReplayTransport", "build_client", "write_exchange"]
