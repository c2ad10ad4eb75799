"""SFC e-Distribution JSON API (news, circulars, consultations) → ``Lead``s naming their bodies.

The API backs the SFC's JavaScript pages, so it is the only way to the releases as data:
``POST {base}/api/{endpoint}/search`` with a JSON body lists items newest first
(``{"items": [...], "total": N}``), and ``GET {base}/api/{endpoint}/content?refNo=…&lang=…`` gives
one item's HTML as ``{"html": …}``: its URL goes into ``Lead.body_url`` with ``body_field =
"html"``, and the ingest fetches it for new items only and takes the HTML out of that field. The
reference numbers (``26PR27``, ``26EC6``, ``25CP11``) are the stable item ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from pipeline.dates import HONG_KONG, parse_date
from pipeline.errors import PayloadError, SourceError
from pipeline.fetch.client import Fetcher
from pipeline.fetch.scope import FETCH_OPTIONS
from pipeline.models import Lead, Source
from pipeline.options import Option, Options, one_of, positive_int

DEFAULT_LANG = "EN"
DEFAULT_PAGE_SIZE = 20
# The SFC asks for at least half a second between calls; every item costs one content call.
DEFAULT_MIN_DELAY = 0.5
# On the SFC's own host that half second is a floor a configured ``min_delay`` cannot lower
# (a local test server or a mirror may be asked faster).
SFC_API_HOST = "apps.sfc.hk"
# A daily run needs only the newest page: the SFC publishes a handful of items a day.
PAGES_WITHOUT_SINCE = 1
# A backfill pages back until items are older than ``since``; 250 pages of 20 cover the whole
# news archive (about 5,200 items) and bound a server that keeps answering full pages.
MAX_PAGES_WITH_SINCE = 250
# Circulars of this postDocType are addressed to virtual-asset trading platforms.
VATP_POST_DOC_TYPE = 200
# The field of a content answer that holds the release's HTML.
CONTENT_FIELD = "html"
# newsType of enforcement news.
ENFORCEMENT_NEWS_TYPE = "EF"


@dataclass(frozen=True)
class Endpoint:
    """One family of the e-Distribution API and how its items read."""

    name: str
    sort_field: str
    ref_key: str
    title_key: str
    date_key: str
    # Path of the human page under {base}/gateway/{lang}/.
    page_path: str
    search_fields: dict[str, str]
    extra: Callable[[Source, str, dict[str, Any]], dict[str, Any]]


def _news_extra(source: Source, where: str, item: dict[str, Any]) -> dict[str, Any]:
    targets = item.get("targetCeList")
    if targets is None:
        targets = []
    if not isinstance(targets, list):
        raise PayloadError(f"{where}: 'targetCeList' is not a list ({targets!r})")
    entities: dict[str, None] = {}
    for target in targets:
        if not isinstance(target, dict) or target.get("masked"):
            continue
        name = target.get("ceName")
        if isinstance(name, str) and name.strip():
            entities.setdefault(" ".join(name.split()), None)
    modified = item.get("modificationTime")
    return {
        "doc_type": "enforcement"
        if item.get("newsType") == ENFORCEMENT_NEWS_TYPE
        else source.doc_type,
        "entities": tuple(entities),
        "modified": modified if isinstance(modified, str) and modified else None,
    }


def _circular_extra(source: Source, where: str, item: dict[str, Any]) -> dict[str, Any]:
    post_doc_type = item.get("postDocType")
    is_vatp = str(post_doc_type).strip() == str(VATP_POST_DOC_TYPE)
    return {"doc_type": "vatp_circular" if is_vatp else source.doc_type}


def _consultation_extra(source: Source, where: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"doc_type": source.doc_type}


ENDPOINTS: dict[str, Endpoint] = {
    "news": Endpoint(
        name="news",
        sort_field="issueDate",
        ref_key="newsRefNo",
        title_key="title",
        date_key="issueDate",
        page_path="news-and-announcements/news",
        search_fields={"category": "all", "year": "all", "month": "all"},
        extra=_news_extra,
    ),
    "circular": Endpoint(
        name="circular",
        sort_field="releasedDate",
        ref_key="refNo",
        title_key="title",
        date_key="releasedDate",
        page_path="circular",
        search_fields={"category": "all", "year": "all"},
        extra=_circular_extra,
    ),
    "consultation": Endpoint(
        name="consultation",
        sort_field="cpIssueDate",
        ref_key="cpRefNo",
        title_key="cpTitle",
        date_key="cpIssueDate",
        page_path="consultation",
        search_fields={"category": "", "year": "all"},
        extra=_consultation_extra,
    ),
}


OPTIONS = Options(
    Option("endpoint", one_of(*ENDPOINTS), "the API family read", required=True),
    Option("api_lang", one_of("EN", "TC", "SC"), "the API's language", default=DEFAULT_LANG),
    Option("page_size", positive_int, "items per search page", default=DEFAULT_PAGE_SIZE),
)
# Document types items get besides their source's own.
ASSIGNED_DOC_TYPES = ("enforcement", "vatp_circular")


def search_payload(endpoint: str, *, lang: str, page_no: int, page_size: int) -> dict[str, Any]:
    """The JSON body of a search request, exactly as the SFC's own pages send it."""
    spec = ENDPOINTS[endpoint]
    return {
        "lang": lang,
        **spec.search_fields,
        "pageNo": page_no,
        "pageSize": page_size,
        "sort": {"field": spec.sort_field, "order": "desc"},
    }


