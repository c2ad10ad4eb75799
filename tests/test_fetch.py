"""Fetching: the Fetcher against a real HTTP server on 127.0.0.1, and the replay transport."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import json
import random
import re
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.fault_site import FaultHandler, FaultSite, Writer, answer, status

from pipeline.errors import (
    BudgetExceeded,
    FetchError,
    LimitExceeded,
    RobotsDisallowed,
    UnexpectedContent,
)
from pipeline.fetch import (
    Fetcher,
    FetchPolicy,
    ReplayMiss,
    ReplayTransport,
    build_client,
    write_exchange,
)
from pipeline.fetch.client import parse_retry_after
from pipeline.fetch.robots import RobotsRules
from pipeline.fetch.transport import PerHostTransport, environment_mounts
from pipeline.models import Source

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

    with pytest.raises(
        FetchError, match=re.escape("no recorded exchange for GET https://example.org/b")
    ):
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


# --- retries, budgets, robots.txt, limits, pools (against FaultSite on 127.0.0.1) -------------


@pytest.fixture
def site(fault_site: FaultSite) -> FaultSite:
    """The misbehaving server of the conftest, under a shorter name."""
    return fault_site


def sequence(*writers: Writer) -> Writer:
    """Each request gets the next writer; the last one repeats."""
    calls = {"n": 0}

    def write(handler: FaultHandler) -> None:
        index = min(calls["n"], len(writers) - 1)
        calls["n"] += 1
        writers[index](handler)

    return write


class Sleeps:
    """Records the waits a fetcher asks for instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def run_fetch(url: str, policy: FetchPolicy = FAST, sleep: Sleeps | None = None, **kw: Any) -> Any:
    async def go() -> Any:
        async with build_client(policy=policy) as client:
            fetcher = Fetcher(client, policy=policy, sleep=sleep or Sleeps(), **kw)
            return fetcher, await fetcher.get(url)

    return asyncio.run(go())


def test_a_503_then_200_is_retried(site: FaultSite) -> None:
    site.set("/flaky", sequence(status(503), answer(b"<html>ok</html>")))
    sleeps = Sleeps()
    fetcher, page = run_fetch(f"{site.url}/flaky", sleep=sleeps)
    assert (page.status, page.body) == (200, b"<html>ok</html>")
    assert site.asked("/flaky") == 2 and fetcher.stats.retries == 1 and len(sleeps.waits) == 1


def test_retry_after_seconds_are_waited_for(site: FaultSite) -> None:
    site.set("/limited", sequence(status(429, {"retry-after": "3"}), answer(b"<html>ok</html>")))
    sleeps = Sleeps()
    _, page = run_fetch(f"{site.url}/limited", policy=FetchPolicy(max_retry_after=5), sleep=sleeps)
    assert page.status == 200 and sleeps.waits == [3.0]


def test_retry_after_as_an_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(42)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_doubles_with_jitter_up_to_the_cap(site: FaultSite) -> None:
    site.set("/down", status(500))
    policy = FetchPolicy(max_attempts=6, backoff_base=1.0, backoff_cap=8.0)
    sleeps = Sleeps()
    with pytest.raises(FetchError, match=r"/down: HTTP 500 \(after 6 attempts\)"):
        run_fetch(f"{site.url}/down", policy=policy, sleep=sleeps, rng=random.Random(7))
    assert len(sleeps.waits) == 5
    for wait, ceiling in zip(sleeps.waits, [1, 2, 4, 8, 8], strict=True):
        assert ceiling / 2 <= wait <= ceiling
    # Jitter: the waits are not the bare powers of two.
    assert sleeps.waits != [1, 2, 4, 8, 8]


