"""A real HTTP server on 127.0.0.1 that misbehaves on purpose, one fault per route.

Each route is a function that writes to the raw connection, so a route can do what no
well-behaved server does: reset the connection, stall, trickle, cut a body short, send a gzip
bomb or an endless body. Unknown paths (robots.txt included) answer 404. Stalled handlers end
when the server stops.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import socket
import struct
import threading
import time
from collections.abc import Callable
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Writer = Callable[["FaultHandler"], None]
# A stalled handler wakes this often to see whether the server is stopping.
STALL_STEP = 0.05


class FaultHandler(BaseHTTPRequestHandler):
    """Dispatches to the route's writer; records each request line and its headers."""

    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("content-length", "0") or 0)
        if length:
            self.rfile.read(length)
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.server.requests.append((self.command, self.path, headers))
        writer = self.server.routes.get(urlsplit(self.path).path)
        # The client gives up mid-answer on most of these faults, as it should.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            (writer or not_found)(self)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        """A complete, well-formed answer."""
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def stall(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when the server stops."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.server.stopping.is_set():
            time.sleep(STALL_STEP)


class FaultServer(ThreadingHTTPServer):
    """The server: routes by path, the requests it got, and a stop flag for stalled handlers."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.routes: dict[str, Writer] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.stopping = threading.Event()


class FaultSite:
    """Starts a ``FaultServer`` in a thread; ``set`` routes a path to a writer."""

    def __init__(self) -> None:
        self.server = FaultServer()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultSite:
        """Start answering."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake stalled handlers, stop the server and free its port."""
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def set(self, path: str, writer: Writer) -> None:
        """Answer requests to ``path`` (no query) with ``writer``."""
        self.server.routes[path] = writer

    def asked(self, path: str) -> int:
        """How many requests ``path`` got."""
        return sum(1 for _, asked, _ in self.server.requests if urlsplit(asked).path == path)

    def headers_of(self, path: str) -> list[dict[str, str]]:
        """The request headers (names in lower case) of every request to ``path``, in order."""
        return [h for _, asked, h in self.server.requests if urlsplit(asked).path == path]


# --- writers ---------------------------------------------------------------------------------


def not_found(handler: FaultHandler) -> None:
    """404."""
    handler.send(404, b"not found", "text/plain")


def answer(
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Writer:
    """A well-formed answer."""
    return lambda handler: handler.send(status, body, content_type, headers)


def status(code: int, headers: dict[str, str] | None = None) -> Writer:
    """An error status with a short body."""
    return answer(f"status {code}".encode(), "text/plain", code, headers)


def reset(handler: FaultHandler) -> None:
    """Reset the connection (RST) without answering."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def silent(seconds: float) -> Writer:
    """Accept the request and say nothing for ``seconds`` (a read timeout)."""
    return lambda handler: handler.stall(seconds)


def trickle(total: int = 2000, every: float = 0.05) -> Writer:
    """Headers at once, then one byte every ``every`` seconds: never idle, never done."""

    def write(handler: FaultHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/rss+xml")
        handler.send_header("content-length", str(total))
        handler.end_headers()
        for _ in range(total):
            if handler.server.stopping.is_set():
                return
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(every)

    return write


def truncated(body: bytes, declared: int) -> Writer:
    """Declare ``declared`` bytes, send ``body`` (fewer), close."""

    def write(handler: FaultHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/rss+xml")
        handler.send_header("content-length", str(declared))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True

    return write


@cache
def gzip_bomb_bytes(decoded_mb: int = 64) -> bytes:
    """``decoded_mb`` MB of zeros, gzipped (about 1,000:1)."""
    buffer = io.BytesIO()
    block = b"\0" * (1024 * 1024)
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as stream:
        for _ in range(decoded_mb):
            stream.write(block)
    return buffer.getvalue()


def gzip_bomb(decoded_mb: int = 64) -> Writer:
    """A gzip-encoded answer that inflates to ``decoded_mb`` MB."""
    body = gzip_bomb_bytes(decoded_mb)
    return answer(body, "application/rss+xml", headers={"content-encoding": "gzip"})


def endless(megabytes: int = 50, content_type: str = "application/rss+xml") -> Writer:
    """A body of ``megabytes`` MB with no length declared (read until the server closes)."""

    def write(handler: FaultHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", content_type)
        handler.send_header("connection", "close")
        handler.end_headers()
        chunk = b"<!-- padding -->" * 4096
        sent = 0
        while sent < megabytes * 1024 * 1024 and not handler.server.stopping.is_set():
            handler.wfile.write(chunk)
            sent += len(chunk)
        handler.close_connection = True

    return write


def redirect_loop(path: str) -> Writer:
    """302 back to ``path`` with a growing query, for ever."""

    def write(handler: FaultHandler) -> None:
        hop = handler.path.count("x") + 1
        handler.send(302, b"", "text/plain", {"location": f"{path}?{'x' * hop}"})

    return write


def conditional(
    body: bytes, etag: str, content_type: str = "application/rss+xml; charset=utf-8"
) -> Writer:
    """A well-formed answer with an ETag and Last-Modified; 304 when the client sends the ETag."""
    modified = "Mon, 03 Nov 2025 01:00:00 GMT"

    def write(handler: FaultHandler) -> None:
        if handler.headers.get("if-none-match") == etag:
            handler.send_response(304)
            handler.send_header("etag", etag)
            handler.send_header("content-length", "0")
            handler.end_headers()
            return
        handler.send(200, body, content_type, {"etag": etag, "last-modified": modified})

    return write