async def discover(
    source: Source,
    fetcher: Fetcher,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[Lead]:
    """The newest page of items (back to ``since`` when given), each naming its body's URL.

    Bodies are not fetched here: the ingest fetches them for new items only (and for stored
    ones whose ``modificationTime`` moved), so a daily run costs one search call per source.
    """
    spec = _endpoint(source)
    if not source.urls:
        raise SourceError(f"{source.id}: no search URL configured")
    url = source.urls[0]
    base = _base(source, url)
    lang: str = OPTIONS.value(source, "api_lang")
    page_size: int = OPTIONS.value(source, "page_size")
    fetcher.set_min_delay(url, min_delay_for(source, url))
    floor = _aware(since) if since is not None else None
    pages = MAX_PAGES_WITH_SINCE if since is not None else PAGES_WITHOUT_SINCE

    leads: list[Lead] = []
    read = 0
    for page_no in range(pages):
        payload = search_payload(spec.name, lang=lang, page_no=page_no, page_size=page_size)
        page = await fetcher.post_json(url, payload, expect="json")
        where = f"{source.id}: POST {url} pageNo={page_no}"
        items, total = _search_items(where, page.body)
        batch = [
            _lead(source, spec, base, lang, f"{where}: items[{index}]", item)
            for index, item in enumerate(items)
        ]
        # An item published while paging shifts the pages: the same ref can show twice.
        known = {lead.item_id for lead in leads}
        leads.extend(lead for lead in batch if lead.item_id not in known)
        read += len(items)
        if len(items) < page_size or read >= total:
            break
        if floor is None or _reached(batch, floor):
            break
    return leads


def content_url(base: str, endpoint: str, ref: str, lang: str) -> str:
    """Where one item's HTML is served."""
    return f"{base}/api/{endpoint}/content?{urlencode([('refNo', ref), ('lang', lang)])}"


def page_url(base: str, endpoint: str, ref: str, lang: str) -> str:
    """The human page of an item (a JavaScript shell; the content endpoint has the text)."""
    return (
        f"{base}/gateway/{lang}/{ENDPOINTS[endpoint].page_path}/doc?{urlencode([('refNo', ref)])}"
    )


def _search_items(where: str, body: bytes) -> tuple[list[dict[str, Any]], int]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"{where}: answer is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise PayloadError(f"{where}: answer is a JSON {type(data).__name__}, not an object")
    items = data.get("items")
    if not isinstance(items, list):
        raise PayloadError(f"{where}: 'items' missing or not a list")
    total = data.get("total", len(items))
    if isinstance(total, bool) or not isinstance(total, int):
        raise PayloadError(f"{where}: 'total' is not an integer ({total!r})")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PayloadError(f"{where}: items[{index}] is not an object")
    return items, total


def _lead(
    source: Source, spec: Endpoint, base: str, lang: str, where: str, item: dict[str, Any]
) -> Lead:
    ref = _required_str(where, item, spec.ref_key)
    title = " ".join(_required_str(where, item, spec.title_key).split())
    raw_date = item.get(spec.date_key)
    if raw_date is not None and not isinstance(raw_date, str):
        raise PayloadError(f"{where}: '{spec.date_key}' is not a string ({raw_date!r})")
    return Lead(
        source_id=source.id,
        url=page_url(base, spec.name, ref, lang),
        title=title,
        # Dates come without a zone and are Hong Kong time, which parse_date assumes.
        published_at=parse_date(raw_date) if raw_date else None,
        guid=ref,
        item_id=ref,
        lang=source.lang,
        body_url=content_url(base, spec.name, ref, lang),
        body_field=CONTENT_FIELD,
        **spec.extra(source, where, item),
    )


def _reached(batch: list[Lead], floor: datetime) -> bool:
    """Whether this page already holds items older than ``since`` (pages are newest first)."""
    return any(lead.published_at is not None and lead.published_at < floor for lead in batch)


def _endpoint(source: Source) -> Endpoint:
    return ENDPOINTS[OPTIONS.value(source, "endpoint")]


def _base(source: Source, url: str) -> str:
    base, marker, _ = url.partition("/api/")
    if not marker:
        raise SourceError(f"{source.id}: search URL {url} has no '/api/' part")
    return base


def _required_str(where: str, item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{where}: '{key}' missing or not a string ({value!r})")
    return value.strip()


def min_delay_for(source: Source, url: str) -> float:
    """Seconds between two calls to ``url``'s host: the option, never under 0.5 s at the SFC."""
    configured = "min_delay" in source.options
    value = FETCH_OPTIONS.value(source, "min_delay") if configured else DEFAULT_MIN_DELAY
    if urlsplit(url).hostname == SFC_API_HOST:
        return max(float(value), DEFAULT_MIN_DELAY)
    return float(value)


def _aware(moment: datetime) -> datetime:
    # A naive "since" is a Hong Kong wall-clock time, like every naive time in this pipeline.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=HONG_KONG)
