"""Metadata a page states about itself: JSON-LD (stage 1), OpenGraph and ``<meta>`` (stage 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

# schema.org types whose properties describe the article itself.
ARTICLE_TYPES = frozenset(
    {
        "NewsArticle",
        "Article",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "TechArticle",
        "ScholarlyArticle",
        "Report",
        "SocialMediaPosting",
        "ClaimReview",
    }
)
# Page-level types that often carry the dates when no article node does.
PAGE_TYPES = frozenset({"WebPage", "ItemPage", "CollectionPage"})
# JSON-LD nests nodes (@graph, mainEntity, isPartOf…); deeper than this is not an article.
MAX_JSONLD_DEPTH = 6
# A JSON-LD block larger than this is a data dump (product catalogue, full archive), not metadata.
MAX_JSONLD_CHARS = 2_000_000

# What sites put between a headline and their name in <title> and og:title.
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " « ", " » ")
_JSON_LD_WRAPPERS = ("<!--", "//<![CDATA[", "/*<![CDATA[*/", "<![CDATA[")
_JSON_LD_WRAPPER_ENDS = ("-->", "//]]>", "/*]]>*/", "]]>")
# Meta keys per field, most specific first (property=, name= and itemprop= share one namespace).
META_TITLE = ("og:title", "twitter:title", "dc.title", "headline")
META_PUBLISHED = (
    "article:published_time",
    "og:article:published_time",
    "article:published:time",
    "datepublished",
    "article.published",
    "publish-date",
    "publishdate",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "date",
    "og:published_time",
    "article:published",
    "release_date",
)
META_MODIFIED = (
    "article:modified_time",
    "og:updated_time",
    "article:modified:time",
    "datemodified",
    "article.updated",
    "dcterms.modified",
    "last-modified",
    "lastmod",
)
META_AUTHOR = (
    "author",
    "article:author",
    "dc.creator",
    "dcterms.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "twitter:creator",
)
META_DESCRIPTION = ("og:description", "description", "twitter:description", "dc.description")
META_IMAGE = (
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "twitter:image",
    "twitter:image:src",
)
META_SITE_NAME = ("og:site_name", "application-name", "twitter:site")
META_LANG = ("content-language", "og:locale", "language", "dc.language")


@dataclass(frozen=True, slots=True)
class Found:
    """Fields one stage found; None where it found nothing."""

    title: str | None = None
    published: str | None = None
    modified: str | None = None
    author: str | None = None
    description: str | None = None
    image: str | None = None
    url: str | None = None
    lang: str | None = None
    body: str | None = None
    site_name: str | None = None


# --- stage 1: JSON-LD ---------------------------------------------------------------------------


def from_json_ld(tree: LexborHTMLParser) -> Found:
    """The first article node of the page's JSON-LD (also in ``@graph``); page nodes fill gaps."""
    article: dict[str, object] | None = None
    page: dict[str, object] | None = None
    for script in tree.css('script[type="application/ld+json"]'):
        data = _load(script.text(deep=True))
        if data is None:
            continue
        for node in _nodes(data, 0):
            types = _types(node)
            if article is None and types & ARTICLE_TYPES:
                article = node
            elif page is None and types & PAGE_TYPES:
                page = node
        if article is not None:
            break
    if article is None and page is None:
        return Found()
    main = article or {}
    fallback = page or {}
    return Found(
        title=_text(main.get("headline")) or _text(main.get("name")),
        published=_text(main.get("datePublished"))
        or _text(main.get("dateCreated"))
        or _text(fallback.get("datePublished")),
        modified=_text(main.get("dateModified")) or _text(fallback.get("dateModified")),
        author=_names(main.get("author")) or _names(main.get("creator")),
        description=_text(main.get("description")),
        image=_image(main.get("image")) or _image(main.get("thumbnailUrl")),
        url=_url(main.get("url")) or _url(main.get("mainEntityOfPage")),
        lang=_text(main.get("inLanguage")) or _text(fallback.get("inLanguage")),
        body=_text(main.get("articleBody")),
    )


