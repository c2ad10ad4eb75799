"""The ``rss`` source adapter: RSS 0.9x/1.0/2.0, Atom and JSON Feed sources.

Parsing lives in ``pipeline.sources.feeds``; ``parse_feed`` (public and stable, DESIGN.md) is
importable from here as well.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from pipeline.errors import FeedError
from pipeline.fetch.client import Fetcher
from pipeline.models import Lead, Source
from pipeline.options import Option, Options, url_template
from pipeline.sources.feeds import parse_feed
from pipeline.sources.ids import stable_item_id
from pipeline.sources.leads import MAX_ITEMS, Leads

__all__ = ["OPTIONS", "discover", "parse_feed", "trim_feed"]

# Where an RSS item or an Atom entry starts (not <items>, <itemsPerPage>…).
_ITEM_START = re.compile(rb"<(?:item|entry)[\s>/]")

OPTIONS = Options(
    Option(
        "body_url",
        url_template("{item_id}"),
        "where an item's body is served when its link is a script shell: a URL with {item_id}",
    ),
    MAX_ITEMS,
)


async def discover(
    source: Source,
    fetcher: Fetcher,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[Lead]:
    """GET each of the source's feed URLs and parse them, in order; ``since`` is not needed.

    A feed lists what it lists: unlike the regulators' APIs it cannot be paged back in time. A
    feed of more than ``max_items`` items is cut before parsing (a note says so), so an
    enormous one costs what its first items cost.
    """
    leads: list[Lead] = []
    notes: list[str] = []
    limit: int = OPTIONS.value(source, "max_items")
    for url in source.urls:
        page = await fetcher.get(url, conditional=True)
        # Not modified since the last complete run: nothing new from this feed. The body's kind
        # is checked by parse_feed, whose FeedError names the HTML page served instead.
        if page.status == 304:
            continue
        body, listed = trim_feed(page.body, limit)
        if listed is not None:
            notes.append(
                f"{url} listed {listed:,} items; the first {limit:,} were read (options.max_items)"
            )
        try:
            found = parse_feed(body, page.final_url or url)
        except FeedError as exc:
            raise FeedError(
                f"{source.id}: {url}: {exc} "
                f"(HTTP {page.status}, content-type {page.content_type or 'none'})"
            ) from exc
        leads.extend(
            dataclasses.replace(
                lead, source_id=source.id, lang=source.lang, body_url=_body_url(source, lead)
            )
            for lead in found
        )
    return Leads(leads, notes)


def trim_feed(body: bytes, limit: int) -> tuple[bytes, int | None]:
    """An XML feed cut before its item ``limit + 1`` (feedparser reads a cut feed), and how
    many items it listed when it was cut; other bodies as they are."""
    starts = _ITEM_START.finditer(body)
    for count, match in enumerate(starts, start=1):
        if count > limit:
            listed = count + sum(1 for _ in starts)
            return body[: match.start()], listed
    return body, None


def _body_url(source: Source, lead: Lead) -> str | None:
    """Where the item's body is served when ``options.body_url`` names a template for it."""
    template = OPTIONS.value(source, "body_url")
    if template is None:
        return None
    item_id = stable_item_id(source, lead.url, lead.guid, lead.item_id)
    return template.format(item_id=item_id) if item_id else None
