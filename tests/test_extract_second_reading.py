"""The second reading of a page in which the first found no article text: an article set in a
layout element, a post kept as a template for a script to render, and pages with no article,
which still fail."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser
from support import prose

from pipeline.errors import ExtractError, PageTooComplex
from pipeline.extract import extract_article
from pipeline.extract.boilerplate import LAYOUT_TAGS, prune
from pipeline.extract.budget import MAX_DEPTH
from pipeline.extract.second_reading import TEMPLATE_TYPES, second_reading
from pipeline.models import Selectors

URL = "https://news.example.com/2025/11/03/stablecoin-licences"
BODY = prose.paragraphs("second reading", 2)
MENU = "<nav><ul><li><a href='/'>Home</a></li><li><a href='/markets'>Markets</a></li></ul></nav>"


def _page(body: str) -> str:
    return (
        "<html lang='en'><head><title>HKMA grants first stablecoin licences</title></head>"
        f"<body>{MENU}{body}</body></html>"
    )


def _paragraphs() -> str:
    return "".join(f"<p>{line}</p>" for line in BODY)


@pytest.mark.parametrize("tag", LAYOUT_TAGS)
def test_an_article_set_in_a_layout_element_is_read(tag: str) -> None:
    html = _page(f"<main><{tag} class='story'><h1>HKMA licences</h1>{_paragraphs()}</{tag}></main>")
    first = LexborHTMLParser(html)
    prune(first)
    assert BODY[0] not in (first.body.text() if first.body else "")  # the first reading's loss

    article = extract_article(html, URL)

    assert article.text == "\n\n".join(BODY)
    assert "Markets" not in article.text


@pytest.mark.parametrize("kind", [*sorted(TEMPLATE_TYPES), "TEXT/Template "])
def test_a_post_kept_as_a_template_is_read_as_markup(kind: str) -> None:
    template = f"<span class='byline'>By A. Writer</span>{_paragraphs()}"
    html = _page(f"<div class='post-body'><script type='{kind}'>{template}</script></div>")

    article = extract_article(html, URL)

    assert article.text == "\n\n".join(BODY)
    assert "<p>" not in article.text


def test_what_never_holds_text_is_removed_from_a_template_too() -> None:
    # A template cannot hold "</script>", which would end it: its styles and buttons can.
    extras = "<style>.share{color:red}</style><button>Share on X</button><iframe></iframe>"
    html = _page(f"<div><script type='text/template'>{extras}{_paragraphs()}</script></div>")

    text = extract_article(html, URL).text

    assert text == "\n\n".join(BODY)
    assert "Share" not in text and "color" not in text


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("text/javascript", "".join(f"document.write('<p>{line}</p>');" for line in BODY)),
        # An interface template: a widget's markup and placeholders, never the article.
        ("text/x-handlebars-template", "<div class='{{css}}'>" + _paragraphs() + "</div>"),
    ],
)
def test_scripts_of_other_types_are_never_read_as_markup(kind: str, content: str) -> None:
    html = _page(f"<div><script type='{kind}'>{content}</script></div>")

    with pytest.raises(ExtractError, match="no article text found"):
        extract_article(html, URL)


def test_a_page_of_short_lines_with_no_article_still_fails() -> None:
    # A video page: its sign-in dialog and menus hold text, but no paragraph of prose.
    lines = [
        "Passwort vergessen?",
        "Du erhältst in Kürze eine E-Mail von uns mit Infos zum Zurücksetzen.",
        "Bitte trage eine E-Mail-Adresse ein.",
    ]
    footer = "<footer class='account'>" + "".join(f"<p>{line}</p>" for line in lines)
    html = _page(f"<main><div class='player'></div></main>{footer}</footer>")

    with pytest.raises(ExtractError, match=r"https://news\.example\.com/.*second-reading"):
        extract_article(html, URL)
    assert second_reading(LexborHTMLParser(html), None) == ""


def test_the_sources_removals_hold_in_the_second_reading() -> None:
    promo = (
        "Subscribe to our weekly briefing on Hong Kong finance for the stories that matter, "
        "delivered to your inbox every Friday morning with analysis from our editors."
    )
    html = _page(f"<main><aside>{_paragraphs()}<p class='promo'>{promo}</p></aside></main>")

    kept = extract_article(html, URL, selectors=Selectors(body=".missing"))
    removed = extract_article(html, URL, selectors=Selectors(body=".missing", remove=(".promo",)))

    assert promo in kept.text
    assert removed.text == "\n\n".join(BODY)


def test_a_page_the_first_reading_serves_keeps_its_layout_pruned() -> None:
    aside = "<aside><p>" + BODY[1] + "</p></aside>"
    html = _page(f"<main><article><p>{BODY[0]}</p></article>{aside}</main>")

    assert extract_article(html, URL).text == BODY[0]


def test_a_template_nested_past_the_budget_is_refused_before_any_reading() -> None:
    # The page's budget reads the tags inside scripts too, so a template cannot smuggle in
    # markup that the first reading's check let through.
    depth = MAX_DEPTH + 1_000
    template = "<div>" * depth + _paragraphs() + "</div>" * depth
    html = _page(f"<div><script type='text/template'>{template}</script></div>")

    with pytest.raises(PageTooComplex, match="nesting deeper"):
        extract_article(html, URL)
