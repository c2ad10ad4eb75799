"""An answer's body read while it streams, with a cap on its decoded size and, for gzip and
deflate, a cap on the inflation ratio.

httpx is not asked to decode: the body is inflated here in steps of ``INFLATE_STEP_BYTES``, so a
decompression bomb is refused before more than one step beyond the cap is ever held.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

from pipeline.errors import FetchError, LimitExceeded
from pipeline.fetch.policy import INFLATE_STEP_BYTES, FetchPolicy
from pipeline.fetch.stats import FetchStats

# Only these are asked for (``Accept-Encoding``), so only these need inflating.
ACCEPT_ENCODING = "gzip, deflate"


class _Inflater:
    """Inflates gzip/deflate in steps of ``INFLATE_STEP_BYTES``, so a bomb is caught early."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # 32 + 15: zlib reads the gzip or zlib header itself; plain deflate is tried as raw.
        self._obj = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._raw_tried = encoding != "deflate"

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``data``, each at most ``INFLATE_STEP_BYTES`` long."""
        while data:
            try:
                piece = self._obj.decompress(data, INFLATE_STEP_BYTES)
            except zlib.error:
                if self._raw_tried:
                    raise
                # Some servers send raw deflate under "deflate"; start over reading it raw.
                self._raw_tried = True
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = self._obj.decompress(data, INFLATE_STEP_BYTES)
            tail = self._obj.unconsumed_tail
            yield piece
            if not piece and tail == data:
                break
            data = tail

    def flush(self) -> bytes:
        """What the decompressor still holds once the stream has ended."""
        return self._obj.flush()


async def read_body(
    response: httpx.Response, where: str, policy: FetchPolicy, stats: FetchStats
) -> bytes:
    """The decoded body, refused once it passes the size cap or the inflation ratio."""
    cap = policy.max_body_bytes
    encoding = response.headers.get("content-encoding", "").strip().lower()
    try:
        ready: bytes | None = response.content
    except httpx.ResponseNotRead:
        ready = None
    if ready is not None:
        # A transport that built its answer from bytes (replay, mock) had httpx read and
        # decode it already: there is no stream left, only the size to check.
        stats.bytes_downloaded += len(ready)
        if len(ready) > cap:
            raise LimitExceeded(f"{where}: body larger than {cap} bytes; refused")
        return ready
    if encoding in ("", "identity"):
        inflater = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        inflater = _Inflater(encoding)
    else:
        raise FetchError(f"{where}: unsupported content-encoding {encoding!r}")
    declared = response.headers.get("content-length", "")
    if inflater is None and declared.isdigit() and int(declared) > cap:
        raise LimitExceeded(
            f"{where}: body of {declared} bytes declared, larger than {cap} bytes; refused"
        )
    out = bytearray()
    raw = 0

    def take(piece: bytes) -> None:
        out.extend(piece)
        if len(out) > cap:
            state = " once decompressed" if inflater is not None else ""
            raise LimitExceeded(f"{where}: body larger than {cap} bytes{state}; refused")
        if (
            inflater is not None
            and len(out) > policy.ratio_after_bytes
            and len(out) > raw * policy.max_ratio
        ):
            raise LimitExceeded(
                f"{where}: decompression bomb refused: {len(out)} bytes from {raw} "
                f"{inflater.encoding} bytes (more than {policy.max_ratio:g}:1)"
            )

    try:
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            stats.bytes_downloaded += len(chunk)
            if inflater is None:
                take(chunk)
                continue
            for piece in inflater.feed(chunk):
                take(piece)
        if inflater is not None:
            take(inflater.flush())
    except zlib.error as exc:
        raise FetchError(f"{where}: {encoding} body does not decompress ({exc})") from exc
    return bytes(out)
