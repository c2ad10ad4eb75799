"""A real HTTP server on a loopback address (127.0.0.1 unless told; port 0) whose answers a test
sets and changes as it goes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    """One HTTP answer."""

    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def redirect(location: str, status: int = 302) -> Answer:
    """An answer that sends the client to ``location``."""
    return Answer(b"", status, "text/plain", (("location", location),))


# A route answers the request body (POST) or b"" (GET); path and query are the route's key.
Route = Answer | Callable[[bytes], Answer]


def json_answer(data: Any, status: int = 200) -> Answer:
    """A JSON answer."""
    return Answer(json.dumps(data).encode(), status, "application/json")


class LocalSite:
    """Serves ``routes`` keyed on (method, path?query); records every request it gets."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str, bytes]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("content-length", "0") or 0)
                body = self.rfile.read(length) if length else b""
                site.requests.append((method, self.path, body))
                route = site.routes.get((method, self.path))
                if route is None:
                    answer = Answer(b"not found", 404, "text/plain")
                else:
                    answer = route(body) if callable(route) else route
                self.send_response(answer.status)
                self.send_header("content-type", answer.content_type)
                self.send_header("content-length", str(len(answer.body)))
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"

    def start(self) -> LocalSite:
        """Start answering in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and free its port."""
        self._server.shutdown()
        self._server.server_close()

    def set(self, url_or_path: str, route: Route, method: str = "GET") -> None:
        """Answer ``method`` requests to ``url_or_path`` (absolute, or a path with its query)."""
        parts = urlsplit(url_or_path)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        self.routes[(method, key)] = route

    def asked(self, method: str = "GET", prefix: str = "") -> list[str]:
        """Paths (with query) of the requests made so far with ``method``, starting ``prefix``."""
        return [path for m, path, _ in self.requests if m == method and path.startswith(prefix)]
