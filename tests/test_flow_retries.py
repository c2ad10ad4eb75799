"""Network tasks are retried by Prefect on network faults only, in real flow runs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pipeline.errors import FeedError, FetchError, ForbiddenAddress, LimitExceeded

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def run_flaky_task(first_error: Exception) -> tuple[list[int], BaseException | None]:
    """Run a task that raises ``first_error`` on its first call; its calls and final error."""
    from prefect import flow, task

    from flows.daily_ingest import NETWORK_RETRIES, is_network_fault

    calls: list[int] = []

    @task(retries=NETWORK_RETRIES, retry_delay_seconds=0, retry_condition_fn=is_network_fault)
    async def flaky() -> str:
        calls.append(len(calls) + 1)
        if len(calls) == 1:
            raise first_error
        return "read"

    @flow
    async def one_source() -> str:
        return await flaky()

    try:
        asyncio.run(one_source())
    except Exception as exc:
        return calls, exc
    return calls, None


def test_a_fetch_error_is_retried_and_the_task_then_succeeds(prefect_harness: None) -> None:
    calls, error = run_flaky_task(FetchError("https://api.example/x: HTTP 503"))
    assert calls == [1, 2]
    assert error is None


def test_a_feed_error_is_not_retried(prefect_harness: None) -> None:
    calls, error = run_flaky_task(FeedError("https://api.example/x: not a feed"))
    assert calls == [1]
    assert isinstance(error, FeedError)


def test_the_network_tasks_use_the_network_fault_condition() -> None:
    from flows.daily_ingest import discover_task, fetch_task, is_network_fault

    for network_task in (discover_task, fetch_task):
        assert network_task.retries >= 1
        assert network_task.retry_condition_fn is is_network_fault


def test_a_limit_exceeded_is_not_retried(prefect_harness: None) -> None:
    # A body over the size cap or a redirect loop is the same on a retry.
    calls, error = run_flaky_task(LimitExceeded("https://x.example/feed: more than 5 redirects"))
    assert calls == [1]
    assert isinstance(error, LimitExceeded)


def test_a_forbidden_address_is_not_retried(prefect_harness: None) -> None:
    # A host that resolves inside the network boundary resolves there on a retry too.
    refused = ForbiddenAddress("http://127.0.0.2/: 127.0.0.2 is a loopback address")
    calls, error = run_flaky_task(refused)
    assert calls == [1]
    assert isinstance(error, ForbiddenAddress)
