"""Extraction: the seed articles inside real page chrome, metadata stages, bad input, real pages."""

from __future__ import annotations

import gzip
import json
import logging
import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from statistics import mean

import pytest
from support.shared import shared_path

from pipeline.errors import ExtractError
from pipeline.extract import extract_article, extract_html_fragment, find_published
from pipeline.models import Article, Selectors

HKT = timezone(timedelta(hours=8))
FETCHED = datetime(2025, 11, 5, 9, 0, tzinfo=UTC)

# Every string of page furniture the seed pages carry; none may reach the article text.
CHROME = (
    "Home",
    "Blockchain",
    "We use cookies",
    "Share this article",
    "Facebook",
    "Subscribe to our newsletter",
    "delivered to your inbox",
    "Related articles",
    "HKMA names first stablecoin issuers",
    "Featured image credit",
    "Comentarios",
    "Aún no hay comentarios",
    "Leave a comment",
    "Most read",
    "All rights reserved",
    "BTC--",
    "ETH--",
    "By Fintech News",
    "Advertisement",
)
SEED_SELECTORS = Selectors(
    title="h1.entry-title",
    body=".entry-content",
    published=".entry-meta time",
    author=".byline .name",
    remove=(".share-bar", ".ad-slot"),
)


@dataclass(frozen=True)
class Seed:
    """A seed article: its title, the paragraphs a reader sees, and the page wrapping them."""

    title: str
    paragraphs: list[str]
    html: str


def _paragraph_html(line: str, heading: bool) -> str:
    # Ticker widgets print the symbol right after the name, as on the source site.
    body = escape(line, quote=False)
    for name, symbol in (("Bitcoin", "BTC"), ("Ethereum", "ETH")):
        glued = f"{name}{symbol}--"
        body = body.replace(glued, f'{name}<span class="ticker-widget">{symbol}--</span>')
    if line.startswith("- "):
        return f"<li>{body[2:]}</li>"
    return f"<h2>{body}</h2>" if heading else f"<p>{body}</p>"


def _page(title: str, body_lines: list[str], trailer: list[str], json_ld: str) -> str:
    parts: list[str] = []
    in_list = False
    for line in body_lines:
        is_item = line.startswith("- ")
        if is_item and not in_list:
            parts.append("<ul>")
        if in_list and not is_item:
            parts.append("</ul>")
        in_list = is_item
        # Short lines without a full stop are the seed's section headings.
        heading = len(line) < 90 and not line.endswith((".", ":", ",”", "”")) and not is_item
        parts.append(_paragraph_html(line, heading))
        if len(parts) == 4:
            parts.append('<div class="ad-slot"><p>Advertisement</p></div>')
    if in_list:
        parts.append("</ul>")
    parts.extend(f"<p>{escape(line)}</p>" for line in trailer)
    content = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8">
