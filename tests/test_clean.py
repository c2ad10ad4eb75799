"""Cleaning: boilerplate lines, tickers, Unicode and whitespace."""

from __future__ import annotations

import gzip
import random
import re
import unicodedata
from datetime import UTC, datetime
from re import _constants as sre
from re import _parser as sre_parse
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser
from support.shared import shared_path

from pipeline.clean import (
    _AFFILIATE_LINE,
    _BOILERPLATE_LINES,
    _COMMENTS_HEADING,
    _DISCLAIMER_HEADING,
    _LONG_BOILERPLATE,
    _RELATED_HEADING,
    AFFILIATE_MIN_CHARS,
    FURNITURE_HEADS,
    MAX_BOILERPLATE_CHARS,
    _is_boilerplate,
    _may_be_furniture,
    clean_article,
    clean_text,
)
from pipeline.extract.textblocks import blocks
from pipeline.models import Article

PARAGRAPH = "The HKMA announced the second phase of its stablecoin sandbox on Monday."


@pytest.mark.parametrize(
    "line",
    [
        "Share this article",
        "Share on LinkedIn",
        "Subscribe to our newsletter",
        "Sign up for our daily newsletter to get the latest fintech news",
        "Related articles",
        "Related Posts:",
        "We use cookies to improve your experience. By continuing you accept our cookie policy.",
        "This website uses cookies",
        "Featured image credit: Edited by Fintech News Hong Kong, based on image by "
        "memory_stockphoto via Freepik",
        "Image: Reuters",
        "Photo: John Doe via Unsplash",
        "Photo by Jane Roe via Getty Images",
        "Aún no hay comentarios",
        "Leave a comment",
        "No comments yet",
        "Advertisement",
        # ad slots that left their placeholder text in the flow
        "Advertisement 2",
        "This advertisement has not loaded yet, but your article continues below.",
        "Story continues below",
        "Article continues below advertisement",
        # registration and paywall prompts
        "SUBSCRIBE TO UNLOCK MORE ARTICLES",
        "Register to unlock this article — it’s free",
        "Create an account or sign in to continue with your reading experience.",
        # affiliate disclosure and investment-advice disclaimers
        "We independently select everything we recommend. Buying through us may earn us a "
        "commission, which supports our work.",
        "This article does not contain investment advice or recommendations. Every investment "
        "and trading move involves risk, and readers should conduct their own research.",
        # copyright and labelled disclaimers, however long
        "© 2025 The Block. All Rights Reserved. This article is provided for informational "
        "purposes only. It is not offered or intended to be used as legal, tax, investment, "
        "financial, or other advice, and nothing in it should be read as such by anyone at all.",
        "Disclaimer: The Block is an independent media outlet that delivers news, research and "
        "data. As of November 2023, Foresight Ventures is a majority investor of The Block, and "
        "it invests in other companies in the crypto space as well; the newsroom is separate.",
        "Copyright © 2025 Fintech News Hong Kong",
        "© Rolf Zoellner/imago",
        "Copyright: Project Syndicate, 2025",
        "Newsletter",
        # end-of-release markers
        "End",
        "- Ends -",
        "Ends/Wednesday, November 19, 2025",
        "Issued at HKT 16:30",
        "NNNN",
        "###",
    ],
)
def test_boilerplate_lines_are_removed(line: str) -> None:
    assert clean_text(f"{PARAGRAPH}\n\n{line}\n\nThe sandbox opens in March.") == (
        f"{PARAGRAPH}\n\nThe sandbox opens in March."
    )


@pytest.mark.parametrize(
    "line",
    [
        "Shareholders approved the tokenised deposit scheme at the annual meeting.",
        "The SFC said it would share information with overseas regulators under the MoU.",
        "Regulators want firms to subscribe to a common standard for reporting incidents.",
        "Cookies and other tracking technologies are covered by the privacy ordinance.",
        "The comments period for the consultation closes on 31 December.",
        "Photographs taken at the event were later published by the organisers.",
        "The broker may earn a commission of 2% on each trade, the filing showed.",
        "Subscribers who register before March can continue to use the service for free.",
        "Copyright law reform was debated in the Legislative Council on Wednesday.",
        "Disclosure requirements for virtual asset platforms will be tightened, the SFC said.",
        "End of an era: the last cash-only bank branch in Central closed on Friday.",
        "Advertisement spending by Hong Kong banks rose 12% in the third quarter.",
    ],
)
def test_sentences_that_merely_mention_boilerplate_words_are_kept(line: str) -> None:
    assert clean_text(line) == line


def test_comments_section_ends_the_text() -> None:
    text = f"{PARAGRAPH}\n\nComments\n\nAlice: great article!\n\nBob: I disagree with this."
    assert clean_text(text) == PARAGRAPH
    assert clean_text(f"{PARAGRAPH}\nComentarios\nAún no hay comentarios") == PARAGRAPH


