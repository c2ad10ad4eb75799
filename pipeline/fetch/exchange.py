"""One attempt at a request: send it, read the whole answer within its time limit, and sort
what went wrong into a fault worth another attempt (``Retryable``) or a final error."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

from pipeline.errors import BudgetExceeded, FetchError
from pipeline.fetch.replay import ReplayMiss
from pipeline.fetch.scope import SourceScope


@dataclass(frozen=True)
class Answer:
    """What one attempt got back: the status, the headers (lower-case names), the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Retryable(Exception):
    """A fault worth another attempt; ``fault`` says what it was for the final message."""

    def __init__(self, fault: str, retry_after: float | None = None) -> None:
        super().__init__(fault)
        self.fault = fault
        self.retry_after = retry_after


def time_limit(total_timeout: float, scope: SourceScope | None) -> tuple[float, bool]:
    """Seconds one attempt may take, and whether the source's remaining budget (rather than
    ``total_timeout``) is what sets them."""
    if scope is None:
        return total_timeout, False
    budget_bound = scope.remaining() < total_timeout
    return max(min(total_timeout, scope.remaining()), 0.0), budget_bound


async def send_once(
    client: httpx.AsyncClient,
    request: httpx.Request,
    read_body: Callable[[httpx.Response], Awaitable[bytes]],
    *,
    where: str,
    limit: float,
    budget_of: SourceScope | None = None,
) -> Answer:
    """Send ``request`` and read its answer with ``read_body``, all within ``limit`` seconds;
    ``budget_of`` is the scope whose budget set the limit, if it did (running out is then
    ``BudgetExceeded``, not a fault to retry)."""
    try:
        async with asyncio.timeout(limit):
            response = await client.send(request, stream=True)
            try:
                body = await read_body(response)
            finally:
                await response.aclose()
    except TimeoutError:
        if budget_of is not None:
            raise BudgetExceeded(
                f"{where}: time budget of {budget_of.budget:g} s for source "
                f"{budget_of.source_id!r} spent while reading the answer"
            ) from None
        raise Retryable(
            f"answer not complete within the total time limit of {limit:g} s "
            "(a body that trickles?)"
        ) from None
    except httpx.TimeoutException as exc:
        raise Retryable(f"timed out ({type(exc).__name__})") from exc
    # Before the network errors: a replay miss is a TransportError too, but asking again
    # cannot find a recording that is not there.
    except ReplayMiss as exc:
        raise FetchError(f"{where}: {exc}") from exc
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        detail = str(exc) or "connection closed"
        raise Retryable(f"{type(exc).__name__}: {detail}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{where}: {type(exc).__name__}: {exc}") from exc
    return Answer(
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=body,
    )
