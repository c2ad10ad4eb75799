"""Fetching: the Fetcher against a real HTTP server on 127.0.0.1, and the replay transport."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from pipeline.errors import FetchError
from pipeline.fetch import (
    Fetcher,
    FetchPolicy,
    ReplayMiss,
    ReplayTransport,
    build_client,
    write_exchange,
)

# Retries wait milliseconds here, so an error status costs no real backoff.
FAST = FetchPolicy(backoff_base=0.001, backoff_cap=0.005, read_timeout=2.0, total_timeout=5.0)


class Handler(BaseHTTPRequestHandler):
    """Routes: /ok, /big, /status/<n>, /loop, /echo (POST)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {"content-type": "text/plain"}).items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/ok":
            agent = self.headers.get("user-agent", "")
            self._send(200, f"hello {agent}".encode(), {"content-type": "text/html; charset=utf-8"})
        elif self.path == "/big":
            self._send(200, b"x" * 5000)
        elif self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), b"nope")
        elif self.path.startswith("/loop"):
            self._send(302, b"", {"location": f"/loop{len(self.path)}"})
        else:
            self._send(404, b"missing")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self._send(200, body, {"content-type": "application/json"})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


async def fetch(url: str, **kwargs: object) -> object:
    async with build_client(user_agent="newswatch-test (ops@example.org)", policy=FAST) as client:
        fetcher = Fetcher(client, policy=FAST, **kwargs)  # type: ignore[arg-type]
        return await fetcher.get(url)


def test_get_returns_a_page_with_headers_and_user_agent(server: str) -> None:
    page = asyncio.run(fetch(f"{server}/ok"))
    assert page.status == 200  # type: ignore[attr-defined]
    assert page.body == b"hello newswatch-test (ops@example.org)"  # type: ignore[attr-defined]
    assert page.content_type == "text/html"  # type: ignore[attr-defined]
    assert page.fetched_at.tzinfo is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [404, 500, 503])
def test_error_status_is_a_fetch_error_naming_url_and_status(server: str, status: int) -> None:
    with pytest.raises(FetchError, match=rf"/status/{status}: HTTP {status}"):
        asyncio.run(fetch(f"{server}/status/{status}"))


def test_body_over_the_cap_is_refused(server: str) -> None:
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        asyncio.run(fetch(f"{server}/big", max_body_bytes=1000))


def test_redirect_loop_stops(server: str) -> None:
    with pytest.raises(FetchError, match="redirects"):
        asyncio.run(fetch(f"{server}/loop"))


def test_connection_refused_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match=re.escape("127.0.0.1:9")):
        asyncio.run(fetch("http://127.0.0.1:9/nothing"))


def test_min_delay_spaces_requests_to_one_host(server: str) -> None:
    async def three() -> float:
        async with build_client() as client:
            fetcher = Fetcher(client)
            fetcher.set_min_delay(server, 0.2)
            start = time.monotonic()
            await asyncio.gather(*(fetcher.get(f"{server}/ok") for _ in range(3)))
            return time.monotonic() - start

    assert asyncio.run(three()) >= 0.39


def test_replay_matches_query_in_any_order_and_json_bodies(tmp_path: Path) -> None:
    write_exchange(
        tmp_path,
        "https://api.example.org/list?b=2&a=1",
        '{"ok": true}',
        headers={"content-type": "application/json"},
        note="modelled: test",
    )
    write_exchange(
        tmp_path,
        "https://api.example.org/search",
        '{"items": []}',
        method="POST",
        json_body={"lang": "EN", "pageNo": 0},
        headers={"content-type": "application/json"},
    )
    transport = ReplayTransport(tmp_path)
    assert len(transport) == 2

    async def run() -> tuple[bytes, bytes]:
        async with build_client(transport) as client:
            fetcher = Fetcher(client)
            listed = await fetcher.get("https://api.example.org/list?a=1&b=2")
            searched = await fetcher.post_json(
                "https://api.example.org/search", {"pageNo": 0, "lang": "EN"}
            )
            return listed.body, searched.body

    listed, searched = asyncio.run(run())
    assert json.loads(listed) == {"ok": True}
    assert json.loads(searched) == {"items": []}


def test_replay_miss_names_the_request(tmp_path: Path) -> None:
    write_exchange(tmp_path, "https://example.org/a", "<html></html>")
    transport = ReplayTransport(tmp_path)
    with pytest.raises(ReplayMiss, match=re.escape("GET https://example.org/b")):
        transport.lookup("GET", "https://example.org/b")

    async def run() -> None:
        async with build_client(transport) as client:
            await Fetcher(client).get("https://example.org/b")

    with pytest.raises(FetchError, match=re.escape("no recorded exchange for GET https://example.org/b")):
        asyncio.run(run())


def test_replay_refuses_a_broken_recording(tmp_path: Path) -> None:
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "bad.json").write_text('{"response": {}}', encoding="utf-8")
    with pytest.raises(FetchError, match=re.escape("bad.json is not a recorded exchange")):
        ReplayTransport(tmp_path)
    with pytest.raises(FetchError, match="does not exist"):
        ReplayTransport(tmp_path / "absent")


def test_replayed_status_and_headers_come_back(tmp_path: Path) -> None:
    write_exchange(
        tmp_path,
        "https://example.org/gone",
        "gone",
        status=410,
        headers={"content-type": "text/plain", "etag": '"v1"', "content-encoding": "gzip"},
    )

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=ReplayTransport(tmp_path)) as client:
            return await client.get("https://example.org/gone")

    response = asyncio.run(run())
    assert response.status_code == 410
    assert response.headers["etag"] == '"v1"'
    assert response.text == "gone"
