"""HTML → ``Article``: a cascade of metadata and body finders, then cleaning.

Stages, in the order they are consulted for each field (the first that finds a value wins):

1. structured data: JSON-LD ``NewsArticle``/``Article``/``ReportageNewsArticle`` (also in @graph);
2. OpenGraph and ``<meta>`` tags, ``<link rel=canonical>``, ``<html lang>``;
3. the source's own selectors (``Selectors``): title, body, published, author; ``remove`` first;
4. the generic main-content finder (text and link density), ``<h1>``/``<title>``, ``<time>``,
   the day the URL names (``/2025/11/04/``) and the date the page's text shows by its title or
   after a label ("Published …", "發佈日期"): ``date_offsets.py`` puts a UTC metadata time on
   the publisher's day, ``page_dates.py`` reads the shown date; last, the publication date in
   the page's script data (``script_data.py``), for pages rendered by script.

The body comes from the selectors when they match, else from the generic finder, or from the
JSON-LD ``articleBody`` when that is much longer than what the page shows (script-rendered or
paywalled pages). When none finds any text, a second reading of the page keeps its layout
elements and reads its templates (``second_reading.py``); when that finds no prose either, the
page raises ``ExtractError``. A metadata title loses the site or section suffix after the
page's own heading ("Headline | Markets | Site"), and the language a page does not declare is
detected from its text (``language.detect_lang``).
Before any of it, markup past the extraction budget (``budget.py``: too many tags, nesting too
deep) is refused unread with ``PageTooComplex``.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.clean import clean_article, clean_text
from pipeline.dates import date_from_url, parse_date
from pipeline.errors import ExtractError
from pipeline.extract.block_filter import filter_blocks
from pipeline.extract.boilerplate import prune
from pipeline.extract.budget import check_budget
from pipeline.extract.date_offsets import in_own_offset, with_url_day
from pipeline.extract.decode import looks_binary, parser_input
from pipeline.extract.generic import main_content
from pipeline.extract.language import chinese_script, detect_lang, normalise_lang
from pipeline.extract.page_dates import settle_published
from pipeline.extract.script_data import script_data_date
from pipeline.extract.second_reading import second_reading
from pipeline.extract.selectors import apply_selectors, remove_matches
from pipeline.extract.structured import (
    Found,
    canonical_link,
    element_date,
    from_json_ld,
    from_meta,
    html_lang,
    without_site_name,
)
from pipeline.extract.textblocks import Block, blocks
from pipeline.models import Article, Selectors

__all__ = ["extract_article", "extract_html_fragment", "find_published"]

log = logging.getLogger(__name__)

# When the page's visible body holds less than this share of the JSON-LD articleBody, the body
# is rendered by script (or cut by a paywall) and the structured copy is the better text.
ARTICLE_BODY_PREFERRED_BELOW = 0.5
# A JSON-LD articleBody shorter than this is a teaser, not the article.
MIN_ARTICLE_BODY_CHARS = 200
# Headings compared with a metadata title to find its site or section suffix; the article's
# own <h1> comes early, and pages with dozens of them (listings) are not articles anyway.
MAX_HEADINGS_CHECKED = 3
# What follows a headline in "Headline | Site", "Headline - Site", "Headline-정치ㅣ한국일보".
_SUFFIX_STARTS = frozenset("|-–—:·»«ㅣ/")
# "Published: 3 Nov 2025", "發佈日期：2025年11月3日": a label before the date.
_DATE_LABEL = re.compile(r"^[^\d:：]{1,30}[:：]\s*")


def extract_article(
    html: bytes | str,
    url: str,
    *,
    fetched_at: datetime | None = None,
    selectors: Selectors | None = None,
) -> Article:
    """Extract a clean ``Article`` from a page; raises ``ExtractError`` naming the URL if empty,
    ``PageTooComplex`` (before parsing) if past the budget in ``budget.py``."""
    tree = _parse(html, url)

    # Stages 1 and 2 read the untouched tree: JSON-LD lives in <script>, which pruning removes.
    structured = from_json_ld(tree)
    # Microdata dates need a walk of the page: skip it when JSON-LD gave the dates.
    meta = from_meta(tree, microdata=structured.published is None)
    canonical = canonical_link(tree)
    declared_lang = html_lang(tree)

    # Stage 3: the source's selectors.
    if selectors is not None and selectors.remove:
        remove_matches(tree, selectors.remove, url)
    by_selector = apply_selectors(tree, selectors, url) if selectors else None
    chosen_body = filter_blocks(by_selector.body) if by_selector else []

    stages = [structured, meta] if by_selector is None else [structured, meta, by_selector.found]
    title = _first([s.title for s in stages])

    # Stage 4: generic finders for what is still missing; title and date first, because
    # pruning for the body removes bylines and the dates in them.
    if title is None:
        title = _generic_title(tree)
    elif by_selector is None or by_selector.found.title is None:
        title = _without_suffix(title, tree)
    published, modified = _dates(tree, url, canonical, stages, fetched_at)
    text = _body_text(tree, chosen_body, title, structured.body)
    if not text.strip() and not chosen_body:
        text = _read_again(html, url, title, selectors)
    if not text.strip():
        raise ExtractError(
            f"{url}: no article text found (no selector, generic, JSON-LD or second-reading body)"
        )

    lang = _language(declared_lang, meta.lang, structured.lang, text)
    article = Article(
        url=url,
        title=without_site_name(title or "", meta.site_name),
        text=text,
        published_at=published,
        modified_at=modified,
        author=_first([s.author for s in stages]),
        lang=lang,
        canonical_url=_absolute(url, canonical or meta.url) or url,
        description=_first([structured.description, meta.description]),
        image_url=_absolute(url, structured.image or meta.image),
    )
    return clean_article(article)


def find_published(
    html: bytes | str, url: str, *, fetched_at: datetime | None = None
) -> datetime | None:
    """The page's publication date alone, found as ``extract_article`` finds it for a source
    with no selectors, without reading the body; ``ExtractError`` as there for a bad page."""
    tree = _parse(html, url)
    structured = from_json_ld(tree)
    meta = from_meta(tree, microdata=structured.published is None)
    return _dates(tree, url, canonical_link(tree), [structured, meta], fetched_at)[0]


def _dates(
    tree: LexborHTMLParser,
    url: str,
    canonical: str | None,
    stages: list[Found],
    fetched_at: datetime | None,
) -> tuple[datetime | None, datetime | None]:
    """The published and modified dates: the stages' own, else the page's ``<time>``, settled
    by the URL's day and the date the page shows (before pruning, which removes bylines)."""
    published = _first_date([s.published for s in stages], fetched_at)
    from_metadata = published is not None
    if published is None:
        published = _first_date([_generic_date(tree)], fetched_at)
    # The offsets the page states, the URL's day and the date the page's text shows
    # (page_dates.py) settle the date: a UTC time falls on the publisher's day, a lone <time> or
    # a re-published page's first date gives way to the date shown by the title, and a page
    # with no date takes the shown one.
    url_day = date_from_url(canonical or url, now=fetched_at)
    stated = [stage.published for stage in stages]
    published = with_url_day(in_own_offset(tree, published, stated), url_day)
    modified = _first_date([stages[0].modified, stages[1].modified], fetched_at)
    from_time_element = published is not None and not from_metadata and url_day is None
    published = settle_published(
        tree, published, modified, now=fetched_at, from_time_element=from_time_element
    )
    if published is None:
        # Last, the article's record in the page's script data (pages rendered by script).
        published = script_data_date(tree, now=fetched_at)
    return published, modified


