"""A replayed request's match key: the same as the plain definition (the URL parsed again
without its query and fragment) for every recorded fixture and for awkward URLs, whether the
URL comes as text or as the request's parsed URL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support import REPO

from pipeline.fetch.replay import ReplayTransport, request_key

FIXTURES = REPO / "fixtures" / "http"
AWKWARD_URLS = [
    "https://example.org",
    "https://example.org/",
    "https://Example.ORG:443/a/b?z=1&a=2#frag",
    "https://example.org/path?",
    "https://example.org/path#only-fragment",
    "https://example.org/p%20q/r?x=a%20b&x=c+d&y=",
    "https://example.org/search?q=%3F%23&lang=tc",
    "https://例子.香港/新聞?類=1",
    "http://example.org:8080/a/../b/./c?b=2&a=1&a=0",
    "https://user:pw@example.org/private?k=v",
]


def reference_key(method: str, url: str, json_body: Any = None) -> str:
    """The key as first defined: the URL copied without its query and fragment."""
    parsed = httpx.URL(url)
    query = "&".join(sorted(f"{k}={v}" for k, v in parsed.params.multi_items()))
    base = str(parsed.copy_with(query=None, fragment=None))
    body = "" if json_body is None else json.dumps(json_body, sort_keys=True, separators=(",", ":"))
    return f"{method.upper()} {base}?{query} {body}"


@pytest.mark.parametrize("url", AWKWARD_URLS)
def test_key_matches_the_plain_definition(url: str) -> None:
    expected = reference_key("get", url)
    assert request_key("get", url) == expected
    assert request_key("get", httpx.URL(url)) == expected
    assert request_key("POST", url, {"b": [1, 2], "a": "x"}) == reference_key(
        "POST", url, {"b": [1, 2], "a": "x"}
    )


def test_every_recorded_fixture_keeps_its_key_and_is_found_by_its_request() -> None:
    transport = ReplayTransport(FIXTURES)
    checked = 0
    for path in sorted(FIXTURES.rglob("*.json")):
        if ".body" in path.name:
            continue
        request = json.loads(path.read_text(encoding="utf-8"))["request"]
        method, url, body = request["method"], request["url"], request.get("json")
        assert request_key(method, url, body) == reference_key(method, url, body), path
        # As the transport sees it: the request's own parsed URL.
        sent = httpx.Request(method, url)
        assert transport.lookup(method, sent.url, body)[0] == path
        checked += 1
    assert checked == len(transport) > 50
