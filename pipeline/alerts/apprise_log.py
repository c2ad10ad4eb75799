"""What Apprise said while it sent: captured, kept from every other handler, and read for why a
send failed.

Apprise's ``notify()`` answers only True or False; the reason (an HTTP status, a refused
connection, a read timeout) is in its log records. Those records can quote a URL, a login or a
payload, and urllib3 logs each request line (path and query, where tokens live), so while a
thread sends, the records of ``apprise`` and ``urllib3`` from that thread go to the sender alone,
never to the root logger, Prefect's handlers or pytest's; the sender turns them into one redacted
reason and re-logs them, redacted, at DEBUG under this module's logger. Records of other threads
keep going where they went before.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus

from pipeline.alerts.urls import mask_url, redact

log = logging.getLogger(__name__)

CAPTURED_LOGGERS = ("apprise", "urllib3")
# A reason longer than this is cut: it ends up in the outbox's last_error and in a terminal.
MAX_REASON_CHARS = 300
_STATUS = re.compile(r"error=(\d{3})\b")
# A URL in a log line, without the punctuation that follows it in the sentence.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()]*[^\s'\"<>().,;:]")
# requests names the path and query it failed on: "Max retries exceeded with url: /hook?t=…".
_REQUEST_PATH = re.compile(r"with url: \S+")
_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")\]]*")

_lock = threading.Lock()
_sinks: dict[int, list[logging.LogRecord]] = {}


class _Router(logging.Handler):
    """Stands in for a logger's handlers while some thread captures: that thread's records go
    to its list, other threads' records to where the logger would have sent them."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logging.NOTSET)
        self.logger = logger
        self.saved_handlers = list(logger.handlers)
        self.saved_propagate = logger.propagate
        self.saved_level = logger.level
        self.saved_effective = logger.getEffectiveLevel()

    def install(self) -> None:
        """Take the logger's place: only this handler, no propagation, every DEBUG record."""
        self.logger.handlers = [self]
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)

    def restore(self) -> None:
        """Give the logger back its handlers, propagation and level."""
        self.logger.handlers = self.saved_handlers
        self.logger.propagate = self.saved_propagate
        self.logger.setLevel(self.saved_level)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep a capturing thread's record; pass any other on as before."""
        sink = _sinks.get(record.thread or 0)
        if sink is not None:
            sink.append(record)
        elif record.levelno >= self.saved_effective:
            self._forward(record)

    def _forward(self, record: logging.LogRecord) -> None:
        for handler in self.saved_handlers:
            if record.levelno >= handler.level:
                handler.handle(record)
        parent = self.logger.parent if self.saved_propagate else None
        while parent is not None:
            for handler in parent.handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)
            parent = parent.parent if parent.propagate else None


_routers: list[_Router] = []


@contextmanager
def captured() -> Iterator[list[logging.LogRecord]]:
    """The ``apprise`` and ``urllib3`` records this thread emits inside the block, which reach
    no other handler."""
    thread = threading.get_ident()
    with _lock:
        outer = _sinks.get(thread)
    if outer is not None:
        # Nested in this thread: the outer block collects and restores.
        yield outer
        return
    with _lock:
        if not _sinks:
            _routers[:] = [_Router(logging.getLogger(name)) for name in CAPTURED_LOGGERS]
            for router in _routers:
                router.install()
        records: list[logging.LogRecord] = []
        _sinks[thread] = records
    try:
        yield records
    finally:
        with _lock:
            del _sinks[thread]
            if not _sinks:
                for router in _routers:
                    router.restore()
                _routers.clear()


def relog(records: Iterable[logging.LogRecord], secrets: Iterable[str]) -> None:
    """Log the captured records again, redacted, at DEBUG: there to read when debugging,
    with no secret in them."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    hidden = tuple(secrets)
    for record in records:
        log.debug("%s: %s", record.name, clean(record.getMessage(), hidden))


def clean(text: str, secrets: Iterable[str]) -> str:
    """``text`` with secrets redacted and every URL in it shown as scheme and host only."""
    text = redact(text, secrets)
    text = _REQUEST_PATH.sub("with url: ***", text)
    return _URL.sub(lambda match: mask_url(match.group(0)), text)


def timed_out(records: Iterable[logging.LogRecord]) -> bool:
    """True when a record says a response did not come in time (the request went out); a
    connect timeout is not one: nothing was sent."""
    for record in records:
        text = record.getMessage().casefold()
        if "read timed out" in text or ("timed out" in text and "connect" not in text):
            return True
    return False


def failure_reason(records: Iterable[logging.LogRecord], secrets: Iterable[str]) -> str:
    """Why a send failed, in one line: ``HTTP 503 Service Unavailable``, else Apprise's
    warnings, with the low-level cause (``[Errno 111] Connection refused``) when it gave one."""
    hidden = tuple(secrets)
    warnings: list[str] = []
    causes: list[str] = []
    for record in records:
        if not record.name.startswith("apprise"):
            continue
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            warnings.append(text)
        elif "Exception" in text:
            causes += _ERRNO.findall(text) or (["read timed out"] if timed_out([record]) else [])
    status = next((m for text in warnings if (m := _STATUS.search(text))), None)
    if status is not None:
        reason = _http_status(int(status.group(1)))
    else:
        reason = "; ".join(dict.fromkeys(warnings)) or "the service reported a failure"
    if causes:
        reason += f" ({'; '.join(dict.fromkeys(c.strip() for c in causes))})"
    reason = clean(reason, hidden)
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return reason


def _http_status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"
