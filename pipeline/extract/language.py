"""Language codes: normalise what a page declares, or guess cheaply from the script of its text."""

from __future__ import annotations

import re

# Enough text to tell scripts apart; counting more only costs time.
GUESS_SAMPLE_CHARS = 2000
# Share of letters that must be Han characters for the text to count as Chinese. Chinese news
# quotes English names and tickers, so the bar sits well below one half.
HAN_SHARE_FOR_CHINESE = 0.3
# English function words per word that mark English rather than another Latin-script language.
ENGLISH_WORD_SHARE = 0.06

# Characters written differently in the two Chinese scripts; frequent in news text.
_TRADITIONAL = frozenset("這個們來時說為對國會與於後發經關還開過動機業實現長進際點體產務區員當變")
_SIMPLIFIED = frozenset("这个们来时说为对国会与于后发经关还开过动机业实现长进际点体产务区员当变")
_TRADITIONAL_ONLY = _TRADITIONAL - _SIMPLIFIED
_SIMPLIFIED_ONLY = _SIMPLIFIED - _TRADITIONAL

_ENGLISH_WORDS = frozenset(
    {"the", "and", "of", "to", "in", "is", "that", "for", "on", "with", "as", "was", "by", "it"}
)
_WORD = re.compile(r"[A-Za-z]+")

_HANT_REGIONS = frozenset({"hk", "tw", "mo", "hant"})
_HANS_REGIONS = frozenset({"cn", "sg", "my", "hans"})


def normalise_lang(code: str | None) -> str | None:
    """``en-US`` → ``en``, ``zh-HK`` → ``zh-hant``, ``zh-CN`` → ``zh-hans``; bare ``zh`` → None."""
    if not code:
        return None
    parts = [p for p in code.strip().replace("_", "-").lower().split("-") if p]
    if not parts or not parts[0].isalpha() or len(parts[0]) > 3:
        return None
    primary = parts[0]
    # "utf-8" in a Content-Language tag is a charset, not a language.
    if any(p.isdigit() and len(p) != 3 for p in parts[1:]):
        return None
    if primary in ("zh", "zho", "chi", "cmn", "yue"):
        subtags = set(parts[1:])
        if subtags & _HANT_REGIONS or primary == "yue":
            return "zh-hant"
        if subtags & _HANS_REGIONS:
            return "zh-hans"
        return None  # the script is unknown: leave it to the guess
    return primary


def guess_lang(text: str) -> str | None:
    """A script-based guess: ``en``, ``zh-hant``, ``zh-hans``, or None when unsure."""
    sample = text[:GUESS_SAMPLE_CHARS]
    if not sample:
        return None
    han = kana = letters = 0
    for ch in sample:
        if ch.isalpha():
            letters += 1
            if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
                han += 1
            elif "\u3040" <= ch <= "\u30ff":
                kana += 1
    if not letters:
        return None
    if han / letters >= HAN_SHARE_FOR_CHINESE and kana * 10 < han:
        return chinese_script(sample)
    words = _WORD.findall(sample.lower())
    if words and sum(w in _ENGLISH_WORDS for w in words) / len(words) >= ENGLISH_WORD_SHARE:
        return "en"
    return None


def chinese_script(text: str) -> str:
    """``zh-hant`` or ``zh-hans`` by counting characters that differ between the scripts."""
    traditional = sum(ch in _TRADITIONAL_ONLY for ch in text)
    simplified = sum(ch in _SIMPLIFIED_ONLY for ch in text)
    # Hong Kong publishes in Traditional Chinese, so a tie goes that way.
    return "zh-hans" if simplified > traditional else "zh-hant"
