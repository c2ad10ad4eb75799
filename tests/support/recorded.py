"""Bodies of the recorded exchanges under ``fixtures/http``, looked up by their request."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from support import REPO

FIXTURES_HTTP = REPO / "fixtures" / "http"


@cache
def _exchanges(host: str) -> dict[tuple[str, str], str]:
    """(method, URL) → body file name of every exchange recorded for ``host``."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted((FIXTURES_HTTP / host).glob("*.json")):
        if path.name.endswith(".body.json"):
            continue
        exchange = json.loads(path.read_text(encoding="utf-8"))
        request = exchange["request"]
        found[(request["method"], request["url"])] = exchange["response"]["body_file"]
    return found


def recorded_json(method: str, url: str) -> Any:
    """The JSON body recorded as the answer to ``method url`` (a fresh copy on each call)."""
    host = urlsplit(url).netloc
    name = _exchanges(host).get((method, url))
    if name is None:
        raise LookupError(f"no exchange recorded under {FIXTURES_HTTP / host} for {method} {url}")
    return json.loads((FIXTURES_HTTP / host / name).read_text(encoding="utf-8"))
