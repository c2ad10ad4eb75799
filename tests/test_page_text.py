"""The text a page shows, read on demand (pipeline/extract/page_text.py), and the shown date
chosen from the text read up to just past the title (pipeline/extract/page_dates.py): the same
as read whole, on synthetic pages and on every page of the evaluation sets."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser
from support.shared import shared_path

from pipeline.dates import FUTURE_TOLERANCE
from pipeline.extract.page_dates import (
    AFTER_TITLE_CHARS,
    Shown,
    _dates,
    _month_first,
    _shown,
    page_date,
)
from pipeline.extract.page_text import MAX_NODES, MAX_TEXT_CHARS, PageText, TextReader

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# By the title, a plain date, then a labelled one whose year is in the next text node, past
# the title's reach: the labelled one is chosen, as it is when the whole text is read.
EDGE_PAGE = (
    "<h1>T</h1><p>3 May 2020</p>"
    f"<p>{'x' * (AFTER_TITLE_CHARS - 30)} Published 12 March <b>2019</b></p>" + "<p>y</p>" * 99
)
FILLER = "<p>" + "Words of the article's body, with no date in them at all. " * 40 + "</p>"


def _body(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(f"<html><body>{html}</body></html>")


def _fields(text: PageText) -> tuple[object, ...]:
    return (text.parts, text.furniture, text.size, text.title_at, text.heading_at)


def _read_whole(tree: LexborHTMLParser) -> PageText:
    assert tree.body is not None
    return TextReader(tree.body).read()


def _shown_when_read_whole(tree: LexborHTMLParser) -> Shown | None:
    """``page_date`` as it was before reading stopped by the title: one read of everything."""
    text = _read_whole(tree)
    return _shown(text, _dates(text, _month_first(tree), NOW + FUTURE_TOLERANCE))


def _as_tuple(shown: Shown | None) -> tuple[object, ...] | None:
    return None if shown is None else (shown.day, shown.prominent, shown.by_title)


def test_reading_in_steps_gives_the_text_read_at_once() -> None:
    page = _body(
        "<nav class='menu'><a>Home</a> <a>News</a></nav>"
        "<div class='sidebar'><p>Side note</p></div>"
        f"<h1>Title</h1><p>By Ann</p>{FILLER}<h2>Part two</h2>{FILLER}"
        "<div id='comments'><p>A comment</p></div><footer>Imprint</footer>" + FILLER * 20
    )
    whole = _read_whole(page)
    assert page.body is not None
    reader = TextReader(page.body)
    first = _fields(reader.read(past_title=100))
    assert reader.text.title_at is not None
    # Stopped soon after the title: a paragraph past its reach, not the page.
    assert reader.text.title_at + 100 <= reader.text.size < whole.size
    assert not reader.finished
    assert first != _fields(whole)
    assert _fields(reader.read()) == _fields(whole)
    assert reader.finished
    # A finished reader reads nothing more.
    assert _fields(reader.read()) == _fields(whole)


def test_without_a_title_a_read_past_the_title_reads_everything() -> None:
    page = _body(f"<h2>Heading</h2>{FILLER * 3}")
    assert page.body is not None
    reader = TextReader(page.body)
    assert _fields(reader.read(past_title=10)) == _fields(_read_whole(page))
    assert reader.finished


def test_reading_stops_at_its_bounds() -> None:
    long_page = _body(FILLER * 200)
    text = _read_whole(long_page)
    assert MAX_TEXT_CHARS <= text.size < MAX_TEXT_CHARS + len(FILLER)
    empty_nodes = _body("<span></span>" * (MAX_NODES + 10) + "<p>Published 3 May 2019</p>")
    assert _read_whole(empty_nodes).parts == []


def test_texts_of_others_are_skipped_and_furniture_is_marked() -> None:
    text = _read_whole(
        _body(
            "<aside><p>Aside</p></aside><h1>T</h1><p>Body</p>"
            "<ul class='related-posts'><li>Other story</li></ul><script>var x = 1;</script>"
        )
    )
    assert text.parts == ["Aside", "T", "Body"]
    assert text.furniture == [(0, len("Aside"))]
    assert text.in_furniture(0) and not text.in_furniture(text.title_at or 0)


@pytest.mark.parametrize(
    ("names", "role"),
    [
        ("comment-list", "other"),
        ("site_footer", "furniture"),
        ("FooterRow", "furniture"),
        ("entry-footer", "article"),  # the article's own meta box
        ("has-sidebar with_comments", "article"),  # modifiers, not boxes
        ("category-comment tag-kommentar", "article"),  # the article's taxonomy
        ("post-body", "article"),
        # Words that need a separator after them: at the end of the names they have none.
        ("load-more-button", "other"),
        ("load-more", "article"),
        ("sidebar-widget_box", "furniture"),
        ("text-widget", "article"),
        ("main-menu entry-meta", "article"),  # furniture holding the article's own meta
        ("xnav-menu", "furniture"),  # "nav" inside a word does not count, "menu" after one does
        # Case-insensitive matching reads the dotless ı and the long ſ as i and s: names with
        # them are judged as they always were, not by the faster ASCII twins.
        ("poſt-footer", "article"),
        ("ſimilar-posts sidebar", "other"),
        ("Related\u00a0posts", "other"),
    ],
)
def test_an_element_is_judged_by_the_words_of_its_class(names: str, role: str) -> None:
    page = f"<h1>T</h1><div class='{names}'><p>Words</p></div><p>Body</p>"
    text = _read_whole(_body(page))
    if role == "other":
        assert text.parts == ["T", "Body"]
    else:
        assert text.parts == ["T", "Words", "Body"]
        assert text.in_furniture(len("T ")) == (role == "furniture")


@pytest.mark.parametrize(
    "page",
    [
        # Settled by the title: a labelled date, then a plain one, each with more below.
        f"<h1>T</h1><p>Published 12 March 2019</p>{FILLER * 3}<p>Published 1 May 2020</p>",
        f"<h1>T</h1><p>12 March 2019</p>{FILLER * 3}<p>Published 1 May 2020</p>",
        # Not settled: only an update or furniture by the title, or nothing.
        f"<h1>T</h1><p>Updated 12 March 2019</p>{FILLER * 3}<p>Published 1 May 2020</p>",
        f"<h1>T</h1><aside>Published 12 March 2019</aside>{FILLER * 3}<p>3 May 2020</p>",
        f"<h1>T</h1>{FILLER * 3}<p>3 May 2020</p>",
        # A labelled date that starts within the title's reach and ends past it.
        EDGE_PAGE,
    ],
    ids=["labelled", "plain", "updated", "furniture", "none", "at-the-edge"],
)
def test_the_date_chosen_by_the_title_is_the_one_chosen_from_the_whole_text(page: str) -> None:
    tree = _body(page)
    assert _as_tuple(page_date(tree, now=NOW)) == _as_tuple(_shown_when_read_whole(tree))


def test_the_edge_date_is_found_by_the_title() -> None:
    shown = page_date(_body(EDGE_PAGE), now=NOW)
    assert shown is not None and shown.day.date() == date(2019, 3, 12) and shown.prominent


def _eval_pages() -> Iterator[tuple[str, bytes]]:
    for folder in ("pages", "extraction-trafilatura", "dates-htmldate"):
        root: Path = shared_path("eval", folder)
        for path in sorted(root.rglob("*.htm*")):
            raw = path.read_bytes()
            yield path.name, gzip.decompress(raw) if path.suffix == ".gz" else raw


@pytest.mark.shared
def test_every_evaluation_page_shows_the_date_it_shows_when_read_whole() -> None:
    checked = 0
    for name, html in _eval_pages():
        tree = LexborHTMLParser(html)
        if tree.body is None:
            continue
        assert _as_tuple(page_date(tree, now=NOW)) == _as_tuple(_shown_when_read_whole(tree)), name
        checked += 1
    assert checked > 1900