def _parse(html: bytes | str, url: str) -> LexborHTMLParser:
    """The page's tree; ``ExtractError`` for a page past the budget, empty or not text."""
    check_budget(html, url)
    if not html or not html.strip():
        raise ExtractError(f"{url}: empty page, no article text")
    if looks_binary(html):
        raise ExtractError(f"{url}: body is binary data, not an HTML page")
    return LexborHTMLParser(parser_input(html), scripting=True)


def _body_text(
    tree: LexborHTMLParser,
    chosen_body: list[Block],
    title: str | None,
    article_body: str | None,
) -> str:
    """The selectors' body when they found one, else the generic finder's (or the JSON-LD
    ``articleBody`` when that is much longer); paragraphs separated by blank lines."""
    if chosen_body:
        return "\n\n".join(block.text for block in chosen_body)
    prune(tree)
    text = "\n\n".join(block.text for block in main_content(tree, title))
    return _prefer_article_body(text, article_body)


def _read_again(html: bytes | str, url: str, title: str | None, selectors: Selectors | None) -> str:
    """The body a second reading finds (``second_reading.py``) in a fresh tree, less what the
    source's selectors remove: the first reading's pruning removed the article itself, or it is
    a template a script renders."""
    tree = _parse(html, url)
    if selectors is not None and selectors.remove:
        remove_matches(tree, selectors.remove, url)
    return second_reading(tree, title)


