"""The generic main-content finder on page shapes that trip it: lists of other stories, bodies
split by ad slots, a standfirst in its own box or in the header above the body, hidden and
registration boxes, class names that qualify a body box or name furniture, consent banners,
captions beside images, headings over lists of links, and the day in the URL when the page
states no date."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from selectolax.lexbor import LexborHTMLParser

from pipeline.extract import extract_article
from pipeline.extract.boilerplate import PRUNE_TAGS, furniture_verdict, prune
from pipeline.extract.generic import _adjusted, _best_adjusted, _Candidate, _content_named
from pipeline.extract.paragraph_text import (
    NESTED_CONTAINERS,
    MeasuredNodes,
    commas,
    link_chars,
    measure_paragraphs,
    paragraph_link_chars,
)
from pipeline.extract.standfirst import LEAD_MAX_BLOCKS, standfirst
from pipeline.extract.textblocks import Block, blocks

HKT = timezone(timedelta(hours=8))
FETCHED = datetime(2025, 11, 5, 9, 0, tzinfo=UTC)
BODY = [
    "The Hong Kong Monetary Authority granted the first stablecoin issuer licences on Monday, "
    "after a review that took most of the year and drew applications from 36 firms.",
    "Two banks and a technology company received licences, and the authority said more could "
    "follow once applicants showed they could meet its reserve and redemption requirements.",
    "Industry groups welcomed the decision, saying clear rules would help Hong Kong compete "
    "with Singapore and Dubai for digital asset businesses over the coming years.",
]


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


def _teasers(count: int) -> str:
    items = "".join(
        f'<div class="card"><h3><a href="/news/{n}/">Other story number {n} about markets</a>'
        f'</h3><p class="excerpt">Excerpt of story {n}: investors weighed the outlook for rates, '
        "property prices and bank earnings as the week drew to a close, analysts said in notes "
        "to clients on Friday afternoon.</p><div>8 hours ago</div></div>"
        for n in range(count)
    )
    return f'<div class="stream">{items}</div>'


def _page(main: str, head: str = "") -> str:
    return (
        f"<html lang='en'><head><title>HKMA grants first stablecoin licences</title>{head}</head>"
        f"<body><header><a href='/'>Home</a></header><main>{main}</main>"
        "<footer>© 2025 Example News</footer></body></html>"
    )


def test_a_list_of_other_stories_after_a_short_article_is_left_out() -> None:
    html = _page(
        f'<div class="single-post__content"><div class="entry-content">{_paragraphs(BODY)}</div>'
        f"{_teasers(12)}</div>"
    )
    article = extract_article(html, "https://example.com/a", fetched_at=FETCHED)
    assert article.text.split("\n\n") == BODY


def test_a_body_split_by_ad_slots_is_read_whole() -> None:
    sections = "<div class='ad-slot'><p>Advertisement</p></div>".join(
        f"<div class='section'>{_paragraphs([line, line.replace('the', 'a', 1)])}</div>"
        for line in BODY
    )
    article = extract_article(_page(f"<article>{sections}</article>"), "https://example.com/a")
    expected = [p for line in BODY for p in (line, line.replace("the", "a", 1))]
    assert article.text.split("\n\n") == expected


def test_an_article_bounds_the_body_when_the_page_around_it_holds_more_prose() -> None:
    promos = "".join(
        f"<div class='box'><p>Promotion {n}: our reviewers picked the best films of the year, "
        "and readers disagreed with most of the choices in long and lively letters.</p></div>"
        for n in range(4)
    )
    html = _page(
        f"<div id='screen'><article><div class='text'>"
        f"<section>{_paragraphs(BODY[:2])}</section><section>{_paragraphs(BODY[2:])}</section>"
        f"</div></article><div class='more'>{promos}</div></div>"
    )
    article = extract_article(html, "https://example.com/a")
    assert article.text.split("\n\n") == BODY


def test_a_standfirst_in_its_own_box_beside_the_body_is_kept() -> None:
    lead = (
        "The regulator names two banks and a technology firm as the first licensed issuers, "
        "with more to come."
    )
    html = _page(
        f"<article><div class='intro'><p>{lead}</p></div>"
        f"<div class='body-text'>{_paragraphs(BODY)}</div></article>"
    )
    article = extract_article(html, "https://example.com/a")
    assert article.text.split("\n\n") == [lead, *BODY]


def test_hidden_registration_and_screen_reader_boxes_are_left_out() -> None:
    html = _page(
        "<article><div class='body'>"
        f"<p>{BODY[0]}</p>"
        "<div class='intro-body__register hidden'><div>SUBSCRIBE TO SEE MORE</div>"
        "<ul><li>Unlimited online access to all our news sites with one account.</li></ul></div>"
        "<div class='article-content__sign-in-group'><p>Create a free account to read on and "
        "get our newsletters, puzzles and the digital replica of the print edition.</p></div>"
        "<span class='h-offscreen'>Box aufklappen</span>"
        f"<p>{BODY[1]}</p><p>{BODY[2]}</p></div></article>"
    )
    article = extract_article(html, "https://example.com/a")
    assert article.text.split("\n\n") == BODY


def test_a_prose_paragraph_marked_paywall_is_article_text() -> None:
    html = _page(
        f"<article><div class='body'><p>{BODY[0]}</p><p class='paywall'>{BODY[1]}</p>"
        f"<p class='paywall'>{BODY[2]}</p><div class='paywall'><a href='/subscribe'>Subscribe</a>"
        "</div></div></article>"
    )
    article = extract_article(html, "https://example.com/a")
    assert article.text.split("\n\n") == BODY


def test_the_day_in_the_url_dates_a_page_that_states_none() -> None:
    html = _page(f"<article>{_paragraphs(BODY)}</article>")
    url = "https://example.com/2025/11/03/hkma-grants-first-stablecoin-licences/"
    article = extract_article(html, url, fetched_at=FETCHED)
    assert article.published_at == datetime(2025, 11, 3, tzinfo=HKT)
    # A date the page states wins over the URL's.
    stated = _page(
        f"<article>{_paragraphs(BODY)}</article>",
        head='<meta property="article:published_time" content="2025-11-04T10:00:00+08:00">',
    )
    assert extract_article(stated, url, fetched_at=FETCHED).published_at == datetime(
        2025, 11, 4, 10, tzinfo=HKT
    )
    undated = extract_article(html, "https://example.com/news/hkma-licences", fetched_at=FETCHED)
    assert undated.published_at is None


@pytest.mark.parametrize(
    ("meta_title", "heading", "expected"),
    [
        (
            "HKMA grants first stablecoin licences | Markets | Example News",
            "HKMA grants first stablecoin licences",
            "HKMA grants first stablecoin licences",
        ),
        (
            "金管局發出首批穩定幣牌照-財經ㅣ例子日報",
            "金管局發出首批穩定幣牌照",
            "金管局發出首批穩定幣牌照",
        ),
        (  # the heading is a different wording: the metadata title stands
            "HKMA grants first stablecoin licences",
            "First stablecoin licences granted",
            "HKMA grants first stablecoin licences",
        ),
        (  # a title that merely starts like the heading is not a suffix
            "HKMA grants first stablecoin licences to banks",
            "HKMA grants first stablecoin licences",
            "HKMA grants first stablecoin licences to banks",
        ),
    ],
    ids=["site-and-section", "cjk-suffix", "other-wording", "longer-title"],
)
def test_a_site_suffix_is_cut_where_the_heading_ends(
    meta_title: str, heading: str, expected: str
) -> None:
    html = _page(
        f"<article><h1>{heading}</h1>{_paragraphs(BODY)}</article>",
        head=f'<meta property="og:title" content="{meta_title}">',
    )
    assert extract_article(html, "https://example.com/a").title == expected


def test_a_site_name_set_in_the_page_header_h1_is_not_taken_for_the_headline() -> None:
    title = "Example News - HKMA grants first stablecoin licences to two banks and a tech firm"
    html = (
        "<html><head>"
        f'<meta property="og:title" content="{title}"></head><body>'
        "<header><h1 class='logo'>Example News</h1></header>"
        f"<main><article>{_paragraphs(BODY)}</article></main></body></html>"
    )
    assert extract_article(html, "https://example.com/a").title == title


def test_the_article_headed_by_the_title_wins_over_the_next_story_loaded_below() -> None:
    other = [line.replace("stablecoin", "insurance") + " More follows." for line in BODY * 2]
    html = _page(
        f"<article id='main'><h1>HKMA grants first stablecoin licences</h1>{_paragraphs(BODY)}"
        f"</article><div class='next'><article><h1>Insurers face new AI rules</h1>"
        f"{_paragraphs(other)}</article></div>",
        head='<meta property="og:title" content="HKMA grants first stablecoin licences">',
    )
    article = extract_article(html, "https://example.com/a")
    assert article.title == "HKMA grants first stablecoin licences"
    assert article.text.split("\n\n") == BODY


def test_body_blocks_each_wrapped_in_layout_boxes_between_ad_slots_are_read_whole() -> None:
    def block(lines: list[str]) -> str:
        return (
            "<div class='flex flex-col'><div class='w-full'><div class='px-24'>"
            f"{_paragraphs(lines)}</div></div></div>"
        )

    # The second block holds too little to make the article worth widening to.
    last = "The first licensed stablecoins are expected to be issued early next year, it said."
    ad = "<div class='commercial' data-format='banner'></div>"
    html = _page(f"<article>{block(BODY)}{ad}{block([last])}</article>")
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == [*BODY, last]


LEAD = (
    "The regulator names two banks and a technology firm as the first licensed issuers, with "
    "more to come next year."
)


def test_a_standfirst_in_the_header_above_the_body_is_kept() -> None:
    # The headline, lead and byline sit in a header; the body is a box beside it, a level down.
    html = _page(
        "<article><header><div class='kicker'>Markets</div>"
        "<h1>HKMA grants first stablecoin licences</h1>"
        f"<div class='intro'><p>{LEAD}</p></div><div class='meta'>By Jane Doe, 3 Nov 2025</div>"
        f"</header><div class='grid'><div class='article-text'>{_paragraphs(BODY)}</div></div>"
        "</article>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == [LEAD, *BODY]


def test_a_standfirst_under_a_heading_that_reads_as_the_title_is_kept() -> None:
    # No <h1>: the headline is the heading that the title holds. The byline is too short to be
    # a lead, and makes the header more than a lead in a box of its own beside the body.
    html = _page(
        "<div class='story'><div class='head'><h2>HKMA grants first stablecoin licences</h2>"
        f"<div class='meta'>By Jane Doe</div><p class='lead'>{LEAD}</p></div>"
        f"<div class='story-body'>{_paragraphs(BODY * 2)}</div></div>"
    )
    text = extract_article(html, "https://example.com/a").text
    assert text.split("\n\n") == [LEAD, *BODY * 2]


def test_an_article_whose_headline_is_set_above_it_starts_with_its_standfirst() -> None:
    html = _page(
        "<div class='titles'><h1>HKMA grants first stablecoin licences</h1></div>"
        f"<article><div class='lead'><h2>{LEAD}</h2></div>"
        f"<div class='body'>{_paragraphs(BODY)}</div></article>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == [LEAD, *BODY]


def test_prose_above_the_body_is_no_standfirst_without_a_headline_or_past_a_few_paragraphs() -> (
    None
):
    promo = (
        "Our newsroom covers markets across Asia every day, with analysis, data and interviews "
        "from our reporters in Hong Kong, Singapore and Tokyo."
    )
    no_headline = _page(
        f"<div class='top'><div class='promo'><p>{promo}</p></div></div>"
        f"<div class='wrap'><div class='article-text'>{_paragraphs(BODY)}</div></div>"
    )
    assert extract_article(no_headline, "https://example.com/a").text.split("\n\n") == BODY
    # Between the headline and the body, a paragraph is a lead; seven are a list of cards.
    title = "HKMA grants first stablecoin licences"
    for count, expected in ((1, [promo]), (LEAD_MAX_BLOCKS + 1, [])):
        tree = LexborHTMLParser(
            f"<body><div class='page'><h1>{title}</h1>{_paragraphs([promo] * count)}"
            f"<div class='article-text'>{_paragraphs(BODY)}</div></div></body>"
        )
        body = tree.css_first("div.article-text")
        assert body is not None
        assert [block.text for block in standfirst(body, [body], title)] == expected


@pytest.mark.parametrize(
    "box",
    [
        "field field--name-body field--label-hidden",  # Drupal marks the field's label hidden
        "layout has-sidebar",
        "content non-paywall",
        "elementor-widget-container",
        "widget Blog",
        "teaser-text",
    ],
)
def test_furniture_words_that_only_qualify_a_body_box_do_not_remove_it(box: str) -> None:
    # The box holds a third of the text: too little to be kept for its share alone.
    html = _page(
        f"<article><p>{BODY[0]}</p><div class='{box}'><p>{BODY[1]}</p></div><p>{BODY[2]}</p>"
        "</article>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == BODY


@pytest.mark.parametrize(
    "box",
    [
        "author-box",
        "relatedArticles",  # camelCase names are split into words
        "noprint",
        "post-ratings",
        "Teasers",
    ],
)
def test_author_boxes_related_boxes_and_ratings_are_left_out(box: str) -> None:
    extra = (
        "Jane Doe has covered banking and financial regulation in Hong Kong for a decade and "
        "writes a weekly newsletter about it."
    )
    html = _page(
        f"<article><div class='body'>{_paragraphs(BODY)}"
        f"<div class='{box}'><p>{extra}</p></div></div></article>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == BODY


def test_a_consent_banner_goes_even_when_it_holds_more_prose_than_the_article() -> None:
    notice = [
        f"{line} We and our partners process such data for purposes {n}."
        for n, line in enumerate(BODY * 3)
    ]
    html = (
        "<html><head><title>HKMA grants first stablecoin licences</title></head><body>"
        f"<div class='cookie-consent-wrap'><div class='tabs'>{_paragraphs(notice)}</div></div>"
        f"<main><article><div class='body'>{_paragraphs(BODY[:2])}</div></article></main>"
        "</body></html>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == BODY[:2]


def test_a_box_around_an_image_holding_a_caption_is_left_out() -> None:
    caption = "The authority's headquarters in Central. Photo: Example News/Jane Doe"
    html = _page(
        f"<article><div class='body'><p>{BODY[0]}</p>"
        f"<div class='image'><div class='frame'><img src='/a.jpg'></div>"
        f"<div class='legend'>{caption}</div></div>"
        f"<p>{BODY[1]}</p><p>{BODY[2]}</p></div></article>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == BODY


def test_a_heading_over_links_or_over_nothing_is_left_out_with_the_lines_under_its_links() -> None:
    related = "".join(
        f"<h4><a href='/n/{n}'>Other story number {n}</a></h4><p>November {n + 3}, 2025</p>"
        f'<p>In "Blockchain"</p>'
        for n in range(3)
    )
    html = _page(
        f"<article><div class='body'>{_paragraphs(BODY)}"
        f"<h3>Keep reading on this topic</h3>{related}"
        "<h3>Share your thoughts</h3></div></article>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == BODY


def test_a_deck_over_a_linked_headline_is_kept() -> None:
    deck = (
        "Two banks and a technology company are the first to be licensed, after a review that "
        "took most of the year"
    )
    html = _page(
        f"<article><div class='body'><h2>{deck}</h2>"
        "<h3><a href='/n/1'>Read also: what the licences mean for you</a></h3>"
        f"{_paragraphs(BODY)}</div></article>"
    )
    assert extract_article(html, "https://example.com/a").text.split("\n\n") == [deck, *BODY]


def _blocks_of(html: str) -> list[Block]:
    """The text blocks of a page's body."""
    body = LexborHTMLParser(html).body
    assert body is not None
    return blocks(body)