def _load(raw: str) -> object | None:
    text = raw.strip()
    if not text or len(text) > MAX_JSONLD_CHARS:
        return None
    # CMS templates wrap JSON-LD in comments or CDATA markers and leave raw newlines in strings.
    for prefix in _JSON_LD_WRAPPERS:
        text = text.removeprefix(prefix)
    for suffix in _JSON_LD_WRAPPER_ENDS:
        text = text.removesuffix(suffix)
    text = text.strip()
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _nodes(data: object, depth: int) -> Iterator[dict[str, object]]:
    if depth > MAX_JSONLD_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart", "itemListElement"):
            child = data.get(key)
            if isinstance(child, (dict, list)):
                yield from _nodes(child, depth + 1)


def _types(node: dict[str, object]) -> set[str]:
    kind = node.get("@type")
    if isinstance(kind, str):
        return {kind.removeprefix("http://schema.org/").removeprefix("https://schema.org/")}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and value:
        return _text(value[0])
    if isinstance(value, dict):
        return _text(value.get("@value")) or _text(value.get("name"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _names(value: object) -> str | None:
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, list):
            name = name[0] if name else None
        if isinstance(name, str):
            name = name.strip()
            if name and not name.startswith(("http://", "https://")) and name not in names:
                names.append(name)
    return ", ".join(names) or None


def _image(value: object) -> str | None:
    if isinstance(value, list):
        return _image(value[0]) if value else None
    if isinstance(value, dict):
        return _text(value.get("url")) or _text(value.get("contentUrl"))
    return _text(value)


def _url(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    text = _text(value)
    return text if text and text.startswith(("http://", "https://", "/")) else None


# --- stage 2: OpenGraph and <meta> ---------------------------------------------------------------


def meta_map(tree: LexborHTMLParser) -> dict[str, str]:
    """Every ``<meta>`` key (property, name, itemprop or http-equiv; lower case) → first content."""
    found: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        content = (attrs.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = attrs.get(attr)
            if key:
                found.setdefault(key.strip().lower(), content)
    return found


def from_meta(tree: LexborHTMLParser, *, microdata: bool = True) -> Found:
    """Fields from OpenGraph, Twitter, Dublin Core and ``<meta>`` tags (and microdata dates)."""
    meta = meta_map(tree)
    author = _first(meta, META_AUTHOR)
    if author and (author.startswith(("http://", "https://", "@")) or author.isdigit()):
        author = None  # a profile URL, handle or user number, not a name
    published = _first(meta, META_PUBLISHED)
    modified = _first(meta, META_MODIFIED)
    if microdata:
        published = published or _microdata(tree, "datePublished")
        modified = modified or _microdata(tree, "dateModified")
    return Found(
        title=_first(meta, META_TITLE),
        published=published,
        modified=modified,
        author=author,
        description=_first(meta, META_DESCRIPTION),
        image=_first(meta, META_IMAGE),
        url=meta.get("og:url"),
        lang=_first(meta, META_LANG),
        site_name=_first(meta, META_SITE_NAME),
    )


def canonical_link(tree: LexborHTMLParser) -> str | None:
    """The href of ``<link rel=canonical>``."""
    for node in tree.css("link[rel][href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        if "canonical" in rel:
            href = (node.attributes.get("href") or "").strip()
            if href:
                return href
    return None


def html_lang(tree: LexborHTMLParser) -> str | None:
    """The ``lang`` (or ``xml:lang``) attribute of the root element."""
    root = tree.root
    if root is None:
        return None
    attrs = root.attributes
    return (attrs.get("lang") or attrs.get("xml:lang") or "").strip() or None


def without_site_name(title: str, site_name: str | None) -> str:
    """``"Headline | Site"`` → ``"Headline"`` when ``Site`` is the page's declared site name."""
    name = (site_name or "").strip().lstrip("@").lower()
    if not name:
        return title
    for separator in TITLE_SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if found and head.strip() and tail.strip().lower() == name:
            return head.strip()
    return title


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = meta.get(key)
        if value:
            return value
    return None


def _microdata(tree: LexborHTMLParser, prop: str) -> str | None:
    node = tree.css_first(f'[itemprop="{prop}"]')
    return element_date(node) if node is not None else None


def element_date(node: LexborNode) -> str | None:
    """The date an element carries: its ``datetime`` or ``content`` attribute, else its text."""
    attrs = node.attributes
    for attr in ("datetime", "content", "data-datetime", "data-timestamp", "title"):
        value = attrs.get(attr)
        if value and value.strip() and (attr != "title" or any(c.isdigit() for c in value)):
            return value.strip()
    text = " ".join(node.text(deep=True).split())
    return text or None