def test_comment_kicker_above_an_opinion_piece_does_not_wipe_it() -> None:
    assert clean_text(f"Comment\n\n{PARAGRAPH}") == PARAGRAPH


@pytest.mark.parametrize(
    "heading", ["Disclaimer", "Disclaimer and Risk Warning", "Disclosure & Polices", "Disclaimers:"]
)
def test_disclaimer_section_ends_the_text(heading: str) -> None:
    text = (
        f"{PARAGRAPH}\n\n{heading}\n\nThe information provided is for educational purposes"
        " only and should not be taken as financial advice."
    )
    assert clean_text(text) == PARAGRAPH


def test_related_jetpack_block_with_dates_and_quoted_categories_is_dropped() -> None:
    text = (
        f"{PARAGRAPH}\n\nRelated\n\nHKMA names first stablecoin issuers\n\nNovember 14, 2025"
        '\n\nIn "Blockchain"\n\nSFC licenses two more exchanges\n\nIn "Regulation"\n\n'
        'The SFC chairman said: "We will keep the regime under review."'
    )
    assert clean_text(text) == (
        f'{PARAGRAPH}\n\nThe SFC chairman said: "We will keep the regime under review."'
    )


def test_a_short_label_repeated_around_ad_slots_is_dropped() -> None:
    label = "Article content"
    text = "\n\n".join(
        [label, PARAGRAPH, label, "The sandbox opens in March.", label, "Banks welcomed it."]
    )
    assert clean_text(text) == f"{PARAGRAPH}\n\nThe sandbox opens in March.\n\nBanks welcomed it."
    # Said twice, a short line may be the article's own (a refrain, a repeated quote).
    twice = f"Yes.\n\n{PARAGRAPH}\n\nYes."
    assert clean_text(twice) == twice


@pytest.mark.parametrize(
    "line",
    [
        "Published Jun 05, 2026 • 3 minute read",
        "Last updated 6 hours ago",
        "4 minute read",
        "Updated: 4:30 p.m. HKT, Nov 3, 2025",
        "Lesezeit: 2 Min.",
        "Stand: 28. April 2023, 05:00 Uhr",
        "發佈時間：2025年11月3日 16:30",
        "3小時前",
    ],
)
def test_publication_metadata_lines_are_removed(line: str) -> None:
    assert clean_text(f"{line}\n\n{PARAGRAPH}") == PARAGRAPH


@pytest.mark.parametrize(
    "line",
    [
        "20 November 2025",  # a release's dated sign-off
        "Updated rules take effect on 1 March 2026.",
        "Last year 3 in 10 firms read the guidance.",
        "Published figures show 12 banks joined the pilot.",
        # Labels and date words with no number say no when: kept, ASCII or not.
        "Last updated hours ago",
        "Veröffentlicht: gestern",
    ],
)
def test_dates_and_sentences_with_metadata_words_are_kept(line: str) -> None:
    assert clean_text(f"{PARAGRAPH}\n\n{line}") == f"{PARAGRAPH}\n\n{line}"


def test_related_block_titles_are_dropped_until_prose_resumes() -> None:
    text = (
        f"{PARAGRAPH}\n\nRelated articles\n\nSFC licenses two more crypto exchanges\n\n"
        "HKMA names first stablecoin issuers\n\nThe scheme will be reviewed after a year."
    )
    assert clean_text(text) == f"{PARAGRAPH}\n\nThe scheme will be reviewed after a year."


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("across BitcoinBTC--, EthereumETH--, NFTs", "across Bitcoin, Ethereum, NFTs"),
        ("EthereumETH+2.35% rose", "Ethereum rose"),
        ("SolanaSOL-1.10% fell", "Solana fell"),
    ],
)
def test_ticker_artefacts_are_stripped_from_names(dirty: str, clean: str) -> None:
    assert clean_text(dirty) == clean


@pytest.mark.parametrize(
    "text",
    ["COVID-19 relief loans", "The HKMA--not the SFC--issued it.", "Bitcoin-- a footnote"],
)
def test_text_that_only_looks_like_a_ticker_is_kept(text: str) -> None:
    assert clean_text(text) == text


def test_unicode_is_nfkc_normalised_and_smart_quotes_kept() -> None:
    assert clean_text("ＨＫＭＡ\u00a0said “yes” and it’s done") == "HKMA said “yes” and it’s done"


def test_invisible_characters_are_removed() -> None:
    assert clean_text("token\u200bisation of de\u00adposits\ufeff") == "tokenisation of deposits"


def test_html_entities_are_unescaped() -> None:
    assert clean_text("AT&amp;T &lt;b&gt; &#8220;quoted&#8221;") == "AT&T <b> “quoted”"