def extract_html_fragment(html: str, url: str) -> str:
    """Clean paragraph text of an HTML fragment (e.g. an SFC API ``html`` field); raises
    ``PageTooComplex`` (before parsing) if past the budget in ``budget.py``."""
    check_budget(html, url)
    if not html or not html.strip():
        return ""
    # Parsed as a document, the fragment lands in <body> whatever its top-level shape. The
    # fragment is the article body itself, so nothing is filtered out but page furniture
    # that clean_text recognises; ``url`` only names the item in log messages.
    body = LexborHTMLParser(html).body
    if body is None:
        log.debug("%s: HTML fragment has no body", url)
        return ""
    return clean_text("\n\n".join(block.text for block in blocks(body)))


def _generic_title(tree: LexborHTMLParser) -> str | None:
    for query in ("article h1", "main h1", "h1", "title"):
        node = tree.css_first(query)
        if node is not None:
            text = " ".join(node.text(deep=True).split())
            if text:
                return text
    return None


def _without_suffix(title: str, tree: LexborHTMLParser) -> str:
    """``"Headline | Section | Site"`` → ``"Headline"`` when the page's heading says just that."""
    spaced = " ".join(title.split())
    for node in tree.css("h1")[:MAX_HEADINGS_CHECKED]:
        heading = " ".join(node.text(deep=True).split())
        if not heading or len(heading) >= len(spaced) or not spaced.startswith(heading):
            continue
        rest = spaced[len(heading) :].lstrip()
        # A site name set in a page-header <h1> also starts "Site - Headline": a heading
        # shorter than the rest counts only inside the article.
        if rest[:1] in _SUFFIX_STARTS and (
            len(heading) >= len(rest) or _inside(node, ("article", "main"))
        ):
            return heading
    return title


def _generic_date(tree: LexborHTMLParser) -> str | None:
    times = tree.css("time[datetime]")
    # The article's own <time>, before one in a header clock or a list of other stories.
    # Answers are shared between the <time>s: a page of thousands of them, deep in the tree,
    # would otherwise walk the same ancestors once per <time>.
    known: dict[int, bool] = {}
    for node in times:
        if _inside(node, ("article", "main"), known) or "pubdate" in node.attributes:
            return element_date(node)
    return element_date(times[0]) if times else None


def _inside(node: LexborNode, tags: tuple[str, ...], known: dict[int, bool] | None = None) -> bool:
    """Whether an ancestor of ``node`` is one of ``tags``; ``known`` keeps answers by element
    between calls on the same tree, so shared ancestors are walked once."""
    path: list[int] = []
    answer = False
    ancestor = node.parent
    while ancestor is not None:
        key = ancestor.mem_id
        if known is not None and key in known:
            answer = known[key]
            break
        if ancestor.tag in tags:
            answer = True
            break
        path.append(key)
        ancestor = ancestor.parent
    if known is not None:
        # Every element walked lies below the answer found: it has the same one.
        known.update(dict.fromkeys(path, answer))
    return answer


def _first(values: list[str | None]) -> str | None:
    for value in values:
        if value and value.strip():
            return value
    return None


def _first_date(values: list[str | None], now: datetime | None) -> datetime | None:
    for value in values:
        if not value:
            continue
        parsed = parse_date(value, now=now)
        if parsed is None:
            label_free = _DATE_LABEL.sub("", value)
            if label_free != value:
                parsed = parse_date(label_free, now=now)
        if parsed is not None:
            return parsed
    return None


def _prefer_article_body(text: str, article_body: str | None) -> str:
    if not article_body or len(article_body) < MIN_ARTICLE_BODY_CHARS:
        return text
    if len(text) >= len(article_body) * ARTICLE_BODY_PREFERRED_BELOW:
        return text
    # The structured copy separates paragraphs by newlines, if at all; keep what it has.
    return "\n\n".join(line.strip() for line in article_body.splitlines() if line.strip())


def _language(
    declared: str | None, meta_lang: str | None, structured_lang: str | None, text: str
) -> str | None:
    for value in (declared, meta_lang, structured_lang):
        if not value:
            continue
        lang = normalise_lang(value)
        if lang is not None:
            return lang
        if value.strip().lower().startswith("zh"):
            return chinese_script(text)
    return detect_lang(text)


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if href.startswith("//"):
        scheme = base.split(":", 1)[0] if ":" in base else "https"
        return f"{scheme}:{href}"
    try:
        return urljoin(base, href)
    except ValueError:
        return None
