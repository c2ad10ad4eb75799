"""Real receivers for alert channels, on 127.0.0.1, stopped when the test ends.

- ``smtp_server()``: an SMTP server (aiosmtpd) that requires AUTH with ``SMTP_USER`` /
  ``SMTP_PASSWORD`` (plain, no TLS: it is localhost) and keeps every mail it accepts, parsed.
- ``webhook_receiver()``: an HTTP server that records each request (method, path, headers, JSON
  body) and answers with the statuses and delays a test sets; ``unique_keys()`` and
  ``delivered()`` are what a receiver that drops repeats by ``Idempotency-Key`` would keep.
  Being a real HTTP server, another process can post to it.

Both are context managers; ``smtp_receiver`` and ``http_receiver`` are the same as pytest
fixtures (import them into a test module, or a conftest, to use them).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
SMTP_USER = "desk"
SMTP_PASSWORD = "test-Pa55word"
IDEMPOTENCY_HEADER = "idempotency-key"


def free_port() -> int:
    """A port nothing listens on (bound then released): also a "receiver down" address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMail:
    """One mail the SMTP server accepted: the envelope, who logged in, the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    login: str | None
    message: EmailMessage


@dataclass
class SmtpServer:
    """The running SMTP server: where it listens and what it received."""

    port: int
    # Seconds the server waits after receiving a mail's data before it answers.
    data_delay: float = 0.0
    mails: list[ReceivedMail] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)

    def url(self, scheme: str = "mailto", password: str = SMTP_PASSWORD, **query: str) -> str:
        """An Apprise URL for this server, logging in as ``SMTP_USER``."""
        params = {"from": "newswatch@example.org", "to": "desk@example.org", **query}
        text = "&".join(f"{name}={value}" for name, value in params.items())
        return f"{scheme}://{SMTP_USER}:{password}@{HOST}:{self.port}?{text}"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Refuse a sender that has not logged in (AUTH is required)."""
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the mail, then answer (late, when ``data_delay`` says so)."""
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.mails.append(
            ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), login, parsed)
        )
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """Accept ``SMTP_USER`` with ``SMTP_PASSWORD`` only."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        accepted = login == SMTP_USER and password == SMTP_PASSWORD
        self.logins.append((login, accepted))
        # handled=False: aiosmtpd answers (235 or 535) itself.
        return AuthResult(
            success=accepted, handled=False, auth_data=data.login if accepted else None
        )


@contextmanager
def smtp_server(data_delay: float = 0.0) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 that requires AUTH; stopped on exit."""
    server = SmtpServer(port=free_port(), data_delay=data_delay)
    controller = Controller(
        server,
        hostname=HOST,
        port=server.port,
        authenticator=server.authenticate,
        # AUTH is required by handle_MAIL: aiosmtpd's own auth_required warns on every
        # connection without TLS, which a localhost test server does not need.
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass(frozen=True)
class Request:
    """One request the webhook receiver got."""

    method: str
    path: str
    # Lower-case names.
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON, None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def key(self) -> str | None:
        """The Idempotency-Key header, if sent."""
        return self.headers.get(IDEMPOTENCY_HEADER)


class WebhookReceiver:
    """An HTTP server that records requests and answers as told."""

    def __init__(self, statuses: Sequence[int] = (), delay: float = 0.0, port: int = 0) -> None:
        self.requests: list[Request] = []
        # Answered in order, one per request; 200 once used up.
        self.statuses = list(statuses)
        # Seconds before each answer (the request is recorded on arrival).
        self.delay = delay
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length", "0") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._record(Request(self.command, self.path, headers, body))
                if receiver.delay:
                    receiver._stopping.wait(receiver.delay)
                payload = json.dumps({"ok": status < 400}).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting

            do_POST = do_PUT = do_GET = _answer

        # A given port: a receiver coming back where one was down.
        self._server = ThreadingHTTPServer((HOST, port), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _record(self, request: Request) -> int:
        with self._lock:
            self.requests.append(request)
            return self.statuses.pop(0) if self.statuses else 200

    def apprise_url(self, scheme: str = "json", path: str = "/hook", query: str = "") -> str:
        """An Apprise URL that posts to this receiver."""
        return f"{scheme}://{HOST}:{self.port}{path}{'?' + query if query else ''}"

    def unique_keys(self) -> list[str]:
        """The distinct Idempotency-Key values received, in order."""
        return list(dict.fromkeys(r.key for r in self.requests if r.key is not None))

    def delivered(self) -> list[Request]:
        """The requests a receiver dropping repeats by Idempotency-Key would keep."""
        seen: set[str] = set()
        kept: list[Request] = []
        for request in self.requests:
            if request.key is None or request.key not in seen:
                kept.append(request)
            if request.key is not None:
                seen.add(request.key)
        return kept

    def start(self) -> WebhookReceiver:
        """Answer in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake delayed answers, stop serving, close the socket."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def webhook_receiver(
    statuses: Sequence[int] = (), delay: float = 0.0, port: int = 0
) -> Iterator[WebhookReceiver]:
    """A webhook receiver on 127.0.0.1 (on ``port`` when given); stopped on exit."""
    receiver = WebhookReceiver(statuses, delay, port).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpServer]:
    """``smtp_server()`` for the test."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def http_receiver() -> Iterator[WebhookReceiver]:
    """``webhook_receiver()`` for the test; set ``statuses`` and ``delay`` on it as needed."""
    with webhook_receiver() as receiver:
        yield receiver
