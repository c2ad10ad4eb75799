"""Cleaning: boilerplate lines, Unicode and whitespace (URLs: ``pipeline.canonical``).

Text arrives as paragraphs (one per line or separated by blank lines) and leaves as paragraphs
separated by exactly one blank line, each NFKC-normalised, entity-free and on one line.
"""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata
from collections import Counter

from pipeline.canonical import canonical_url
from pipeline.models import Article


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --- boilerplate ---------------------------------------------------------------------------------
# Paragraphs that are page furniture rather than article text. Each pattern must match the
# whole paragraph (after whitespace is collapsed), so a sentence that merely mentions sharing or
# cookies is kept; MAX_BOILERPLATE_CHARS keeps long real paragraphs safe from loose patterns.
MAX_BOILERPLATE_CHARS = 200

_BOILERPLATE_LINES: tuple[str, ...] = (
    # share and follow prompts left by share bars
    r"share (?:this|the) (?:article|story|post|page)\b.*",
    r"share (?:on|via|to) \w+.*",
    r"(?:share|tweet|email|print|copy link)(?:\s*[|/·•]\s*\w+)*",
    r"follow us on .*",
    # newsletter and subscription prompts
    r"(?:subscribe|sign up|register)\b.{0,60}\b(?:newsletter|updates|alerts|our mailing list)\b.*",
    r"(?:get|receive) (?:our|the) .{0,40}newsletter.*",
    r"subscribe(?: now| today)?[.!]?",
    r"newsletters?",
    # "related" and "read more" headings whose links were already dropped
    r"related (?:articles?|posts?|stories|news|content|reading|topics)\s*:?",
    r"(?:read more|read also|see also|more on this|you may also like)\s*:?",
    r"recommended(?: for you)?\s*:?",
    r"(?:advertisement|sponsored(?: content)?|anzeige|werbung|publicidad)(?:\s*\d+)?",
    # placeholders ad slots leave in the text flow
    r"this (?:advertisement|ad) has not loaded yet\b.*",
    r"(?:the )?(?:story|article) continues below(?: (?:this )?(?:advertisement|ad))?\.?",
    r"(?:continue reading|scroll to continue)(?: below| with content)?\.?",
    # registration and paywall prompts
    r"(?:subscribe|register|sign in|log in|create an account)\b.{0,60}\b"
    r"(?:to (?:continue|unlock|read)|more articles|this article)\b.*",
    # end-of-release markers of press offices ("End", "- Ends -", "Ends/Monday, 3 November
    # 2025", "NNNN", "###") and the issue time the HK Government prints under its releases
    r"[-–—\s]*ends?[-–—\s]*|ends/.*|nnnn|#{3}|issued at hkt \d{1,2}:\d{2}",
    # investment-advice disclaimers crypto and markets sites print under every story
    r"this (?:article|content|post) (?:does not|doesn't|is not intended to) (?:contain|constitute"
    r"|provide|be)\b.{0,40}\b(?:investment|financial|legal) advice\b.*",
    # cookie notices
    r"(?:this (?:web)?site|we) uses? cookies\b.*",
    r"(?:accept|allow|manage)(?: all)? cookies\b.*",
    r"cookie (?:policy|settings|preferences|notice)\b.*",
    # short credit and copyright lines ("© Rolf Zoellner/imago", "Copyright: Project Syndicate")
    r"(?:©|\(c\)).*",
    r"copyright\s*[:©].*",
    # image credits and captions that are not article text
    r"(?:featured )?image credit\s*:.*",
    r"(?:image|photo|picture|photograph|illustration)s?\s*:.*",
    r"(?:image|photo|picture)\s*(?:courtesy|credit|source)\b.*",
    r"photo\b.{0,120}\bvia\b.*",
    # comment sections (English and Spanish, as WordPress themes print them)
    r"(?:\d+\s+)?(?:comments?|comentarios?)\s*(?:\(\d+\))?:?",
    r"(?:leave|post|add|write) a (?:comment|reply)\b.*",
    r"no comments?(?: yet)?\b.*",
    r"be the first to comment\b.*",
    r"(?:aún )?no hay comentarios\b.*",
    r"(?:deja|dejar|escribe) (?:un|tu) comentario\b.*",
)
_BOILERPLATE = re.compile(
    "|".join(f"(?:{pattern})" for pattern in _BOILERPLATE_LINES), re.IGNORECASE
)
# Affiliate disclosures. Kept apart from the lines above: the pattern tries its verbs at each of
# the first 120 characters of every line, more than all the others together, while a line can
# match only if it names a commission or an affiliate, which two substring tests rule out.
_AFFILIATE_LINE = re.compile(
    r".{0,120}\b(?:we (?:may )?(?:earn|receive)|(?:may )?earns? us)\b.{0,20}"
    r"\b(?:commission|affiliate)\b.*",
    re.IGNORECASE,
)
_AFFILIATE_WORDS = ("commission", "affiliate")
# Case-insensitive matching also reads "ı" and "İ" (lower-cased with a combining dot) as "i",
# and "ſ" as "s": a line with any of them is left to the pattern.
_FOLDED_TO_ASCII = ("ı", "\u0307", "ſ")
# One search for any of them: 40% less time than a substring test for each.
_AFFILIATE_HINT = re.compile("|".join(_AFFILIATE_WORDS + _FOLDED_TO_ASCII))
# The fewest characters of a line the pattern matches, which the test of cleaning reads off the
# pattern: the cells of a table, and most labels, are shorter.
AFFILIATE_MIN_CHARS = 16