def test_blocks_read_text_through_comments_custom_elements_and_breaks() -> None:
    html = (
        '<div>Lead <!-- note --><my-box>custom <a href="/x">link <b>bold</b></a></my-box> text'
        "<br>after break<wbr>joined<p>Para <svg><text>no</text></svg>one</p><ul><li>item "
        '<a href="/y">two</a></li></ul><button>skip</button>tail</div>'
    )
    assert _blocks_of(html) == [
        Block("Lead custom link bold text", "div", 8),
        Block("after breakjoined", "div", 0),
        Block("Para one", "p", 0),
        Block("item two", "li", 3),
        Block("tail", "div", 0),
    ]


def test_blocks_skip_the_whitespace_between_cells_and_before_link_text() -> None:
    html = (
        "<table>\n <tr>\n  <td>one</td>\n  <td> two </td>\n  <td> </td>\n </tr>\n</table>"
        "<p>\n <a href='/x'> linked</a> after</p><ul>\n <li>\n  item\n </li>\n</ul>"
        "<p><b>one</b> <i>two</i></p>"
    )
    assert _blocks_of(html) == [
        Block("one", "td", 0),
        Block("two", "td", 0),
        Block("linked after", "p", 6),
        Block("item", "li", 0),
        Block("one two", "p", 0),
    ]


