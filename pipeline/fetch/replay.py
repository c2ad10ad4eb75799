"""Recorded HTTP exchanges: write them, and serve them back through an httpx transport.

An exchange is a JSON file ``<dir>/<host>/<slug>.json``::

    {"request":  {"method": "GET", "url": "https://…", "json": null},
     "response": {"status": 200, "headers": {"content-type": "…"}, "body_file": "<slug>.body.xml"},
     "note": "modelled: …"}

The body sits beside it in ``body_file`` so it can be read and diffed as it is. Requests match on
method, URL (query parameters in any order) and, for a JSON POST, the JSON body compared as data.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import FetchError

_BODY_SUFFIX = {
    "application/json": ".json",
    "application/rss+xml": ".xml",
    "application/atom+xml": ".xml",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "text/html": ".html",
}


class ReplayMiss(httpx.TransportError):
    """A request for which no exchange was recorded."""


def request_key(method: str, url: str | httpx.URL, json_body: Any = None) -> str:
    """The match key of a request: method, normalised URL and canonical JSON body."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    query = (
        "&".join(sorted(f"{k}={v}" for k, v in parsed.params.multi_items())) if parsed.query else ""
    )
    # A normalised URL has its first "?" before the query and its first "#" before the
    # fragment: cutting there is what ``copy_with(query=None, fragment=None)`` gives, without
    # parsing the URL again (a third of a replayed fetch).
    base = str(parsed).partition("#")[0].partition("?")[0]
    body = "" if json_body is None else json.dumps(json_body, sort_keys=True, separators=(",", ":"))
    return f"{method.upper()} {base}?{query} {body}"


def _slug(method: str, url: str, json_body: Any) -> str:
    parsed = httpx.URL(url)
    tail = re.sub(r"[^A-Za-z0-9]+", "-", (parsed.path + "-" + parsed.query.decode()).strip("/"))
    digest = hashlib.sha1(request_key(method, url, json_body).encode()).hexdigest()[:10]
    return f"{tail.strip('-')[:80] or 'root'}-{digest}"


def write_exchange(
    root: Path,
    url: str,
    body: bytes | str,
    *,
    method: str = "GET",
    json_body: Any = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    note: str | None = None,
) -> Path:
    """Record one exchange under ``root``; returns the path of its JSON file."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    headers = {
        k.lower(): v for k, v in (headers or {"content-type": "text/html; charset=utf-8"}).items()
    }
    media_type = headers.get("content-type", "").split(";")[0].strip()
    slug = _slug(method, url, json_body)
    folder = root / (httpx.URL(url).host or "unknown-host")
    folder.mkdir(parents=True, exist_ok=True)
    body_name = slug + ".body" + _BODY_SUFFIX.get(media_type, "")
    (folder / body_name).write_bytes(raw)
    record: dict[str, Any] = {
        "request": {"method": method.upper(), "url": url, "json": json_body},
        "response": {"status": status, "headers": headers, "body_file": body_name},
    }
    if note:
        record["note"] = note
    path = folder / f"{slug}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class ReplayTransport(httpx.AsyncBaseTransport):
    """Serves recorded exchanges; a request with no recording raises ``ReplayMiss``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FetchError(f"replay directory {self.root} does not exist")
        self._exchanges: dict[str, tuple[Path, dict[str, Any]]] = {}
        for path in sorted(self.root.rglob("*.json")):
            if ".body" in path.name:
                continue
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                request = record["request"]
                key = request_key(request["method"], request["url"], request.get("json"))
            except (ValueError, KeyError, TypeError) as exc:
                raise FetchError(f"replay file {path} is not a recorded exchange: {exc}") from exc
            self._exchanges[key] = (path, record)
        self.served: list[str] = []

    def __len__(self) -> int:
        return len(self._exchanges)

    def lookup(
        self, method: str, url: str | httpx.URL, json_body: Any = None
    ) -> tuple[Path, dict[str, Any]]:
        """The recorded exchange for a request, or ``ReplayMiss`` naming it."""
        key = request_key(method, url, json_body)
        try:
            return self._exchanges[key]
        except KeyError:
            raise ReplayMiss(f"no recorded exchange for {method.upper()} {url}") from None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` from the recording."""
        json_body: Any = None
        content = request.read()
        if content and "json" in request.headers.get("content-type", ""):
            json_body = json.loads(content)
        path, record = self.lookup(request.method, request.url, json_body)
        response = record["response"]
        # Joined as text: a ``Path``'s parent is worked out anew each time, a tenth of a
        # replayed fetch.
        with open(os.path.join(os.path.dirname(path), response["body_file"]), "rb") as file:
            body = file.read()
        self.served.append(str(request.url))
        headers = {
            k: v
            for k, v in response.get("headers", {}).items()
            if k not in ("content-length", "content-encoding")
        }
        return httpx.Response(
            status_code=int(response["status"]),
            headers=headers,
            content=body,
            request=request,
        )
