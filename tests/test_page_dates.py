"""Publication dates a page shows in its text (pipeline/extract/page_dates.py), and the cascade
that checks metadata dates against them; then both evaluation sets of real pages."""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from selectolax.lexbor import LexborHTMLParser
from support.shared import shared_path

from pipeline.errors import ExtractError
from pipeline.extract import extract_article, find_published
from pipeline.extract.date_offsets import in_own_offset, with_url_day
from pipeline.extract.date_patterns import SHORT_YEAR, YEAR_AT, short_years
from pipeline.extract.page_dates import page_date

NOW = datetime(2025, 11, 5, 9, 0, tzinfo=UTC)
BODY = "<p>" + "The council met again on the matter and voted for the plan. " * 6 + "</p>"
# htmldate's own share in bench/dates.py (706 of the 779 pages on the same day, 0.906): never
# below it. Measured: 0.675 before the text search, 712 pages (0.914) with the script data.
MIN_HTMLDATE_SET_SHARE = 706 / 779
# Measured before the text search: 251 of the 258 pages on the reference day (97.3%), and after.
MIN_PAGES_SAME_DAY = 251


def _shown(body: str, *, lang: str = "en", now: datetime = NOW) -> date | None:
    tree = LexborHTMLParser(f'<html lang="{lang}"><body>{body}</body></html>')
    found = page_date(tree, now=now)
    return found.day.date() if found else None


def _page(head: str, body: str) -> str:
    return f"<html><head><title>T</title>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("body", "lang", "expected"),
    [
        ("<h1>Budget</h1><p>Published 12 March 2019</p>", "en", date(2019, 3, 12)),
        ("<h1>Budget</h1><p>Posted on March 12, 2019 by Ann</p>", "en", date(2019, 3, 12)),
        ("<h1>Haushalt</h1><p>Veröffentlicht am 12.03.2019</p>", "de", date(2019, 3, 12)),
        ("<h1>Haushalt</h1><p>Stand: 5. November 2021, 10:39 Uhr</p>", "de", date(2021, 11, 5)),
        ("<h1>預算</h1><div>發佈日期：2019年3月12日</div>", "zh", date(2019, 3, 12)),
        ("<h1>预算</h1><div>发布时间：2019-03-12 08:00</div>", "zh", date(2019, 3, 12)),
        ("<h1>Budget</h1><p>Publié le 12 mars 2019</p>", "fr", date(2019, 3, 12)),
        ("<h1>Presupuesto</h1><p>Publicado el 12 de marzo de 2019</p>", "es", date(2019, 3, 12)),
    ],
    ids=["en", "en-posted", "de", "de-stand", "zh-hant", "zh-hans", "fr", "es"],
)
def test_a_labelled_date_is_read_in_the_pages_languages(
    body: str, lang: str, expected: date
) -> None:
    # A date in the body's prose, before the label's, is not the byline.
    assert _shown(f"<p>Founded on 1 May 2001.</p>{body}{BODY}", lang=lang) == expected


@pytest.mark.parametrize(
    ("byline", "lang", "expected"),
    [
        ("<div class='meta'>12 March 2019 | Ann</div>", "en", date(2019, 3, 12)),
        ("<span>28.01.22</span>", "de", date(2022, 1, 28)),
        ("<span>03/04/2019</span>", "en-GB", date(2019, 4, 3)),
        ("<span>03/04/2019</span>", "en-US", date(2019, 3, 4)),
        ("<time>4 août 2019</time>", "fr", date(2019, 8, 4)),
    ],
    ids=["day-month-year", "short-year", "day-first", "us-month-first", "time-text"],
)
def test_the_date_right_under_the_title_is_the_shown_date(
    byline: str, lang: str, expected: date
) -> None:
    far = "<p>" + "Words of the article's body. " * 80 + "In 2 June 2016 it all began.</p>"
    assert _shown(f"<nav>Home</nav><h1>Title</h1>{byline}{BODY}{far}", lang=lang) == expected


def test_dates_in_comments_related_lists_and_footers_are_not_the_articles() -> None:
    page = (
        "<div class='related-posts'><p>12 January 2019</p></div>"
        "<h1>Title</h1><p>By Ann</p>"
        f"{BODY}<p>Written on 3 March 2019.</p>"
        "<div id='comments'><p>Posted on 5 May 2020 by Bob</p></div>"
        "<footer><p>Published 1 June 2021</p></footer>"
    )
    assert _shown(page) == date(2019, 3, 3)
    # Comments are never read, even when nothing else shows a date.
    assert _shown(f"<h1>Title</h1>{BODY}<ol class='comment-list'><li>5 May 2020</li></ol>") is None