@pytest.mark.parametrize("tag", PRUNE_TAGS)
def test_furniture_tags_are_removed_in_the_head_the_body_and_inside_each_other(tag: str) -> None:
    furniture = f"<{tag} class='x'>furniture</{tag}>"
    tree = LexborHTMLParser(
        f"<html><head>{furniture}</head><body><p>Kept {furniture} text</p>"
        f"<div><span><{tag}>outer {furniture}</{tag}></span></div></body></html>"
    )
    assert len(tree.css(tag)) >= 3
    prune(tree)
    assert tree.css(tag) == []
    assert tree.body is not None and tree.body.css_first("p") is not None
    assert "Kept" in tree.body.text() and "text" in tree.body.text()


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        ("share-bar__item", "strong"),
        ("relatedArticles", "strong"),
        ("mostRead list", "strong"),
        ("AdSlot", "weak"),
        ("ad-slot-top", "weak"),
        ("widget", "weak"),
        ("Teaser", "weak"),
        ("cookieConsent banner", "consent"),
        ("has-sidebar layout", ""),
        ("with-comments article", ""),
        ("no-ads has-ads", ""),
        ("elementor-widget elementor-widget-text", ""),
        ("teaser-text lead", ""),
        ("widget Blog", ""),
        ("field--label-hidden", ""),
        ("read more", "weak"),
        ("readmore-link", "weak"),
        ("content main", ""),
        ("MainContent", ""),
        ("SiteFooter", "weak"),
        ("", ""),
    ],
)
def test_class_names_are_judged_word_by_word(value: str, verdict: str) -> None:
    assert furniture_verdict(value) == verdict


