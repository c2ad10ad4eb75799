"""HKMA Open API listings (press releases, insight articles) → ``Lead``s.

``GET {url}?lang=en&pagesize=100&offset=0`` answers
``{"header": {"success", "err_code", "err_msg"}, "result": {"datasize", "records": [{title, link,
date}]}}``. ``header.success`` false is a failure even with HTTP 200. Records carry only a
title, a link and a date (``YYYY-MM-DD``, read as midnight in Hong Kong); the body is the page.

The API has been down for whole days while www.hkma.gov.hk answered, so a source may name
``options.fallback_urls``: the HKMA RSS feeds of the same items. When the API fails, those are
read instead and the leads carry a note saying so (the run record keeps it); the release ids
(``YYYYMMDD-N``) are the same either way, so nothing is stored twice when the API is back.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from pipeline.dates import HONG_KONG, parse_date
from pipeline.errors import ApiError, FeedError, FetchError, PayloadError, SourceError
from pipeline.fetch.client import Fetcher
from pipeline.models import Lead, Source
from pipeline.options import Option, Options, one_of, positive_int, url_list
from pipeline.sources.feeds import parse_feed
from pipeline.sources.leads import Leads

DEFAULT_LANG = "en"
# The API's default page size; the docs disagree on the maximum (100 or 1000), so stay at 100.
DEFAULT_PAGESIZE = 100
# A backfill over years is about a thousand releases a year; 50 pages of 100 covers a decade,
# and stops a server that always answers "full page" from keeping a run busy for ever.
MAX_PAGES = 50

OPTIONS = Options(
    Option("api_lang", one_of("en", "tc", "sc"), "the API's language", default=DEFAULT_LANG),
    Option("pagesize", positive_int, "records per API page", default=DEFAULT_PAGESIZE),
    Option(
        "fallback_urls", url_list, "RSS feeds of the same items, read when the API fails",
        default=[],
    ),
)


async def discover(
    source: Source,
    fetcher: Fetcher,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[Lead]:
    """Every record the API lists (from ``since`` to ``now``'s day when given), oldest page last.

    ``now`` defaults to the wall clock; replays and tests pass the time their answers were
    recorded, so the date window they ask for is the one on record.
    """
    fallback = list(OPTIONS.value(source, "fallback_urls"))
    try:
        return await _from_api(source, fetcher, since=since, now=now)
    except (FetchError, ApiError, PayloadError) as exc:
        if not fallback:
            raise
        return await _from_feeds(source, fetcher, fallback, exc)


async def _from_api(
    source: Source, fetcher: Fetcher, *, since: datetime | None, now: datetime | None
) -> list[Lead]:
    lang = OPTIONS.value(source, "api_lang")
    pagesize = OPTIONS.value(source, "pagesize")
    leads: list[Lead] = []
    for url in source.urls:
        offset = 0
        for _ in range(MAX_PAGES):
            page_url = listing_url(
                url, lang=lang, pagesize=pagesize, offset=offset, since=since, now=now
            )
            page = await fetcher.get(page_url, expect="json", conditional=True)
            # Not modified since the last complete run: this listing holds nothing new.
            if page.status == 304:
                break
            records, datasize = _records(source, page_url, page.body)
            leads.extend(
                _lead(source, page_url, index, record) for index, record in enumerate(records)
            )
            if not _has_more(datasize, offset, len(records), pagesize):
                break
            offset += pagesize
    return leads


async def _from_feeds(
    source: Source, fetcher: Fetcher, urls: list[str], api_error: Exception
) -> Leads:
    """The fallback feeds' items, with a note that the API failed; both failures if they fail."""
    leads: list[Lead] = []
    for url in urls:
        try:
            page = await fetcher.get(url)
            found = parse_feed(page.body, page.final_url or url)
        except (FetchError, FeedError, PayloadError) as exc:
            message = f"{source.id}: API failed ({api_error}) and so did the fallback feed {url}"
            # Both unreachable is a network fault, which the flow retries; a broken feed is not.
            kind = FetchError if isinstance(exc, FetchError) else SourceError
            raise kind(f"{message} ({exc})") from exc
        leads.extend(
            dataclasses.replace(lead, source_id=source.id, doc_type=source.doc_type)
            for lead in found
        )
    note = (
        f"API failed ({api_error}); used the RSS fallback "
        f"{', '.join(urls)} instead ({len(leads)} items)"
    )
    return Leads(leads, [note])


def listing_url(
    url: str,
    *,
    lang: str,
    pagesize: int,
    offset: int,
    since: datetime | None = None,
    now: datetime | None = None,
) -> str:
    """The listing query, parameters in a fixed order so recorded answers match it."""
    params: list[tuple[str, str]] = [
        ("lang", lang),
        ("pagesize", str(pagesize)),
        ("offset", str(offset)),
    ]
    if since is not None:
        params += [
            ("choose", "date"),
            ("from", _hong_kong_date(since).isoformat()),
            ("to", _hong_kong_date(now or datetime.now(HONG_KONG)).isoformat()),
        ]
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _has_more(datasize: int, offset: int, count: int, pagesize: int) -> bool:
    """Whether another page may hold records.

    Sources disagree whether ``datasize`` counts this page's records or the whole result, so
    both readings are honoured: a full page whose datasize equals its length, or a total
    larger than what was read so far.
    """
    if count < pagesize:
        return False
    return datasize == count or datasize > offset + count


def _records(source: Source, url: str, body: bytes) -> tuple[list[dict[str, Any]], int]:
    where = f"{source.id}: {url}"
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"{where}: answer is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise PayloadError(f"{where}: answer is a JSON {type(data).__name__}, not an object")
    header = data.get("header")
    if not isinstance(header, dict):
        raise PayloadError(f"{where}: 'header' missing or not an object")
    if header.get("success") is not True:
        raise ApiError(
            f"{where}: API reported failure "
            f"(err_code {header.get('err_code')!r}, err_msg {header.get('err_msg')!r})"
        )
    result = data.get("result")
    if not isinstance(result, dict):
        raise PayloadError(f"{where}: 'result' missing or not an object")
    records = result.get("records")
    if not isinstance(records, list):
        raise PayloadError(f"{where}: 'result.records' missing or not a list")
    datasize = result.get("datasize", len(records))
    if isinstance(datasize, bool) or not isinstance(datasize, int):
        raise PayloadError(f"{where}: 'result.datasize' is not an integer ({datasize!r})")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise PayloadError(f"{where}: result.records[{index}] is not an object")
    return records, datasize


def _lead(source: Source, url: str, index: int, record: dict[str, Any]) -> Lead:
    where = f"{source.id}: {url}: result.records[{index}]"
    fields: dict[str, str] = {}
    for key in ("title", "link", "date"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            raise PayloadError(f"{where}: '{key}' missing or not a string ({value!r})")
        fields[key] = value.strip()
    return Lead(
        source_id=source.id,
        url=fields["link"],
        title=" ".join(fields["title"].split()),
        published_at=parse_date(fields["date"]),
        guid=fields["link"],
        doc_type=source.doc_type,
        lang=source.lang,
    )


def _hong_kong_date(moment: datetime) -> date:
    # A naive "since" is a Hong Kong wall-clock time, like every naive time in this pipeline.
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(HONG_KONG).date()