# A heading after which the rest of the text is a comments section, never article text.
_COMMENTS_HEADING = re.compile(
    r"(?:\d+\s+)?(?:comments?|comentarios?|reader comments|join the conversation)\s*(?:\(\d+\))?:?",
    re.IGNORECASE,
)
# A heading after which the rest is a publisher's disclaimer or policy, not article text.
_DISCLAIMER_HEADING = re.compile(
    r"(?:disclaimers?|disclosures?|risk warning)(?:\s*(?:and|&)\s*(?:risk warnings?|polic(?:y|ies)"
    r"|polices|disclaimers?))?\s*:?",
    re.IGNORECASE,
)
# Lines that are furniture at any length: a labelled disclaimer, a copyright notice.
_LONG_BOILERPLATE = re.compile(
    r"(?:disclaimer|disclosure)\s*:.*|(?:©|\(c\)|copyright\b)\s*(?:©\s*)?(?:\d{4}\b|all rights).*",
    re.IGNORECASE,
)
# A heading after which come titles of other articles; those run until a real paragraph.
_RELATED_HEADING = re.compile(
    r"(?:related|related (?:articles?|posts?|stories|news|content|reading)|read more|more stories"
    r"|you may also like|recommended(?: for you)?|most read|most popular)\s*:?",
    re.IGNORECASE,
)
# The first two letters, lower-cased, of every line the furniture patterns above can match
# (_BOILERPLATE_LINES and the headings) when it starts with two ASCII letters; the test of
# cleaning works them out from the patterns and checks that the list is theirs. A line that
# starts otherwise ("©", "-- Ends --", "ſhare") is left to the patterns; one whose start is not
# listed cannot match, and most are not: one set test instead of five patterns, one of which
# tries dozens of branches (1.8 µs a line).
FURNITURE_HEADS = _word_set(
    "ac ad al an ar be co cr de di em en es fe fo ge il im is jo le lo ma mo ne nn no ph pi "
    "po pr pu re ri sc se sh si sp st su th tw we wr yo"
)
# Titles in a related-links list are short and do not end like a sentence (questions do).
MAX_LINK_TITLE_CHARS = 150
_SENTENCE_STOPS = (".", "。", "!", "！")
# A short line printed this many times in one text is a label the page repeats around ad slots
# or widgets ("Article content"); prose never repeats a line three times.
REPEATED_LABEL_COUNT = 3
MAX_LABEL_CHARS = 60

# Ticker widgets glue a symbol and price change onto a name: "BitcoinBTC--", "EthereumETH+2.35%".
_TICKER = re.compile(r"\b([A-Z][a-z]{2,})[A-Z]{2,6}(?:--|[+\-−]\d+(?:\.\d+)?%)")

