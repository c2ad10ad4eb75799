"""Stages 1 and 3, on the network: discover a source's leads, fetch the planned items' pages.

A failed page is kept as that item's error and the others go on; a source whose time budget
runs out fails as a whole. A body served as JSON wrapping the HTML (the lead names the field)
is unwrapped here, so later stages see HTML and never go back to the source's adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from pipeline.errors import BudgetExceeded, NewswatchError, RobotsDisallowed
from pipeline.fetch import Fetcher
from pipeline.fetch.content import Expect, html_in_json
from pipeline.ingest import progress
from pipeline.ingest.records import Action, Fetched, Planned
from pipeline.models import Lead, Source
from pipeline.sources import discover


async def discover_source(
    source: Source, fetcher: Fetcher, since: datetime | None, now: datetime | None = None
) -> list[Lead]:
    """Stage 1: the leads a source lists at ``now`` (default: the wall clock)."""
    with fetcher.source_scope(source):
        return await discover(source, fetcher, since=since, now=now)


async def fetch_items(items: Sequence[Planned], fetcher: Fetcher) -> list[Fetched]:
    """Stage 3: fetch the pages of planned items concurrently; a failed page is kept as an error.

    A source whose time budget runs out fails as a whole (``BudgetExceeded`` is raised once all
    its fetches have settled); a page robots.txt disallows is kept as skipped.
    """
    spent: list[BudgetExceeded] = []

    async def one(item: Planned) -> Fetched:
        try:
            return await attempt(item)
        finally:
            progress.items_fetched()

    async def attempt(item: Planned) -> Fetched:
        if item.action not in (Action.fetch, Action.update) or item.fetch_url is None:
            return Fetched(item)
        lead = item.lead
        try:
            with fetcher.source_scope(item.source):
                page = await fetcher.get(item.fetch_url, expect=_expected(lead))
            body = html_in_json(page, lead.body_field) if lead.body_field else None
            return Fetched(item, page=page, body_html=body)
        except RobotsDisallowed as exc:
            return Fetched(item, skipped=str(exc))
        except BudgetExceeded as exc:
            spent.append(exc)
            return Fetched(item, error=str(exc))
        except NewswatchError as exc:
            return Fetched(item, error=str(exc))

    fetched = list(await asyncio.gather(*(one(item) for item in items)))
    if spent:
        raise spent[0]
    return fetched


def _expected(lead: Lead) -> Expect:
    """What the answer must be: JSON when it wraps the body, else an HTML page."""
    return "json" if lead.body_field else "html"