def test_entities_escaped_twice_are_decoded() -> None:
    assert clean_text("it&amp;#8217;s the HKMA&amp;amp;SFC") == "it’s the HKMA&SFC"
    assert clean_text("&amp;lt;b&amp;gt;&amp;nbsp;bold") == "<b> bold"


def test_whitespace_collapsed_and_paragraphs_separated_by_one_blank_line() -> None:
    text = "  First   paragraph\twith  tabs \n\n\n\n Second\r\n  \n\tThird  "
    assert clean_text(text) == "First paragraph with tabs\n\nSecond\n\nThird"


@pytest.mark.parametrize(
    "line",
    [
        "already one line of text.",
        " leading space",
        "trailing space ",
        "double  space inside",
        "tab\tinside",
        "unit\x1fseparator",
        "hair\u200aspace, em\u2003space, ideographic\u3000space",
        "no-break\u00a0space and narrow\u202fno-break",
        "金管局今日宣布 新措施",
    ],
)
def test_every_kind_of_whitespace_is_collapsed_to_single_spaces(line: str) -> None:
    def collapsed(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split())

    assert clean_text(line) == collapsed(line)
    assert clean_text(f"{line}\n{line}x") == f"{collapsed(line)}\n\n{collapsed(line + 'x')}"


def test_each_line_is_a_paragraph() -> None:
    assert clean_text("one\ntwo\n\nthree") == "one\n\ntwo\n\nthree"


def test_clean_text_is_idempotent() -> None:
    text = (
        f"  {PARAGRAPH} \n\nShare this article\n\nBitcoinBTC-- is up.\n\n“Quoted”\u00a0text"
        "\n\nComentarios\n\nAún no hay comentarios"
    )
    once = clean_text(text)
    assert once == f"{PARAGRAPH}\n\nBitcoin is up.\n\n“Quoted” text"
    assert clean_text(once) == once


def test_empty_text_stays_empty() -> None:
    assert clean_text("") == ""
    assert clean_text("\n\n  \n") == ""


def test_clean_article_cleans_text_fields_and_url() -> None:
    article = Article(
        url="https://Fintechnews.HK/123/ant-group/?utm_source=rss#top",
        title="  Ant Group &amp; HK  fintech ",
        text=f"{PARAGRAPH}\nShare this article",
        author=" Fintech\u00a0News ",
        description="  ",
        published_at=datetime(2025, 11, 4, tzinfo=UTC),
    )
    cleaned = clean_article(article)
    assert cleaned.title == "Ant Group & HK fintech"
    assert cleaned.text == PARAGRAPH
    assert cleaned.author == "Fintech News"
    assert cleaned.description is None
    assert cleaned.canonical_url == "https://fintechnews.hk/123/ant-group/"
    assert cleaned.published_at == article.published_at
    assert cleaned.url == article.url


# The furniture lines as one pattern, the affiliate disclosure among them, as first written.
_ONE_PATTERN = re.compile(
    "|".join(f"(?:{pattern})" for pattern in (*_BOILERPLATE_LINES, _AFFILIATE_LINE.pattern)),
    re.IGNORECASE,
)
_AFFILIATE_TEXTS = (
    "Buying through our links may earn us a commission.",
    "We may earn a COMMISSION from links on this page",
    "We may receive an affiliate fee",
    "We earn an aﬃliate fee",  # the "ffi" ligature, which case-insensitive matching keeps apart
    "We may earn a commıssion",  # dotless i, read as "i" by case-insensitive matching
    "We may earn a COMMİSSION",  # dotted capital I
    "We may earn a commiſſion",  # long s
    "We may earn a Kommission",
    "Commission earned: we may earn",
)


def test_furniture_lines_are_judged_as_by_one_pattern() -> None:
    generator = random.Random(11)
    words = ["we", "may", "earn", "earns", "us", "receive", "a", "commission", "affiliate"]
    words += ["ı", "ſ", "İ", "share", "photo", "via", "©", "x", ",", "."]
    # Starts the heads let through, and starts they leave to the patterns.
    words += ["ſhare", "İmage", "\u212aeep", "aún", "no", "sh", "s", "nnnn", "-", "ends", "#"]
    lines = list(_AFFILIATE_TEXTS)
    lines += [" ".join(generator.choices(words, k=generator.randint(1, 12))) for _ in range(5000)]
    lines += ["Comments (3)", "Join the conversation", "Risk warning", "Read more:", "ſhare"]
    for line in lines:
        assert _judged_boilerplate(line) == bool(_ONE_PATTERN.fullmatch(line)), line
        assert _may_be_furniture(line) or not _a_heading(line), line
    assert sum(_judged_boilerplate(line) for line in lines) > 100
    assert sum(_a_heading(line) for line in lines) >= 4


def _judged_boilerplate(line: str) -> bool:
    """``_is_boilerplate`` as ``clean_text`` asks it, with the line's start judged first."""
    return _is_boilerplate(line, _may_be_furniture(line))


