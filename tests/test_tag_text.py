"""The text views the tagger works on: folding (every path gives the matching form of the text,
with offsets back into it), plain spacing, sentence ends and evidence snippets."""

from __future__ import annotations

import pytest
from support import REPO

from pipeline.tag import SNIPPET_CHARS, Tagger
from pipeline.tag.matcher import Matcher
from pipeline.tag.text import Folded, Sentences, sentence_ends
from pipeline.taxonomy import load_taxonomy, normalise


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    """The shipped taxonomy's matcher."""
    return Matcher(load_taxonomy(REPO / "taxonomy.toml").nodes)


SAMPLES = [
    "Plain ASCII: the HKMA said so.",
    "Curly quotes: the city’s “AI” push — and a dash.",
    "Chinese names inline: 金管局 and 證監會 speak.",
    "Upper-case accents: ÉCOLE and ZÜRICH banks.",
    "Sharp s: Straße and STRASSE.",
    "Combining accent after ASCII: cafe\u0301 society.",
    "Full-width: ＨＫＭＡ（金管局）今日表示，支持代幣化！",
    "Ligature: the ﬁntech scene.",
    "Hangul: 한국은행 and 한국은행.",
    "Jamo pair: \u1100\u1161 then ASCII a\u1161.",
    "Greek: ΣΟΦΙΑ and σοφία.",
    "No-break space:\u00a0HKMA and ideographic\u3000space.",
    "Lone surrogate: \ud800 HKMA.",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_folding_gives_the_matching_form_whatever_path_it_takes(text: str) -> None:
    folded = Folded(text)
    if folded.mapping is None:
        # Offsets are the text's: each character folds to one character.
        assert len(folded.folded) == len(text)
        assert folded.folded == "".join(normalise(char) for char in text)
        if folded.same_ends:
            # The text was in NFKC form: folding it whole gives the same.
            assert folded.folded == normalise(text)
    else:
        starts, ends = folded.mapping
        assert len(starts) == len(ends) == len(folded.folded)
        assert folded.folded == "".join(
            normalise(text[low:high]) for low, high in dict.fromkeys(zip(starts, ends, strict=True))
        )


def test_text_in_nfkc_form_keeps_its_sentence_ends_and_other_text_reads_its_own() -> None:
    assert Folded("Quotes’ and “marks”. Next.").same_ends
    assert Folded("金管局表示歡迎。證監會亦然。").same_ends
    # NFKC turns "！" into "!": the ends are read from the text, not from its folded form.
    text = "金管局表示歡迎！證監會亦然。"
    assert not Folded(text).same_ends
    assert sentence_ends(text) == [text.index("！") + 1, len(text)]


def test_a_combining_accent_after_ascii_takes_the_slow_path() -> None:
    folded = Folded("cafe\u0301 HKMA")
    # NFKC composes "e" and the accent into one character: offsets need the map.
    assert folded.folded == "café hkma"
    assert folded.mapping is not None
    starts, ends = folded.mapping
    assert (starts[3], ends[3]) == (3, 5)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("One sentence. Another one.\n\nA paragraph.", True),
        ("Quotes’ and “marks” are printable.", True),
        ("Two  spaces.", False),
        ("A\ttab.", False),
        ("A\u00a0no-break space.", False),
        ("A\r\nWindows line end.", False),
    ],
)
def test_plain_spacing_is_single_spaces_and_line_breaks(
    matcher: Matcher, text: str, plain: bool
) -> None:
    _, sentences = matcher.find(text)
    assert sentences.plain is plain


@pytest.mark.parametrize(
    "text",
    [
        "First one.\n\n  The HKMA\tsaid  so.\nLast.",
        "First one. The HKMA said  so. Last.",
        "First one. The\u00a0HKMA said so. Last.",
    ],
)
def test_snippets_are_one_line_with_single_spaces(matcher: Matcher, text: str) -> None:
    _, sentences = matcher.find(text)
    start = text.index("HKMA")
    match = (start, start + 4, 0, False)
    assert sentences.evidence([match], 3, {}) == ("The HKMA said so.",)


def test_evidence_takes_one_snippet_per_sentence_and_stops_at_the_limit() -> None:
    text = "A HKMA one. B HKMA two HKMA. C HKMA three. D HKMA four."
    starts = [i for i in range(len(text)) if text.startswith("HKMA", i)]
    found = [(s, s + 4, 0, False) for s in starts]
    sentences = Sentences(text, sentence_ends(text), plain=True)
    assert sentences.evidence(found, 3, {}) == ("A HKMA one.", "B HKMA two HKMA.", "C HKMA three.")
    assert sentences.evidence(found[:1], 3, {}) == ("A HKMA one.",)


def test_a_long_sentence_is_cut_around_each_match() -> None:
    text = "word " * 80 + "HKMA " + "word " * 80 + "SFC " + "word " * 80 + "end."
    sentences = Sentences(text, sentence_ends(text), plain=False)
    first, second = text.index("HKMA"), text.index("SFC")
    [near_first] = sentences.evidence([(first, first + 4, 0, False)], 3, {})
    [near_second] = sentences.evidence([(second, second + 3, 1, False)], 3, {})
    assert "HKMA" in near_first and "SFC" in near_second
    assert len(near_first) <= SNIPPET_CHARS and near_first.startswith("…")


def test_tags_of_text_with_odd_spacing_match_those_of_clean_text() -> None:
    tagger = Tagger.from_path(REPO / "taxonomy.toml")
    clean = "The HKMA and the SFC discussed stablecoins. Ant Group’s Alipay grew."
    messy = "The  HKMA\tand the\u00a0SFC discussed stablecoins.   Ant Group’s Alipay \t grew."
    assert [(t.id, t.count, t.evidence) for t in tagger.tag(messy)] == [
        (t.id, t.count, t.evidence) for t in tagger.tag(clean)
    ]


def test_a_plain_texts_snippets_are_those_collapsing_whitespace_would_give() -> None:
    # Long sentences (cut around each match), short ones, a stop inside a term, a line break.
    words = [f"word{n}" for n in range(400)]
    text = (
        " ".join(words[:120])
        + ". "
        + " ".join(words[120:130])
        + ". GenA.I. Sandbox "
        + " ".join(words[130:300])
        + "\n"
        + " ".join(words[300:])
        + "."
    )
    ends = sentence_ends(text)
    plain = Sentences(text, ends, plain=True)
    spaced = Sentences(text, ends, plain=False)
    checked = 0
    for start in range(0, len(text) - 12, 7):
        for length in (5, 12, 300):
            end = min(start + length, len(text))
            found = [(start, end, 0, False)]
            assert plain.evidence(found, 3, {}) == spaced.evidence(found, 3, {}), (start, end)
            checked += 1
    assert checked > 1000
    # The first sentence is long: its snippets are windows cut around the match.
    (snippet,) = plain.evidence([(300, 310, 0, False)], 3, {})
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= SNIPPET_CHARS