# Lines of publication metadata printed above or below a body: "Published Jun 05, 2026 • 3
# minute read", "Last updated 6 hours ago", "Lesezeit: 2 Min.", "Stand: 28. April 2023, 05:00
# Uhr", "發佈時間：2025年11月3日 16:30". Such a line holds a number, at least one of the labels
# and nothing but labels and the words of dates; a bare date ("20 November 2025", a release's
# sign-off) is left alone. The length bound keeps sentences out of reach.
MAX_META_LINE_CHARS = 80


_META_LABELS = _word_set(
    "published updated posted modified ago min mins minute minutes hour hours hr hrs read "
    "reading duration stand publiziert aktualisiert veröffentlicht zuletzt uhr lesezeit "
    "lesedauer 发布 發布 發佈 发布时间 發布時間 發佈時間 更新 更新时间 更新時間 时间 時間 "
    "小时前 小時前 分钟前 分鐘前 天前"
)
_DATE_WORDS = _word_set(
    "last day days week weeks time am pm a p m at on by um gmt utc hkt bst est edt jan "
    "feb mar apr may jun jul aug sep sept oct nov dec january february march april june july "
    "august september october november december monday tuesday wednesday thursday friday "
    "saturday sunday mon tue wed thu fri sat sun today yesterday januar februar märz mai "
    "juni juli oktober dezember montag dienstag mittwoch donnerstag freitag samstag sonntag "
    "heute gestern 年 月 日 時 分 上午 下午 星期一 星期二 星期三 星期四 星期五 星期六 星期日"
)
_META_WORDS = _META_LABELS | _DATE_WORDS
_META_TOKEN = re.compile(r"[^\W\d_]+")
_ASCII_DIGIT = re.compile("[0-9]")

# Feeds re-escape text a CMS already escaped; twice is the most seen, a third round is spare.
MAX_UNESCAPE_ROUNDS = 3

# Invisible characters that NFKC keeps but that split words for search and tagging.
_INVISIBLE_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")