def test_a_retry_after_longer_than_a_run_waits_fails_at_once(site: FaultSite) -> None:
    site.set("/later", status(503, {"retry-after": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="Retry-After 3600 s is longer than the 2 s a run waits"):
        run_fetch(f"{site.url}/later", policy=FetchPolicy(max_retry_after=2), sleep=sleeps)
    assert site.asked("/later") == 1 and sleeps.waits == []


def test_a_client_error_is_not_retried(site: FaultSite) -> None:
    site.set("/gone", status(410))
    with pytest.raises(FetchError, match=r"/gone: HTTP 410$"):
        run_fetch(f"{site.url}/gone")
    assert site.asked("/gone") == 1


def test_the_source_time_budget_ends_the_retries(site: FaultSite) -> None:
    site.set("/busy", status(503, {"retry-after": "1"}))
    source = Source(
        id="slow-source",
        name="Slow",
        kind="rss",
        urls=(f"{site.url}/busy",),
        options={"time_budget": 0.5},
    )

    async def go() -> None:
        async with build_client(policy=FAST) as client:
            fetcher = Fetcher(client, policy=FetchPolicy(max_attempts=10, max_retry_after=5))
            with fetcher.source_scope(source):
                await fetcher.get(f"{site.url}/busy")

    started = time.monotonic()
    with pytest.raises(
        BudgetExceeded, match=r"^slow-source: .*/busy: HTTP 503 .*time budget of 0.5 s"
    ):
        asyncio.run(go())
    assert time.monotonic() - started < 0.5 and site.asked("/busy") == 1


def test_robots_txt_is_read_once_per_origin_and_obeyed(site: FaultSite) -> None:
    site.set("/robots.txt", answer(b"User-agent: *\nDisallow: /private\n", "text/plain"))
    site.set("/a", answer(b"<html>a</html>"))
    site.set("/b", answer(b"<html>b</html>"))

    async def go() -> Fetcher:
        async with build_client(policy=FAST) as client:
            fetcher = Fetcher(client, policy=FAST)
            await asyncio.gather(fetcher.get(f"{site.url}/a"), fetcher.get(f"{site.url}/b"))
            with pytest.raises(RobotsDisallowed, match=r"/private/x: disallowed by .*robots\.txt"):
                await fetcher.get(f"{site.url}/private/x")
            return fetcher

    fetcher = asyncio.run(go())
    assert site.asked("/robots.txt") == 1 and site.asked("/private/x") == 0
    assert fetcher.stats.robots_skipped == 1


def test_a_redirect_into_a_disallowed_path_is_not_followed(site: FaultSite) -> None:
    site.set("/robots.txt", answer(b"User-agent: newswatch\nDisallow: /private\n", "text/plain"))
    site.set("/moved", answer(b"", status=301, headers={"location": "/private/page"}))
    with pytest.raises(RobotsDisallowed, match="/private/page"):
        run_fetch(f"{site.url}/moved")
    assert site.asked("/private/page") == 0


def test_a_failing_robots_txt_keeps_the_host_uncrawled(site: FaultSite) -> None:
    site.set("/robots.txt", status(503))
    site.set("/page", answer(b"<html>page</html>"))
    with pytest.raises(FetchError, match=r"/page: not fetched: .*/robots.txt could not be read"):
        run_fetch(f"{site.url}/page")
    assert site.asked("/page") == 0


def test_crawl_delay_spaces_requests(site: FaultSite) -> None:
    site.set("/robots.txt", answer(b"User-agent: *\nCrawl-delay: 1\n", "text/plain"))
    site.set("/p", answer(b"<html>p</html>"))

    async def go() -> float:
        async with build_client(policy=FAST) as client:
            fetcher = Fetcher(client, policy=FAST)
            started = time.monotonic()
            await asyncio.gather(*(fetcher.get(f"{site.url}/p") for _ in range(2)))
            return time.monotonic() - started

    assert asyncio.run(go()) >= 0.95


@pytest.mark.parametrize(
    ("value", "kept"),
    [("0.5", 0.5), (".25", 0.25), ("2", 2.0), ("30", 10.0), ("soon", 0.0), ("-1", 0.0)],
    ids=["half-second", "no-leading-zero", "whole", "capped", "not-a-number", "negative"],
)
def test_a_fractional_crawl_delay_is_kept(site: FaultSite, value: str, kept: float) -> None:
    # The standard library's parser keeps whole seconds only and would drop 0.5 altogether.
    site.set("/robots.txt", answer(f"User-agent: *\nCrawl-delay: {value}\n".encode(), "text/plain"))
    site.set("/p", answer(b"<html>p</html>"))
    fetcher, page = run_fetch(f"{site.url}/p", policy=FetchPolicy(max_crawl_delay=10.0))
    assert page.status == 200
    assert fetcher.min_delay(f"{site.url}/other") == kept


@pytest.mark.parametrize(
    ("text", "delay"),
    [
        ("User-agent: *\nCrawl-delay: 3\n\nUser-agent: newswatch\nCrawl-delay: 0.75\n", 0.75),
        ("User-agent: newswatch\nUser-agent: other\nCrawl-delay: 1.5\nDisallow: /x\n", 1.5),
        ("User-agent: other\nCrawl-delay: 0.1\n\nUser-agent: *\nCrawl-delay: 0.3\n", 0.3),
        # The first "*" group is the fallback; a later one is ignored, as for the rules.
        ("User-agent: *\nCrawl-delay: 0.2\n\nUser-agent: *\nCrawl-delay: 4\n", 0.2),
        # A blank line ends a group: the delay after it belongs to no group.
        ("User-agent: newswatch\nDisallow: /x\n\nCrawl-delay: 0.5\n", None),
        ("Crawl-delay: 0.5\nUser-agent: *\nDisallow: /x\n", None),
        ("User-agent: *\nCrawl-delay: 0.5 # seconds\n", 0.5),
        ("User-agent: *\nCrawl-delay: 1e3\n", None),
        ("User-agent: other\nCrawl-delay: 0.5\n", None),
    ],
    ids=[
        "own-group-first",
        "shared-group",
        "star-fallback",
        "first-star-wins",
        "blank-line-ends-group",
        "before-any-group",
        "comment",
        "exponent",
        "other-agent",
    ],
)
def test_crawl_delay_comes_from_the_group_whose_rules_apply(text: str, delay: float | None) -> None:
    assert RobotsRules.parse("https://example.org", text).crawl_delay() == delay


def test_gzip_and_raw_deflate_bodies_are_inflated(site: FaultSite) -> None:
    page = b"<html><body>" + b"<p>Hong Kong fintech news.</p>" * 200 + b"</body></html>"
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = raw.compress(page) + raw.flush()
    site.set("/gz", answer(gzip.compress(page), headers={"content-encoding": "gzip"}))
    site.set("/deflate", answer(deflated, headers={"content-encoding": "deflate"}))
    assert run_fetch(f"{site.url}/gz")[1].body == page
    assert run_fetch(f"{site.url}/deflate")[1].body == page


def test_a_declared_length_over_the_cap_is_refused_unread(site: FaultSite) -> None:
    site.set("/huge", answer(b"x" * 5000))
    with pytest.raises(LimitExceeded, match="body of 5000 bytes declared, larger than 1000"):
        run_fetch(f"{site.url}/huge", max_body_bytes=1000)


def test_a_body_of_the_wrong_kind_names_url_and_kinds(site: FaultSite) -> None:
    site.set("/api", answer(b"<html><title>Login</title></html>"))
    site.set("/empty", answer(b"", "application/json"))

    async def go(path: str, expect: str) -> None:
        async with build_client(policy=FAST) as client:
            await Fetcher(client, policy=FAST).get(f"{site.url}{path}", expect=expect)

    with pytest.raises(UnexpectedContent, match=r"/api: answer is not JSON: HTML page"):
        asyncio.run(go("/api", "json"))
    with pytest.raises(UnexpectedContent, match=r"/empty: empty body \(HTTP 200"):
        asyncio.run(go("/empty", "json"))


def test_each_host_gets_its_own_small_pool(site: FaultSite) -> None:
    other = FaultSite().start()
    peak = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(handler: FaultHandler) -> None:
        with lock:
            peak["now"] += 1
            peak["max"] = max(peak["max"], peak["now"])
        time.sleep(0.1)
        with lock:
            peak["now"] -= 1
        handler.send(200, b"<html>ok</html>")

    site.set("/slow", slow)
    other.set("/slow", answer(b"<html>ok</html>"))
    transport = PerHostTransport(per_host=2)

    async def go() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            fetcher = Fetcher(client, policy=FetchPolicy(per_host=2))
            urls = [f"{site.url}/slow"] * 8 + [f"{other.url}/slow"] * 2
            await asyncio.gather(*(fetcher.get(url) for url in urls))
            assert transport.hosts == 2

    try:
        asyncio.run(go())
    finally:
        other.stop()
    assert peak["max"] == 2


def test_proxies_from_the_environment_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1,.gov.hk")

    async def route(url: str) -> httpx.AsyncBaseTransport:
        async with build_client() as client:
            return client._transport_for_url(httpx.URL(url))

    direct = asyncio.run(route("https://www.hkma.gov.hk/eng/"))
    assert isinstance(direct, PerHostTransport)
    assert isinstance(asyncio.run(route("http://127.0.0.1:8/x")), PerHostTransport)
    proxied = asyncio.run(route("https://www.sfc.hk/en/"))
    assert not isinstance(proxied, PerHostTransport)
    monkeypatch.setenv("NO_PROXY", "*")
    assert environment_mounts(PerHostTransport()) == {}
