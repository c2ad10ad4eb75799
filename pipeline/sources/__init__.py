"""Source adapters: one module per source kind turns a ``Source`` into the ``Lead``s it lists now.

Each adapter module (``rss``, ``hkma_api``, ``sfc_api``, ``html_index``, ``sitemap``) has
``async def discover(source, fetcher, *, since=None, now=None) -> list[Lead]``. ``discover`` here
picks the adapter by ``source.kind`` and gives every lead what the ingest keys on: the source id,
the stable item id, the document type and the language, once per item.

An adapter that had to fall back (the HKMA API down, its RSS feed read instead) returns a
``Leads`` list whose ``notes`` say so; the run record keeps them. A lead is complete when it
leaves here: its body given (``body_html``), or where to fetch it (``body_url``, and
``body_field`` when the answer is JSON wrapping the HTML), so the ingest never comes back to an
adapter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import cast

from pipeline.errors import SourceError
from pipeline.fetch.client import Fetcher
from pipeline.models import Lead, Source
from pipeline.sources.ids import stable_item_id
from pipeline.sources.leads import Leads, cap_leads, notes_of
from pipeline.sources.registry import adapter_module, adapter_options

Adapter = Callable[..., Awaitable[list[Lead]]]

__all__ = [
    "Leads",
    "discover",
    "finish_leads",
    "notes_of",
    "stable_item_id",
]


async def discover(
    source: Source,
    fetcher: Fetcher,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[Lead]:
    """The leads ``source`` lists at ``now`` (default: the wall clock), in feed order, one per
    item; raises ``SourceError``."""
    adapter = _adapter(source)
    try:
        leads = await adapter(source, fetcher, since=since, now=now)
    except SourceError as exc:
        named = _naming_source(exc, source)
        if named is exc:
            raise
        raise named from exc
    finished = finish_leads(source, leads)
    notes = notes_of(leads)
    declared = adapter_options(source.kind)
    if "max_items" in declared.by_name:
        finished, capped = cap_leads(source, finished, declared.value(source, "max_items"))
        notes.extend(capped)
    return Leads(finished, notes)


def finish_leads(source: Source, leads: Iterable[Lead]) -> list[Lead]:
    """Fill source id, stable item id, doc type and language; drop repeats and unlinked items."""
    seen: set[str] = set()
    finished: list[Lead] = []
    for lead in leads:
        # An item without a link cannot be fetched or keyed; feeds do carry such entries.
        if not lead.url:
            continue
        item_id = stable_item_id(source, lead.url, lead.guid, lead.item_id)
        key = item_id or lead.url
        if key in seen:
            continue
        seen.add(key)
        finished.append(
            dataclasses.replace(
                lead,
                source_id=source.id,
                item_id=item_id,
                doc_type=lead.doc_type or source.doc_type,
                lang=source.lang,
            )
        )
    return finished


def _adapter(source: Source) -> Adapter:
    try:
        module = adapter_module(source.kind)
    except SourceError as exc:
        raise SourceError(f"{source.id}: {exc}") from exc
    adapter = getattr(module, "discover", None)
    if not callable(adapter):
        raise SourceError(f"{source.id}: adapter for source kind {source.kind!r} has no discover()")
    return cast(Adapter, adapter)


def _naming_source(exc: SourceError, source: Source) -> SourceError:
    """The same error with the source id in front, so a run record says which source failed."""
    message = str(exc)
    if message.startswith(f"{source.id}:"):
        return exc
    try:
        return type(exc)(f"{source.id}: {message}")
    except TypeError:
        return exc
