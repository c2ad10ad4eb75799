"""Stage 4a, build: one fetched item → a clean ``Article`` tied to its source and lead. No I/O.

The body is the lead's own (an API that gives it), the HTML unwrapped at fetch time, or the
fetched page read by the extraction cascade; what the page lacks, the lead fills in.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, time

from pipeline.canonical import canonical_url
from pipeline.charset import page_markup
from pipeline.errors import ExtractError
from pipeline.extract import extract_article, extract_html_fragment
from pipeline.ingest.records import Fetched
from pipeline.models import Article, Lead, Source


def build_article(item: Fetched) -> Article:
    """Extract and clean the article of one fetched item, filling what the lead knows."""
    source, lead = item.planned.source, item.planned.lead
    body_html = lead.body_html if lead.body_html is not None else item.body_html
    if body_html is not None:
        article = _from_fragment(source, lead, body_html)
    else:
        if item.page is None:
            raise ExtractError(f"{lead.url}: no page was fetched")
        article = extract_article(
            page_markup(item.page),
            item.page.final_url,
            fetched_at=item.page.fetched_at,
            selectors=source.selectors,
        )
    return dataclasses.replace(
        article,
        title=article.title or lead.title,
        published_at=_published(article.published_at, lead.published_at),
        author=article.author or lead.author,
        description=article.description or lead.summary or None,
        canonical_url=article.canonical_url or canonical_url(lead.url),
        lang=article.lang or lead.lang or source.lang,
        source_id=source.id,
        item_id=lead.item_id,
        doc_type=lead.doc_type or source.doc_type,
        regulator=source.regulator,
        categories=lead.categories,
        entities=lead.entities,
    )


def _published(on_page: datetime | None, in_lead: datetime | None) -> datetime | None:
    """The page's date, unless the page shows only a day (midnight: a date read from its text
    or URL) on which the lead's time falls: the feed's time of that day is the more precise."""
    if on_page is None or in_lead is None:
        return on_page or in_lead
    day_only = on_page.tzinfo is not None and on_page.time() == time(0)
    if day_only and in_lead.astimezone(on_page.tzinfo).date() == on_page.date():
        return in_lead
    return on_page


def _from_fragment(source: Source, lead: Lead, body_html: str) -> Article:
    """An article whose body is an HTML fragment (no page around it to read metadata from)."""
    text = extract_html_fragment(body_html, lead.url)
    return Article(
        url=lead.url,
        title=lead.title,
        text=text or lead.summary or lead.title,
        canonical_url=canonical_url(lead.url),
        lang=lead.lang or source.lang,
    )