def test_a_modified_date_gives_way_to_the_original() -> None:
    page = "<h1>Title</h1><p>Updated 5 May 2020</p><p>First published 1 March 2019</p>"
    assert _shown(page + BODY) == date(2019, 3, 1)
    # Alone, the update is still the day the page shows.
    assert _shown("<h1>Title</h1><p>Updated: 5 May 2020</p>" + BODY) == date(2020, 5, 5)


def test_future_and_implausible_dates_are_refused() -> None:
    assert _shown(f"<h1>Title</h1><p>Published 12 March 2030</p>{BODY}") is None
    assert _shown(f"<h1>Title</h1><p>Published 12 March 1871</p>{BODY}") is None
    # Tomorrow in Hong Kong is within the tolerance for clocks and zones.
    assert _shown(f"<h1>T</h1><p>Published {NOW:%Y-%m-%d}</p>{BODY}", now=NOW) == NOW.date()


def test_a_page_without_metadata_takes_the_shown_date_in_the_cascade() -> None:
    html = _page("", f"<article><h1>Budget</h1><p>Veröffentlicht am 12.03.2019</p>{BODY}</article>")
    article = extract_article(html, "https://example.org/budget", fetched_at=NOW)
    assert article.published_at == datetime(2019, 3, 12, tzinfo=timezone(timedelta(hours=8)))


def test_a_page_without_h1_has_its_title_in_the_first_h2() -> None:
    # Without a title, the first date of the article would be taken: a date in the prose.
    far = "<p>" + "Words of the article's body. " * 80 + "</p>"
    page = f"<p>In 2 June 2016 it began.</p>{far}<h2>Title</h2><p>By Ann, 12 March 2019</p>"
    assert _shown(page) == date(2019, 3, 12)


def test_a_lone_time_element_gives_way_to_the_date_under_the_title() -> None:
    body = (
        "<div class='clock'><time datetime='2019-07-30'>Today</time></div>"
        f"<article><h1>Budget</h1><p>27 June 2019</p>{BODY}</article>"
    )
    article = extract_article(_page("", body), "https://example.org/budget", fetched_at=NOW)
    assert article.published_at is not None
    assert article.published_at.date() == date(2019, 6, 27)


def test_a_time_element_shown_by_the_title_stands_beside_a_captions_date() -> None:
    body = (
        "<article><p>Protest, 27 June 2019</p><h1>Budget</h1>"
        f"<p>Le <time datetime='2019-06-28T13:49:45Z'>28 juin 2019</time></p>{BODY}</article>"
    )
    article = extract_article(_page("", body), "https://example.org/budget", fetched_at=NOW)
    assert article.published_at == datetime(2019, 6, 28, 13, 49, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("modified", "expected"),
    [
        ("2020-03-12T10:00:00+01:00", date(2020, 3, 12)),
        ("2019-01-01T10:30:00+01:00", date(2019, 1, 1)),
    ],
    ids=["re-published", "same-hour-correction"],
)
def test_a_republished_page_shows_its_new_day(modified: str, expected: date) -> None:
    head = (
        '<meta property="article:published_time" content="2019-01-01T10:00:00+01:00">'
        f'<meta property="article:modified_time" content="{modified}">'
    )
    body = f"<article><h1>Budget</h1><p>12 March 2020</p>{BODY}</article>"
    article = extract_article(_page(head, body), "https://example.org/budget", fetched_at=NOW)
    assert article.published_at is not None
    assert article.published_at.date() == expected


def test_an_offset_keeps_its_calendar_day() -> None:
    head = '<meta property="article:published_time" content="2019-03-12T23:30:00-05:00">'
    article = extract_article(
        _page(head, f"<article><h1>T</h1>{BODY}</article>"), "https://example.org/a", fetched_at=NOW
    )
    assert article.published_at == datetime(
        2019, 3, 12, 23, 30, tzinfo=timezone(timedelta(hours=-5))
    )
    assert article.published_at.date() == date(2019, 3, 12)


def test_a_utc_time_takes_the_offset_the_page_states_for_it() -> None:
    published = datetime(2023, 11, 9, 3, 28, 35, tzinfo=UTC)
    tree = LexborHTMLParser('<body><time datetime="2023-11-08T22:28:35-05:00">Nov 8</time></body>')
    local = in_own_offset(tree, published)
    assert local == published and local is not None
    assert local.date() == date(2023, 11, 8)
    # Another instant on the page is another story's.
    other = LexborHTMLParser('<body><time datetime="2023-11-08T12:00:00-05:00">x</time></body>')
    assert in_own_offset(other, published) is published


