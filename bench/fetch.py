"""Fetch throughput against 20 slow hosts, and what a second, conditional run downloads.

A child process serves 20 hosts (20 ports on 127.0.0.1), each with an RSS feed of 50 articles
and the 50 article pages; every answer waits ``LATENCY`` seconds (100 ms) before it is sent. The
feed honours If-None-Match. A real ingestion (the ``rss`` adapter, the ``Fetcher`` with four
connections per host, extraction, tagging, a SQLite file) runs twice:

- run 1 fetches the 1,000 pages; at 4 per host and 100 ms each the fetch stage cannot take less
  than 1000 / (20 × 4) × 0.1 s = 1.25 s; the goal is at most 1.5 times that;
- run 2 sends the feeds' ETags, gets 304s and downloads no body.

Politeness delays are off (``min_delay`` 0) so the figure is the fetch layer's own overhead.
Usage: ``python bench/fetch.py [--hosts 20] [--pages 50] [--latency 0.1]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/pipeline.py would shadow the
# ``pipeline`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from multiprocessing.connection import Connection

from pipeline.alerts.config import AlertsConfig
from pipeline.fetch import Fetcher, FetchPolicy, build_client
from pipeline.ingest import StageClock, run_ingest
from pipeline.models import Source
from pipeline.settings import ALLOW_HOSTS_ENV
from pipeline.store import db, repo
from pipeline.tag import Tagger

REPO = Path(__file__).resolve().parents[1]
HOSTS = 20
PAGES_PER_HOST = 50
LATENCY = 0.1
PER_HOST = 4
GOAL_RATIO = 1.5
PARAGRAPH = (
    "The Hong Kong Monetary Authority said the stablecoin licensing regime supports a safe and "
    "sound digital asset market, and banks were reminded of their obligations under the "
    "supervisory guidance on tokenised deposits and cross-boundary payments. "
)


def article(host: int, number: int) -> bytes:
    title = f"Host {host} story {number}"
    body = "".join(f"<p>{title}. {PARAGRAPH * 3}</p>" for _ in range(6))
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}"
        "</article></body></html>"
    ).encode()


def feed(port: int, host: int, pages: int) -> bytes:
    items = "".join(
        f"<item><title>Host {host} story {n}</title>"
        f"<link>http://127.0.0.1:{port}/a/{n}.html</link>"
        f"<guid>http://127.0.0.1:{port}/a/{n}.html</guid>"
        "<pubDate>Mon, 03 Nov 2025 09:00:00 +0800</pubDate></item>"
        for n in range(pages)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title>'
        f"<link>http://127.0.0.1:{port}/</link><description/>{items}</channel></rss>"
    ).encode()


# --- the slow server (child process) ---------------------------------------------------------


def _answer(status: int, content_type: str, body: bytes, extra: str = "") -> bytes:
    reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


async def _serve(hosts: int, pages: int, latency: float, report: Connection) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        host = ports.index(port)
        try:
            while line := await reader.readline():
                target = line.split(b" ")[1].decode()
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                await asyncio.sleep(latency)
                etag = f'"feed-{host}"'
                if target == "/feed.xml" and headers.get("if-none-match") == etag:
                    message = _answer(304, "application/rss+xml", b"", f"etag: {etag}\r\n")
                elif target == "/feed.xml":
                    message = _answer(200, "application/rss+xml", feeds[host], f"etag: {etag}\r\n")
                elif target.startswith("/a/"):
                    number = int(target[3:].split(".")[0])
                    message = pages_of[host][number]
                else:
                    message = _answer(404, "text/plain", b"not found")
                writer.write(message)
                await writer.drain()
        except (ConnectionError, IndexError, ValueError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(handle, "127.0.0.1", 0) for _ in range(hosts)]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    feeds = [feed(port, host, pages) for host, port in enumerate(ports)]
    # Answers made once: the server's own time per request must stay small next to the client's.
    pages_of = [
        [_answer(200, "text/html; charset=utf-8", article(host, n)) for n in range(pages)]
        for host in range(hosts)
    ]
    report.send(ports)
    # Serve until the parent closes its end of the pipe.
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(report.fileno(), closed.set)
    await closed.wait()


def serve(hosts: int, pages: int, latency: float, report: Connection) -> None:
    """Entry point of the server process."""
    asyncio.run(_serve(hosts, pages, latency, report))


# --- the runs ---------------------------------------------------------------------------------


async def ingest_twice(ports: list[int], pages: int, latency: float) -> None:
    sources = [
        Source(
            id=f"bench-{host:02d}",
            name=f"Bench host {host}",
            kind="rss",
            urls=(f"http://127.0.0.1:{port}/feed.xml",),
        )
        for host, port in enumerate(ports)
    ]
    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    policy = FetchPolicy(per_host=PER_HOST)
    floor = len(ports) * pages / (len(ports) * PER_HOST) * latency
    print(
        f"{len(ports)} hosts × {pages} pages, {latency * 1000:.0f} ms per answer, "
        f"{PER_HOST} connections per host; fetch-stage floor {floor:.2f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db.upgrade(url)
        engine = db.make_engine(url)
        for number in (1, 2):
            clock = StageClock()
            started = time.perf_counter()
            async with build_client(policy=policy) as client:
                fetcher = Fetcher(client, policy=policy, validators=repo.DbValidatorStore(engine))
                result = await run_ingest(
                    engine=engine,
                    sources=sources,
                    fetcher=fetcher,
                    tagger=tagger,
                    alerts=AlertsConfig(),
                    clock=clock,
                )
            total = time.perf_counter() - started
            stats = fetcher.stats
            new = sum(r.new for r in result.reports.values())
            failed = [sid for sid, r in result.reports.items() if r.error or r.errors]
            fetch_s = clock.seconds["fetch"]
            print(
                f"run {number}: {stats.requests} requests, {stats.bodies} bodies downloaded, "
                f"{stats.not_modified} not modified (304), {stats.robots_requests} robots.txt, "
                f"{new} new articles, {len(failed)} sources with errors"
            )
            print(
                f"       discover {clock.seconds['discover']:.2f} s, fetch {fetch_s:.2f} s"
                + (f" ({fetch_s / floor:.2f}× the floor)" if number == 1 else "")
                + f", process {clock.seconds['process']:.2f} s, wall {total:.2f} s"
            )
            if number == 1:
                verdict = "meets" if fetch_s <= GOAL_RATIO * floor else "misses"
                print(f"       {verdict} the goal of ≤ {GOAL_RATIO}× the floor")
        engine.dispose()


def main() -> None:
    """Start the slow hosts, run the ingestion twice, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=HOSTS)
    parser.add_argument("--pages", type=int, default=PAGES_PER_HOST)
    parser.add_argument("--latency", type=float, default=LATENCY)
    args = parser.parse_args()
    # The hosts are on 127.0.0.1, inside the network boundary the fetcher keeps by default.
    os.environ[ALLOW_HOSTS_ENV] = "127.0.0.1"
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(
        target=serve, args=(args.hosts, args.pages, args.latency, theirs), daemon=True
    )
    server.start()
    try:
        ports: list[int] = ours.recv()
        asyncio.run(ingest_twice(ports, args.pages, args.latency))
    finally:
        ours.close()
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()