def test_a_name_not_in_lower_case_is_judged_as_its_words_in_lower_case() -> None:
    """Names with capitals are ruled out by a search for the listed words before their split:
    nothing it rules out would be furniture once split at the humps and lower-cased."""
    pieces = [
        *("Share", "share", "Related", "Articles", "most", "Read", "Ad", "ad", "Slot", "Nav"),
        *("Bar", "Cookie", "Consent", "has", "No", "Teaser", "Text", "Widget", "Blog", "sr"),
        *("Only", "Main", "Content", "İ", "K", "x", "X", "12", "-", "_", ":", " "),
    ]
    humps = re.compile(r"(?<=[a-z])(?=[A-Z])")
    rng = random.Random(17)
    judged = 0
    for _ in range(20_000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        if value.islower():
            continue
        judged += 1
        assert furniture_verdict(value) == furniture_verdict(humps.sub(" ", value).lower()), value
    assert judged > 10_000


def _nested_page(depth: int) -> str:
    """``<div>``s of text ``depth`` deep, with cells of text, of links and of both inside."""
    text = "Words, and more words, " * 5
    cells = (
        "<table><tr><td>A cell of text alone, long enough to be a paragraph</td>"
        "<td><a href='/a'> a cell that is a link, long enough too </a></td>"
        "<td>Text <a href='/b'>with <b>a link</b></a>, and <!-- a note --> more text</td>"
        "<td><table><tr><td>Inner cell, with a comma, of text alone here</td></tr></table></td>"
        "</tr></table>"
    )
    inner = f"<p>{text}<a href='/c'>linked</a></p>{cells}"
    for level in range(depth):
        link = f"<a href='/{level}'>level {level}</a>" if level % 2 else "<span>plain</span>"
        inner = f"<div>{text}{link}<!-- x -->{inner} tail, </div>"
    return f"<html><body>{inner}</body></html>"


@pytest.mark.parametrize("depth", [2, NESTED_CONTAINERS + 1])
def test_paragraph_measures_are_the_same_read_whole_or_from_their_parts(depth: int) -> None:
    body = LexborHTMLParser(_nested_page(depth)).body
    assert body is not None
    paragraphs = body.css("p, pre, td")
    paragraphs.extend(div for div in body.css("div") if len(div.text(deep=False)) >= 100)
    measures = measure_paragraphs(paragraphs, body)
    texts = [node.text(deep=True) for node in paragraphs]
    assert measures.lengths == [len(text.strip()) for text in texts]
    for position, (node, text) in enumerate(zip(paragraphs, texts, strict=True)):
        assert measures.commas(position) == commas(text)
        assert measures.link_chars(position) == link_chars(node)
        assert paragraph_link_chars(node) == link_chars(node)


def test_the_best_container_is_found_as_comparing_all_of_them_finds_it() -> None:
    stories = "".join(
        f"<h3><a href='/{n}'>Story {n}</a></h3><p>Excerpt {n}, words.</p>" for n in range(3)
    )
    tree = LexborHTMLParser(
        f"<body><div class='article-body'>{_paragraphs(BODY)}</div>"
        f"<div class='stream'>{stories}</div><div><a href='/x'>{BODY[0]}</a></div>"
        f"<section id='content'><p>{BODY[1]}</p></section><div>{BODY[2]}</div></body>"
    )
    nodes = tree.css("body > *")
    # Scores set so that the bounds tie, cross and hide the best behind penalised ones.
    for scores in ([5.0, 9.0, 8.0, 4.0, 4.0], [4.0, 4.0, 4.0, 5.0, 4.0], [1.0, 1.0, 1.0, 1.0, 1.0]):
        ranked = [_Candidate(node, score=score) for node, score in zip(nodes, scores, strict=True)]
        measured = MeasuredNodes()
        expected = max(ranked, key=lambda c: _adjusted(c, _content_named(c.node), measured))
        assert _best_adjusted(ranked, MeasuredNodes()) is expected
    # A tie: the first of the two wins, though the second, bounded higher, is measured first.
    stream = _Candidate(nodes[1], score=5.0)
    plain = _Candidate(
        nodes[4], score=_adjusted(stream, _content_named(stream.node), MeasuredNodes())
    )
    assert _best_adjusted([plain, stream], MeasuredNodes()) is plain
