"""What a daily run costs once the regulators' items are stored: requests and seconds per run.

Runs the SFC API sources (which ask for 0.5 s between calls) and the HKMA API source twice on the
recorded fixtures into a fresh SQLite file, with politeness on as against the real sites, and
prints per run the HTTP requests made and the wall time. The second run shows what reading bodies
for new or changed items only saves. Usage: ``python bench/rerun.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio
import tempfile
import time
from collections import Counter

import httpx

from pipeline.alerts.config import load_alerts
from pipeline.config import load_sources, select_sources
from pipeline.fetch import Fetcher, ReplayTransport, build_client
from pipeline.ingest import run_ingest
from pipeline.store import db
from pipeline.tag import Tagger

REPO = Path(__file__).resolve().parents[1]
SOURCE_IDS = ["hkma-press", "sfc-news", "sfc-circulars", "sfc-consultations"]
RUNS = 2


class CountingTransport(httpx.AsyncBaseTransport):
    """The replay transport, counting requests per host."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests[request.url.host] += 1
        return await self.inner.handle_async_request(request)


async def run() -> None:
    """Two runs of the regulator API sources; prints requests and seconds per run."""
    configured = load_sources(REPO / "sources.toml")
    sources = select_sources(configured, SOURCE_IDS)
    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    alerts = load_alerts(REPO / "alerts.toml", sources=configured, taxonomy=tagger.taxonomy)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db.upgrade(url)
        engine = db.make_engine(url)
        print(f"sources: {', '.join(SOURCE_IDS)} (politeness on)")
        for number in range(1, RUNS + 1):
            transport = CountingTransport(ReplayTransport(REPO / "fixtures" / "http"))
            started = time.perf_counter()
            async with build_client(transport) as client:
                result = await run_ingest(
                    engine=engine,
                    sources=sources,
                    fetcher=Fetcher(client, polite=True),
                    tagger=tagger,
                    alerts=alerts,
                )
            elapsed = time.perf_counter() - started
            new = sum(r.new for r in result.reports.values())
            hosts = ", ".join(f"{host} {n}" for host, n in sorted(transport.requests.items()))
            print(
                f"run {number}: {sum(transport.requests.values())} requests ({hosts}), "
                f"{new} new articles, {elapsed:.2f} s"
            )
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(run())