<title>{escape(title)} - Fintech News Hong Kong</title>
<meta property="og:title" content="{escape(title)}">
<meta property="og:site_name" content="Fintech News Hong Kong">
<meta property="og:image" content="/wp-content/uploads/2025/11/cover.jpg">
<meta name="description" content="{escape(body_lines[0][:150])}">
<link rel="canonical" href="/2025/11/04/seed-article/?utm_source=rss&utm_medium=feed">
<script type="application/ld+json">{json_ld}</script>
<style>.ticker-widget {{ color: green; }}</style>
</head><body class="post-template-default single">
<header class="site-header"><nav class="main-nav"><ul>
<li><a href="/">Home</a></li><li><a href="/fintech/">Fintech</a></li>
<li><a href="/blockchain/">Blockchain</a></li></ul></nav></header>
<div class="cookie-banner"><p>We use cookies to improve your experience on our site. By
continuing to browse you accept our cookie policy.</p><button>Accept</button></div>
<main id="main"><article class="post type-post">
<h1 class="entry-title">{escape(title)}</h1>
<div class="entry-meta"><span class="byline">By <span class="name">Fintech News Hong Kong</span>
</span> <time class="published" datetime="2025-11-04T09:30:00+08:00">4 November 2025</time></div>
<div class="share-bar"><span>Share this article</span> <a href="#fb">Facebook</a>
<a href="#x">X</a> <a href="#li">LinkedIn</a></div>
<div class="entry-content">
{content}
</div>
<div class="newsletter-box"><h3>Subscribe to our newsletter</h3><p>Get the latest fintech
news from Hong Kong delivered to your inbox every week.</p><form><input type="email"></form></div>
<section class="related-posts"><h3>Related articles</h3><ul>
<li><a href="/a/">SFC licenses two more crypto exchanges in Hong Kong</a></li>
<li><a href="/b/">HKMA names first stablecoin issuers</a></li>
<li><a href="/c/">Cyberport opens AI supercomputing centre to start-ups</a></li></ul></section>
<section id="comments" class="comments-area"><h3 class="comments-title">Comentarios</h3>
<p class="no-comments">Aún no hay comentarios</p>
<div id="respond"><h3>Leave a comment</h3><textarea></textarea></div></section>
</article></main>
<aside class="sidebar"><div class="widget"><h3>Most read</h3><ul>
<li><a href="/d/">Hong Kong fintech funding rebounds in third quarter</a></li></ul></div></aside>
<footer class="site-footer"><p>© 2025 Fintech News Hong Kong. All rights reserved.</p></footer>
</body></html>"""


def _json_ld(title: str, type_: str = "NewsArticle") -> str:
    return json.dumps(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebPage", "@id": "https://fintechnews.hk/#page", "name": "Page"},
                {
                    "@type": type_,
                    "headline": title,
                    "datePublished": "2025-11-04T09:30:00+08:00",
                    "dateModified": "2025-11-04T11:00:00+08:00",
                    "author": [{"@type": "Person", "name": "Fintech News Hong Kong"}],
                    "image": {"@type": "ImageObject", "url": "https://fintechnews.hk/cover.jpg"},
                },
            ],
        }
    )


def _seed_lines(name: str) -> list[str]:
    """The lines of a seed article (``../shared/seeds``); skips the test without it."""
    return shared_path("seeds", name).read_text(encoding="utf-8").splitlines()


def _seed_000() -> Seed:
    lines = [ln.strip() for ln in _seed_lines("000_8b8f788cc300a693.txt")]
    lines = [ln for ln in lines if ln]
    credit = [ln for ln in lines if ln.startswith("Featured image credit")]
    body = [ln for ln in lines if ln not in credit]
    title = "Ant Group Backs Hong Kong's Push in Regulated AI and Tokenisation"
    return Seed(title, body, _page(title, body, credit, _json_ld(title)))


def _seed_002() -> Seed:
    lines = [ln.strip() for ln in _seed_lines("002_f2cc545ab4b0069d.txt")]
    lines = [ln for ln in lines if ln]
    title, lines = lines[0], lines[1:]
    trailer = lines[-2:]
    assert trailer == ["Comentarios", "Aún no hay comentarios"]
    body = lines[:-2]
    # A reader sees the names without the ticker widgets, and list items without the dash.
    visible = [
        ln.replace("BitcoinBTC--", "Bitcoin")
        .replace("EthereumETH--", "Ethereum")
        .removeprefix("- ")
        for ln in body
    ]
    page = _page(title, body, [], _json_ld(title, type_="ReportageNewsArticle"))
    return Seed(title, visible, page)


SEED_BUILDERS = {"seed-000": _seed_000, "seed-002": _seed_002}


@pytest.fixture(params=sorted(SEED_BUILDERS))
def seed(request: pytest.FixtureRequest) -> Seed:
    return SEED_BUILDERS[request.param]()


@pytest.mark.shared
@pytest.mark.parametrize("selectors", [SEED_SELECTORS, None], ids=["selectors", "generic"])
def test_seed_pages_keep_every_paragraph_and_no_chrome(
    seed: Seed, selectors: Selectors | None
) -> None:
    article = extract_article(
        seed.html.encode("utf-8"),
        "https://fintechnews.hk/2025/11/04/seed-article/?utm_source=rss",
        fetched_at=FETCHED,
        selectors=selectors,
    )
    assert article.text.split("\n\n") == seed.paragraphs
    for chrome in CHROME:
        assert chrome not in article.text, chrome
    assert article.title == seed.title
    assert article.published_at == datetime(2025, 11, 4, 9, 30, tzinfo=HKT)
    assert article.modified_at == datetime(2025, 11, 4, 11, 0, tzinfo=HKT)
    assert article.author == "Fintech News Hong Kong"
    assert article.lang == "en"
    assert article.canonical_url == "https://fintechnews.hk/2025/11/04/seed-article/"
    assert article.image_url == "https://fintechnews.hk/cover.jpg"
    assert article.description is not None
    assert article.description.startswith(seed.paragraphs[0][:40])


@pytest.mark.shared
def test_selectors_win_over_the_generic_finder_for_the_body() -> None:
    seed = _seed_000()
    # Only the first two paragraphs sit in the element the selector names.
    html = seed.html.replace(
        '<div class="entry-content">', '<div class="entry-content">\n<div class="lede">', 1
    )
    html = html.replace(
        f"<p>{escape(seed.paragraphs[2], quote=False)}</p>",
        f"</div><p>{escape(seed.paragraphs[2], quote=False)}</p>",
        1,
    )
    article = extract_article(html, "https://fintechnews.hk/a/", selectors=Selectors(body=".lede"))
    assert article.text.split("\n\n") == seed.paragraphs[:2]


def test_remove_selectors_apply_before_the_body_is_read() -> None:
    html = (
        "<html><body><div class='story'><p>First paragraph of the release, in full.</p>"
        "<div class='promo'><p>Buy our premium research now!</p></div>"
        "<p>Second paragraph of the release, in full.</p></div></body></html>"
    )
    kept = extract_article(html, "https://example.com/a", selectors=Selectors(body=".story"))
    assert "premium research" in kept.text
    pruned = extract_article(
        html, "https://example.com/a", selectors=Selectors(body=".story", remove=(".promo",))
    )
    assert pruned.text == (
        "First paragraph of the release, in full.\n\nSecond paragraph of the release, in full."
    )


@pytest.mark.shared
def test_body_selector_that_matches_nothing_falls_back_to_the_generic_finder() -> None:
    seed = _seed_000()
    article = extract_article(
        seed.html, "https://fintechnews.hk/a/", selectors=Selectors(body="#gone")
    )
    assert article.text.split("\n\n") == seed.paragraphs


@pytest.mark.shared
def test_invalid_selector_is_logged_and_the_generic_finder_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed = _seed_000()
    # Warned once per process per selector: a fresh one, so that this run warns.
    broken = f".x{uuid.uuid4().hex} >>> p"
    selectors = Selectors(body=broken, title="h1[")
    with caplog.at_level(logging.WARNING, logger="pipeline.extract"):
        article = extract_article(seed.html, "https://fintechnews.hk/a/", selectors=selectors)
        again = extract_article(seed.html, "https://fintechnews.hk/b/", selectors=selectors)
    assert article.text.split("\n\n") == seed.paragraphs
    assert again.text == article.text
    assert caplog.text.count(f"body={broken!r}") == 1
    assert "https://fintechnews.hk/a/" in caplog.text


# --- published dates by stage -------------------------------------------------------------------

PROSE = (
    "<p>" + "The regulator published the circular to all licensed corporations today. " * 3 + "</p>"
)


def _doc(head: str = "", body: str = "") -> str:
    return f"<html><head>{head}</head><body><article>{body}{PROSE}</article></body></html>"


STAGE_DATES = pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        (  # JSON-LD inside @graph, with a list of types
            '<script type="application/ld+json">{"@graph": [{"@type": ["ReportageNewsArticle"],'
            ' "datePublished": "2025-11-03T16:53:29+08:00"}]}</script>',
            "",
            datetime(2025, 11, 3, 16, 53, 29, tzinfo=HKT),
        ),
        (  # OpenGraph article time
            '<meta property="article:published_time" content="2025-11-03T08:53:29Z">',
            "",
            datetime(2025, 11, 3, 8, 53, 29, tzinfo=UTC),
        ),
        (  # a plain <meta name=date>, date only: midnight in Hong Kong
            '<meta name="date" content="2025-11-03">',
            "",
            datetime(2025, 11, 3, tzinfo=HKT),
        ),
        (  # only a <time> element in the article
            "",
            '<time datetime="2025-11-03T10:00:00+08:00">3 Nov</time>',
            datetime(2025, 11, 3, 10, tzinfo=HKT),
        ),
        (  # microdata on an element
            "",
            '<span itemprop="datePublished" content="Mon, 03 Nov 2025 00:00:00 +0800"></span>',
            datetime(2025, 11, 3, tzinfo=HKT),
        ),
    ],
    ids=["json-ld-graph", "og-meta", "meta-date", "time-element", "microdata"],
)


@STAGE_DATES
def test_published_date_from_each_stage(head: str, body: str, expected: datetime) -> None:
    article = extract_article(_doc(head, body), "https://example.com/a", fetched_at=FETCHED)
    assert article.published_at == expected


@STAGE_DATES
def test_the_date_alone_is_found_at_each_stage(head: str, body: str, expected: datetime) -> None:
    assert find_published(_doc(head, body), "https://example.com/a", fetched_at=FETCHED) == (
        expected
    )


def test_the_date_alone_is_the_whole_extractions_date_on_real_pages() -> None:
    folder = shared_path("eval", "dates-htmldate")
    index = json.loads((folder / "eval_default.json").read_text(encoding="utf-8"))
    compared = 0
    for url, row in list(index.items())[:200]:
        html = gzip.decompress((folder / "html" / f"{row['file']}.gz").read_bytes())
        try:
            whole = extract_article(html, url).published_at
        except ExtractError:
            continue  # a page with no body: its date alone is still found
        assert find_published(html, url) == whole, url
        compared += 1
    assert compared > 150


def test_json_ld_beats_meta_and_a_future_json_ld_date_falls_through() -> None:
    meta = '<meta property="article:published_time" content="2025-11-02T10:00:00+08:00">'
    good = (
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "2025-11-03T10:00:00+08:00"}</script>'
    )
    future = good.replace("2025-11-03", "2031-01-01")
    first = extract_article(_doc(good + meta), "https://example.com/a", fetched_at=FETCHED)
    assert first.published_at == datetime(2025, 11, 3, 10, tzinfo=HKT)
    fallen = extract_article(_doc(future + meta), "https://example.com/a", fetched_at=FETCHED)
    assert fallen.published_at == datetime(2025, 11, 2, 10, tzinfo=HKT)


def test_broken_json_ld_is_ignored() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
    article = extract_article(_doc(head), "https://example.com/a", fetched_at=FETCHED)
    assert article.published_at is None
    assert article.text.startswith("The regulator published")


def test_json_ld_wrapped_in_cdata_is_read() -> None:
    head = (
        '<script type="application/ld+json">//<![CDATA[\n{"@type": "NewsArticle", "headline":'
        ' "Wrapped headline", "author": {"@type": "Person", "name": "Jane Roe"}}\n//]]></script>'
    )
    article = extract_article(_doc(head), "https://example.com/a")
    assert (article.title, article.author) == ("Wrapped headline", "Jane Roe")


def test_script_rendered_page_falls_back_to_json_ld_article_body() -> None:
    paragraphs = [
        f"Paragraph {n} of the release, which the page only renders with script, in full."
        for n in range(1, 6)
    ]
    ld = json.dumps({"@type": "NewsArticle", "articleBody": "\n".join(paragraphs)})
    html = (
        f'<html><head><script type="application/ld+json">{ld}</script></head>'
        '<body><div id="app"><p>Loading the article, please wait a moment...</p></div></body>'
        "</html>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == paragraphs
    # When the page shows the text itself, the page wins.
    on_page = [p.replace("only renders with script", "shows as HTML") for p in paragraphs]
    shown = html.replace(
        "<p>Loading the article, please wait a moment...</p>",
        "".join(f"<p>{p}</p>" for p in on_page),
    )
    assert extract_article(shown, "https://example.com/a").text.split("\n\n") == on_page


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ('<p class="content-date">Date: 3 November 2025</p>', datetime(2025, 11, 3, tzinfo=HKT)),
        (
            '<span class="content-date" content="2025-11-03">x</span>',
            datetime(2025, 11, 3, tzinfo=HKT),
        ),
        (
            '<time class="content-date" datetime="2025-11-03T15:00:00+08:00">today</time>',
            datetime(2025, 11, 3, 15, tzinfo=HKT),
        ),
        (
            '<div class="content-date">發佈日期：2025年11月3日</div>',
            datetime(2025, 11, 3, tzinfo=HKT),
        ),
    ],
    ids=["text", "content-attr", "datetime-attr", "chinese-label"],
)
def test_published_selector_reads_attribute_or_text(element: str, expected: datetime) -> None:
    html = (
        "<html><body><h1>Site banner</h1><div id='content'><h1>HKMA release</h1>"
        f"<p class='by'>Mr Eddie Yue</p>{element}{PROSE}</div></body></html>"
    )
    selectors = Selectors(
        title="#content h1", published="#content .content-date", author="#content .by"
    )
    article = extract_article(
        html, "https://www.hkma.gov.hk/x/", fetched_at=FETCHED, selectors=selectors
    )
    assert article.published_at == expected
    assert article.title == "HKMA release"
    assert article.author == "Mr Eddie Yue"


# --- canonical URL, language, charset -------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            '<link rel="canonical" href="/news/item-1?utm_campaign=x">',
            "https://example.com/news/item-1",
        ),
        (
            '<meta property="og:url" content="https://Example.com/news/item-2#x">',
            "https://example.com/news/item-2",
        ),
        ("", "https://example.com/news/item-3"),  # the page's own URL, AMP path undone
    ],
    ids=["rel-canonical", "og-url", "page-url"],
)
def test_canonical_url_is_absolute_and_clean(head: str, expected: str) -> None:
    url = "https://example.com/amp/news/item-3?fbclid=abc"
    article = extract_article(_doc(head), url)
    assert article.canonical_url == expected


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("zh-HK", "金管局今日公布穩定幣發行人發牌制度的最新安排。", "zh-hant"),
        ("en-GB", "The HKMA announced a new regime today, and more.", "en"),
        (None, "金管局今日公布稳定币发行人发牌制度的最新安排，这个制度将于明年实施。", "zh-hans"),
        (None, "金管局今日公布穩定幣發行人發牌制度的最新安排，這個制度將於明年實施。", "zh-hant"),
        (None, "The HKMA said that the regime is in force for all of the banks.", "en"),
        ("zh", "这个制度将于明年实施，金管局表示会发出指引。", "zh-hans"),
        (None, "Die Aufsicht hat heute neue Regeln für alle Banken veröffentlicht.", "de"),
        (None, "香港金融管理局は新しい措置を発表し、銀行は対応を求められている。", "ja"),
    ],
    ids=[
        "declared-zh-hk",
        "declared-en-gb",
        "guess-simplified",
        "guess-traditional",
        "guess-en",
        "bare-zh",
        "other-latin",
        "japanese-kanji-not-chinese",
    ],
)
def test_language_declared_or_guessed(lang: str | None, text: str, expected: str | None) -> None:
    attr = f' lang="{lang}"' if lang else ""
    html = f"<html{attr}><body><p>{text}</p></body></html>"
    assert extract_article(html, "https://example.com/a").lang == expected


@pytest.mark.parametrize("encoding", ["big5", "gb18030", "cp1252", "shift_jis"])
def test_bytes_are_decoded_with_the_declared_charset(encoding: str) -> None:
    text = {
        "big5": "香港金融管理局公布新措施，銀行須遵守。",
        "gb18030": "香港金融管理局公布新措施，银行须遵守。",
        "cp1252": "Café crème: the “naïve” régime is déjà vu for the banks, they said.",
        "shift_jis": "香港金融管理局は新しい措置を発表した。",
    }[encoding]
    html = f'<html><head><meta charset="{encoding}"></head><body><p>{text}</p></body></html>'
    # NFKC (part of cleaning) turns the full-width comma into an ASCII one.
    expected = unicodedata.normalize("NFKC", text)
    assert extract_article(html.encode(encoding), "https://example.com/a").text == expected


def test_http_equiv_charset_and_utf8_bom() -> None:
    text = "金管局今日公布穩定幣發行人發牌制度。"
    legacy = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">'
        f"</head><body><p>{text}</p></body></html>"
    )
    assert extract_article(legacy.encode("big5"), "https://example.com/a").text == text
    bom = b"\xef\xbb\xbf" + f"<html><body><p>{text}</p></body></html>".encode()
    assert extract_article(bom, "https://example.com/a").text == text


def test_undeclared_legacy_bytes_are_read_by_the_detector() -> None:
    # Not UTF-8 and no charset declared: the detector, as for fetched pages, reads Latin-1.
    html = b"<html><body><p>Caf\xe9 prices rose again, a survey of shops found.</p></body></html>"
    article = extract_article(html, "https://example.com/a")
    assert article.text == "Caf\u00e9 prices rose again, a survey of shops found."


def test_bytes_handed_over_decode_like_fetched_pages() -> None:
    # Undeclared Big5 and GB18030 bytes: the same detector as for fetched pages reads them.
    from pipeline.charset import markup

    text = "金管局推出穩定幣發行人發牌制度，市場反應正面。" * 4
    for encoding in ("big5hkscs", "gb18030"):
        assert markup(text.encode(encoding)) == text
        page = f"<html><body><p>{text}</p></body></html>".encode(encoding)
        # Cleaning applies NFKC, which turns the full-width comma into an ASCII one.
        expected = unicodedata.normalize("NFKC", text)
        assert extract_article(page, "https://example.com/a").text == expected


# --- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "",
        b"",
        "   \n\t ",
        bytes(range(256)) * 40,
        b"\x89PNG\r\n\x1a\n" + b"\x00\x10IHDR" * 200,
        b"\x1f\x8b\x08\x00" + bytes((i * 37) % 256 for i in range(4000)),
        "<html><head><title>Only a title</title></head></html>",
        "<html><body><nav><a href='/'>Home</a></nav><footer>© 2025</footer></body></html>",
        "<html><body><script>var a = 1;</script></body></html>",
        "<frameset><frame src='a.html'></frameset>",
    ],
    ids=[
        "empty-str",
        "empty-bytes",
        "whitespace",
        "binary",
        "png",
        "gzip",
        "no-body",
        "only-chrome",
        "only-script",
        "frameset",
    ],
)
def test_pages_without_article_text_raise_extract_error_naming_the_url(html: str | bytes) -> None:
    url = "https://example.com/broken"
    with pytest.raises(ExtractError, match=re.escape(url)):
        extract_article(html, url)


@pytest.mark.parametrize(
    "html",
    [
        "Plain text that is not HTML at all, but a sentence with words, commas, and more.",
        "<p>Unclosed paragraph, with enough words to be an article body, and more text<div><p>",
        "<div>" * 3000 + "<p>Deeply nested text, still found, with commas, and words.</p>",
        "<html><body><p>Text with a stray NUL\x00 and entities &amp; &nbsp;kept readable.</p>",
    ],
    ids=["plain-text", "unclosed", "deep-nesting", "stray-nul"],
)
def test_odd_but_readable_input_gives_a_clear_result(html: str) -> None:
    article = extract_article(html, "https://example.com/odd")
    assert article.text
    assert "<" not in article.text.replace("<b>", "")
    assert article.canonical_url == "https://example.com/odd"


# --- HTML fragments (SFC API bodies) --------------------------------------------------------------


def test_extract_html_fragment_gives_clean_paragraphs() -> None:
    # "End" closes a press release; it is a marker, not text.
    fragment = (
        "<p>The Securities and Futures Commission (SFC) has reached a settlement&nbsp;agreement"
        " with Sino Wealth International Limited.</p>\n<p>Under the <b>settlement</b>, the firm"
        " will pay HK$2&nbsp;million.</p><ul><li>First, it admits the failures.</li>"
        "<li>Second, it will appoint a reviewer.</li></ul><h3>End</h3>"
        "<blockquote><p>We welcome the outcome.</p></blockquote>Loose closing text.<br>Ends."
    )
    assert extract_html_fragment(fragment, "https://apps.sfc.hk/x?refNo=26PR27").split("\n\n") == [
        "The Securities and Futures Commission (SFC) has reached a settlement agreement with Sino"
        " Wealth International Limited.",
        "Under the settlement, the firm will pay HK$2 million.",
        "First, it admits the failures.",
        "Second, it will appoint a reviewer.",
        "We welcome the outcome.",
        "Loose closing text.",
        "Ends.",
    ]


@pytest.mark.parametrize("fragment", ["", "   ", "<p></p>", "<script>x()</script>"])
def test_extract_html_fragment_of_nothing_is_empty(fragment: str) -> None:
    assert extract_html_fragment(fragment, "https://apps.sfc.hk/x") == ""


# --- real pages ---------------------------------------------------------------------------------

# Tokens as bench/extraction.py counts them: lower-case words, each CJK ideograph or kana one
# token (Chinese and Japanese are written without spaces).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
# Measured on all 258 pages: mean token F1 0.955, against 0.945 for trafilatura 2.3 with its
# defaults on the same pages (bench/extraction.py); falling below trafilatura is a regression.
MIN_MEAN_F1 = 0.945
# Measured: 96.5% of pages at 0.8 or better.
MIN_SHARE_ABOVE_080 = 0.93
# Measured: the same calendar day as the reference on 97.3% of pages (two of the seven misses are
# reference rows paired with the wrong page).
MIN_SAME_DAY_SHARE = 0.95


def _f1(found: str, truth: str) -> float:
    got, want = Counter(_TOKEN.findall(found.lower())), Counter(_TOKEN.findall(truth.lower()))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class EvalResult:
    """One real page: the reference row and what extraction made of it (or its error)."""

    row: dict[str, object]
    article: Article | None
    error: str | None


@pytest.fixture(scope="module")
def eval_results() -> list[EvalResult]:
    index = shared_path("eval", "pages", "index.jsonl")
    rows = [json.loads(line) for line in index.read_text().splitlines()]
    results: list[EvalResult] = []
    for row in rows:
        body = gzip.decompress((index.parent / str(row["file"])).read_bytes())
        crawled = datetime.fromisoformat(str(row["crawl_date"])).replace(tzinfo=UTC)
        try:
            article = extract_article(body, str(row["url"]), fetched_at=crawled)
        except ExtractError as exc:
            # Script-rendered pages hold no text in their HTML; that must be this error only.
            results.append(EvalResult(row, None, str(exc)))
        else:
            results.append(EvalResult(row, article, None))
    return results


@pytest.mark.shared
def test_real_pages_extract_at_least_as_well_as_trafilatura(
    eval_results: list[EvalResult],
) -> None:
    assert len(eval_results) >= 20
    failures = [result.error for result in eval_results if result.error]
    assert len(failures) <= 2, failures
    scores = [
        _f1(result.article.text, str(result.row["body_text"])) if result.article else 0.0
        for result in eval_results
    ]
    assert mean(scores) >= MIN_MEAN_F1
    assert sum(score >= 0.8 for score in scores) / len(scores) >= MIN_SHARE_ABOVE_080
    for result in eval_results:
        if result.article is not None:
            assert result.article.canonical_url
            assert result.article.canonical_url.startswith("http")


@pytest.mark.shared
def test_real_pages_published_on_the_reference_day(eval_results: list[EvalResult]) -> None:
    same_day = known = 0
    for result in eval_results:
        if not result.row["publishing_date"]:
            continue
        known += 1
        found = result.article.published_at if result.article else None
        if found is None:
            continue
        truth = datetime.fromisoformat(str(result.row["publishing_date"]))
        if truth.tzinfo is not None:  # read the day in the reference's own offset
            found = found.astimezone(truth.tzinfo)
        if found.date() == truth.date():
            same_day += 1
    assert known >= 20
    assert same_day / known >= MIN_SAME_DAY_SHARE
