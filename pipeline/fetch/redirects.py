"""Redirects, followed by hand one hop at a time, so every hop goes through robots.txt,
politeness and retries like the first request did (httpx's own following would skip them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urljoin

from pipeline.errors import LimitExceeded
from pipeline.fetch.exchange import Answer

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# One hop: (method, url, headers, JSON body) → the answer after retries.
Hop = Callable[[str, str, Mapping[str, str], Any], Awaitable[Answer]]


def redirect_target(url: str, answer: Answer) -> str | None:
    """Where ``answer`` to a request for ``url`` redirects to, or None if it does not."""
    location = answer.headers.get("location")
    if answer.status not in REDIRECT_STATUSES or not location:
        return None
    return urljoin(url, location)


async def follow(
    hop: Hop,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    first_headers: Mapping[str, str],
    json_body: Any,
    max_redirects: int,
    where: str,
) -> tuple[Answer, str]:
    """Send the request through ``hop`` and follow its redirects, at most ``max_redirects``;
    returns the last answer and the URL it came from. ``first_headers`` go with the first hop
    only (conditional headers), ``headers`` with the ones after it."""
    current = url
    hops = [url]
    send_headers = first_headers
    for _ in range(max_redirects + 1):
        answer = await hop(method, current, send_headers, json_body)
        target = redirect_target(current, answer)
        if target is None:
            return answer, current
        current = target
        hops.append(current)
        # What browsers do: a 303, and a 301/302 after a POST, are fetched again with GET.
        if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
            method, json_body = "GET", None
        # Validators belong to the URL they were stored for, not to where it now points.
        send_headers = headers
    shown = " → ".join(hops[-4:])
    raise LimitExceeded(f"{where}: more than {max_redirects} redirects (… {shown})")