def clean_text(text: str) -> str:
    """Normalise text and drop boilerplate; paragraphs come out separated by one blank line."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", _unescape(text))
    # A look for each character costs a tenth of the pattern's scan, and most texts have none.
    if not text.isascii() and any(char in text for char in _INVISIBLE_CHARS):
        text = _INVISIBLE.sub("", text)
    # splitlines() breaks at \r, \n, \v, \f, NEL and the Unicode line and paragraph separators,
    # as a regular expression would, at a tenth of the cost. The empty lines between paragraphs,
    # half of them, are dropped unread.
    if _collapsed_lines(text):
        lines = [line for line in text.splitlines() if line]
    else:
        lines = [one_line(raw) for raw in text.splitlines() if raw]
    labels = _repeated_labels(lines)
    kept: list[str] = []
    skipping_related = False
    for line in lines:
        if not line or line in labels:
            continue
        if "--" in line or "%" in line:
            line = _TICKER.sub(r"\1", line)
        short = len(line) <= MAX_BOILERPLATE_CHARS
        headed = _may_be_furniture(line)
        if headed:
            if short and (_COMMENTS_HEADING.fullmatch(line) or _DISCLAIMER_HEADING.fullmatch(line)):
                if kept:
                    break
                continue  # a "Comment" kicker above an opinion piece, not a comments section
            if _LONG_BOILERPLATE.fullmatch(line):
                continue
            if short and _RELATED_HEADING.fullmatch(line):
                skipping_related = True
                continue
        if skipping_related:
            if len(line) <= MAX_LINK_TITLE_CHARS and not _reads_as_prose(line):
                continue
            skipping_related = False
        if short and _is_boilerplate(line, headed):
            continue
        if len(line) <= MAX_META_LINE_CHARS and _is_meta_line(line):
            continue
        kept.append(line)
    return "\n\n".join(kept)


def _collapsed_lines(text: str) -> bool:
    """Whether every line of ``text`` is already as ``one_line`` leaves it, as the paragraphs of
    an extracted page are: a few scans of the whole text instead of one per line."""
    # Printable but for "\n": no other whitespace, and no other line break.
    return (
        text.replace("\n", "").isprintable()
        and "  " not in text
        and " \n" not in text
        and "\n " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    )


def one_line(raw: str) -> str:
    """``raw`` with its whitespace collapsed to single spaces and stripped: what
    ``" ".join(raw.split())`` gives, without splitting a line that is already so."""
    # A printable line has no whitespace but the ASCII space (every other is a separator or a
    # control character): with no double space and none at its ends it is already collapsed,
    # and checking that costs half of splitting it into words.
    if raw.isprintable() and "  " not in raw and not raw.startswith(" ") and not raw.endswith(" "):
        return raw
    return " ".join(raw.split())


def _is_boilerplate(line: str, headed: bool) -> bool:
    """A short line of furniture: a share or newsletter prompt, a credit, an affiliate note…
    (``headed``: ``_may_be_furniture(line)``, which the caller has already asked)."""
    if headed and _BOILERPLATE.fullmatch(line):
        return True
    if len(line) < AFFILIATE_MIN_CHARS or _AFFILIATE_HINT.search(line.lower()) is None:
        return False
    return _AFFILIATE_LINE.fullmatch(line) is not None


def _may_be_furniture(line: str) -> bool:
    """Whether ``line`` starts as the lines the furniture patterns match can (see
    ``FURNITURE_HEADS``)."""
    head = line[:2].lower()
    return head in FURNITURE_HEADS or not (head.isascii() and head.isalpha())


def _is_meta_line(line: str) -> bool:
    """A line that only says when, how long ago or how long to read ("3 minute read")."""
    # Most short lines hold no digit: on an ASCII line one search tells, in a third of the time
    # the words take. Elsewhere digits are more than [0-9] (and "²" is one for isdigit, not
    # for the pattern), and the words are read first, each character looked at only then.
    ascii_line = line.isascii()
    if ascii_line and _ASCII_DIGIT.search(line) is None:
        return False
    lowered = line.lower()
    # Most lines start with a word that is neither a label nor a date's: one search tells, where
    # reading every word of the line takes twice as long.
    first = _META_TOKEN.search(lowered)
    if first is None or first.group() not in _META_WORDS:
        return False
    words = _META_TOKEN.findall(lowered)
    if _META_LABELS.isdisjoint(words) or not all(word in _META_WORDS for word in words):
        return False
    return ascii_line or any(ch.isdigit() for ch in line)


def _unescape(text: str) -> str:
    """Entities decoded, also when a CMS escaped them twice ("&amp;#8217;")."""
    for _ in range(MAX_UNESCAPE_ROUNDS):
        if "&" not in text:
            break
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _reads_as_prose(line: str) -> bool:
    """A sentence, not a title, date or category label ('In "Blockchain"')."""
    # A quoted sentence ends with its full stop inside the quotes; a quoted label does not.
    return line.rstrip("”\"’'").endswith(_SENTENCE_STOPS)


def _repeated_labels(lines: list[str]) -> set[str]:
    # Counted in C, the long lines too: a test per line costs more than counting them.
    return {
        line
        for line, count in Counter(lines).items()
        if count >= REPEATED_LABEL_COUNT and line and len(line) <= MAX_LABEL_CHARS
    }


def clip_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters: at the last paragraph break before the
    limit, else at the last space, else at the limit."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for separator in ("\n\n", "\n", " "):
        cut = head.rfind(separator)
        # A break in the last tenth only: cutting at an early one would drop too much.
        if cut >= limit * 0.9:
            return head[:cut].rstrip()
    return head


def clean_inline(text: str | None) -> str | None:
    """Normalise a one-line field (title, author, description); None or empty gives None."""
    if not text:
        return None
    value = " ".join(unicodedata.normalize("NFKC", _unescape(text)).split())
    return value or None


def clean_article(article: Article) -> Article:
    """The article with clean text, one-line fields normalised and a canonical URL."""
    canonical = article.canonical_url or article.url
    return dataclasses.replace(
        article,
        title=clean_inline(article.title) or "",
        text=clean_text(article.text),
        author=clean_inline(article.author),
        description=clean_inline(article.description),
        canonical_url=canonical_url(canonical) if canonical else None,
    )