# The heading patterns of ``clean_text``, which FURNITURE_HEADS gates with the lines' patterns.
_HEADINGS = (_COMMENTS_HEADING, _DISCLAIMER_HEADING, _LONG_BOILERPLATE, _RELATED_HEADING)


def _a_heading(line: str) -> bool:
    """Whether one of the heading patterns of ``clean_text`` matches ``line``."""
    return any(heading.fullmatch(line) for heading in _HEADINGS)


@pytest.mark.shared
def test_furniture_lines_of_the_evaluation_pages_are_judged_as_by_one_pattern() -> None:
    judged = 0
    for path in sorted(shared_path("eval", "pages").rglob("*.html.gz")):
        # Every paragraph of the page, furniture included, as cleaning would see it.
        body = LexborHTMLParser(gzip.decompress(path.read_bytes())).body
        for block in blocks(body) if body is not None else []:
            if len(block.text) <= MAX_BOILERPLATE_CHARS:
                assert _judged_boilerplate(block.text) == bool(_ONE_PATTERN.fullmatch(block.text))
                judged += 1
            assert _may_be_furniture(block.text) or not _a_heading(block.text)
    assert judged > 50_000


# What a pattern's first two characters can be, worked out from its parsed form: ASCII letters
# lower-cased, OTHER for a character that is no ASCII letter (a digit, a space, "©", "ú") and
# ANY where a letter may stand too ("." or "\\w").
_ANY, _OTHER = "\0", "\1"


def _first_characters(items: Any, count: int) -> set[str]:
    """The strings of up to ``count`` characters a match of the parsed ``items`` starts with
    (shorter ones when the match can end sooner)."""
    starts = {""}
    for op, argument in items:
        grown: set[str] = set()
        for start in starts:
            if len(start) >= count:
                grown.add(start)
            else:
                grown.update(start + more for more in _item(op, argument, count - len(start)))
        starts = grown
    return starts


def _character(char: str) -> str:
    lowered = char.lower()
    return lowered if lowered.isascii() and lowered.isalpha() else _OTHER


def _item(op: Any, argument: Any, count: int) -> set[str]:
    if op is sre.LITERAL:
        return {_character(chr(argument))}
    if op is sre.AT:
        return {""}
    if op is sre.SUBPATTERN:
        return _first_characters(argument[3], count)
    if op is sre.BRANCH:
        return set().union(*(_first_characters(branch, count) for branch in argument[1]))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        least, most, inner = argument
        most = count if most is sre.MAXREPEAT else min(most, count)
        repeats = range(min(least, count), max(most, min(least, count)) + 1)
        return set().union(*(_first_characters(list(inner) * times, count) for times in repeats))
    if op is sre.IN:
        chars: set[str] = set()
        for kind, value in argument:
            if kind is sre.LITERAL:
                chars.add(_character(chr(value)))
            elif _no_letter(kind, value):
                chars.add(_OTHER)
            else:
                return {_ANY}
        return chars
    return {_ANY}


def _no_letter(kind: Any, value: Any) -> bool:
    """Whether a member of a character class (a category or range) holds no ASCII letter."""
    if kind is sre.CATEGORY:
        return value in (sre.CATEGORY_DIGIT, sre.CATEGORY_SPACE)
    if kind is sre.RANGE:
        return all(_character(chr(code)) == _OTHER for code in range(value[0], value[1] + 1))
    return False


def test_the_first_characters_of_a_parsed_pattern() -> None:
    parsed = _first_characters(sre_parse.parse("(?:ab|c)\\d.x", re.IGNORECASE), 2)
    assert parsed == {"ab", "c" + _OTHER}
    assert _first_characters(sre_parse.parse("(?:\\d+ )?Xy", re.IGNORECASE), 2) == {
        "xy",
        _OTHER * 2,
    }


def test_the_listed_heads_are_every_start_of_two_letters_the_furniture_patterns_match() -> None:
    heads: set[str] = set()
    for pattern in (*_BOILERPLATE_LINES, *(heading.pattern for heading in _HEADINGS)):
        for start in _first_characters(sre_parse.parse(pattern, re.IGNORECASE), 2):
            letters = len(start) - len(start.lstrip("abcdefghijklmnopqrstuvwxyz"))
            if letters == len(start):
                heads.add(start)  # two letters, or fewer and then the end of the line
            else:
                # A letter and then any character could be a head of two letters not listed.
                assert start[letters] != _ANY, (pattern, start)
    assert heads == FURNITURE_HEADS


def test_no_line_shorter_than_the_stated_minimum_is_an_affiliate_disclosure() -> None:
    least, _ = sre_parse.parse(_AFFILIATE_LINE.pattern, re.IGNORECASE).getwidth()
    assert least == AFFILIATE_MIN_CHARS