def test_a_utc_time_takes_the_offset_another_metadata_value_states_for_it() -> None:
    # JSON-LD in UTC, <meta> in the publisher's offset: the same moment, on the next day there.
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "T",'
        ' "datePublished": "2019-10-18T22:04:00Z"}</script>'
        '<meta property="article:published_time" content="Sat, 19 Oct 2019 00:04:00 +0200">'
    )
    page = _page(head, f"<article><h1>T</h1>{BODY}</article>")
    article = extract_article(page, "https://example.org/a", fetched_at=NOW)
    assert article.published_at is not None
    assert article.published_at.utcoffset() == timedelta(hours=2)
    assert article.published_at.date() == date(2019, 10, 19)
    alone = find_published(page, "https://example.org/a", fetched_at=NOW)
    assert alone is not None and alone.isoformat() == article.published_at.isoformat()
    published = datetime(2019, 10, 18, 22, 4, tzinfo=UTC)
    empty = LexborHTMLParser("<body></body>")
    # A value without an offset is read in Hong Kong, which states nothing; another instant
    # is another date (a modification's).
    for stated in ("2019-10-19T06:04:00", "Sat, 19 Oct 2019 09:00:00 +0200"):
        assert in_own_offset(empty, published, [stated]) is published


def test_a_utc_time_a_day_off_the_urls_day_falls_on_it_in_some_offset() -> None:
    url_day = datetime(2023, 11, 8, tzinfo=timezone(timedelta(hours=8)))
    evening = datetime(2023, 11, 9, 3, 28, tzinfo=UTC)
    moved = with_url_day(evening, url_day)
    assert moved == evening and moved is not None and moved.date() == date(2023, 11, 8)
    night = datetime(2023, 11, 7, 22, 0, tzinfo=UTC)
    moved = with_url_day(night, url_day)
    assert moved == night and moved is not None and moved.date() == date(2023, 11, 8)
    # A local time keeps its day; a date years off the URL's is a template's.
    local = datetime(2023, 11, 9, 19, 0, tzinfo=timezone(timedelta(hours=1)))
    assert with_url_day(local, url_day) is local
    assert with_url_day(datetime(2009, 4, 11, tzinfo=UTC), url_day) is url_day


# --- real pages ----------------------------------------------------------------------------------


def _htmldate_set_share() -> float:
    folder = shared_path("eval", "dates-htmldate")
    truth = json.loads((folder / "eval_default.json").read_text(encoding="utf-8"))
    right = 0
    for url, row in truth.items():
        html = gzip.decompress((folder / "html" / f"{row['file']}.gz").read_bytes())
        try:
            found = extract_article(html, url).published_at
        except ExtractError:
            continue
        # The day in the offset the date carries, as extracted.
        right += found is not None and found.date().isoformat() == row["date"]
    return right / len(truth)


@pytest.mark.shared
def test_htmldate_evaluation_pages_dated_on_their_original_day() -> None:
    assert _htmldate_set_share() >= MIN_HTMLDATE_SET_SHARE


@pytest.mark.shared
def test_evaluation_pages_keep_their_reference_day() -> None:
    index = shared_path("eval", "pages", "index.jsonl")
    same_day = 0
    for line in index.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row["publishing_date"]:
            continue
        body = gzip.decompress((index.parent / str(row["file"])).read_bytes())
        crawled = datetime.fromisoformat(str(row["crawl_date"])).replace(tzinfo=UTC)
        try:
            found = extract_article(body, str(row["url"]), fetched_at=crawled).published_at
        except ExtractError:
            continue
        truth = datetime.fromisoformat(str(row["publishing_date"]))
        if found is not None and truth.tzinfo is not None:  # the reference's own offset
            found = found.astimezone(truth.tzinfo)
        same_day += found is not None and found.date() == truth.date()
    assert same_day >= MIN_PAGES_SAME_DAY


# The year and short-date searches as first written: a look-behind first, tried at every position.
_PLAIN_YEAR_AT = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_SHORT_DATE_TEXTS = (
    "Stand: 28.01.22, 10:00",
    "1.2.22 und 31.12.99.",
    "x45.03.22 v.12.03.22 12.03.22.1 112.03.22 3.3.333 03.03.22",
    "28.01.2022 1.02.22 ٣.02.22 28.01.22 28.01.22",
    "in 2019, 12019, 2019-03-12, 1999 and 20201 or 1899",
)


def _spans(matches: Iterator[re.Match[str]]) -> list[tuple[tuple[int, int], dict[str, str | None]]]:
    return [(match.span(), match.groupdict()) for match in matches]


def test_the_fast_date_searches_find_what_the_plain_ones_find() -> None:
    generator = random.Random(5)
    texts = list(_SHORT_DATE_TEXTS)
    texts += [
        "".join(generator.choices("0123.19 20a/", k=generator.randint(0, 16)))
        for _ in range(20_000)
    ]
    for text in texts:
        assert _spans(short_years(text)) == _spans(SHORT_YEAR.finditer(text)), text
        assert _spans(YEAR_AT.finditer(text)) == _spans(_PLAIN_YEAR_AT.finditer(text)), text
