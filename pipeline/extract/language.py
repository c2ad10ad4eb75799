"""Language codes: normalise what a page declares, or detect the language of its text.

Detection, chosen by ``bench/language.py`` (accuracy and speed of five detectors on the evaluation
pages and Chinese texts): Han-dominated text is Chinese, and Traditional or Simplified by counting
characters written differently in the two scripts (as right as ``hanzidentifier`` and faster);
any other text goes to CLD2 (``pycld2``), which matched the best of the others on accuracy at
ten times py3langid's speed, loads in milliseconds instead of most of a second, and needs no
model download. When CLD2 is unsure, a function-word rule still recognises English.
"""

from __future__ import annotations

import re

import pycld2

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
# Characters are counted as the length of what a pattern removes. Han characters and letters
# fill Chinese text: one match per run of them is four to six times faster than one per
# character. The rarer ones (kana, the characters only one script has) are matched one by one:
# a pattern of one character is searched for faster than a run, which outweighs the matches.
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN_RUN = re.compile(f"[{_HAN_RANGES}]+")
_ANY_HAN = re.compile(f"[{_HAN_RANGES}]")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_KANA = re.compile("[\u3040-\u30ff]")
_TRADITIONAL_CHAR = re.compile(f"[{''.join(sorted(_TRADITIONAL_ONLY))}]")
_SIMPLIFIED_CHAR = re.compile(f"[{''.join(sorted(_SIMPLIFIED_ONLY))}]")
# CLD2 still answers with a few retired ISO 639-1 codes.
_CLD2_CODES = {"iw": "he", "in": "id", "jw": "jv", "mo": "ro"}

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


def detect_lang(text: str) -> str | None:
    """The language of a text: ``en``, ``zh-hant``, ``zh-hans``, another code, or None."""
    sample = text[:GUESS_SAMPLE_CHARS]
    chinese = _chinese(sample)
    if chinese is not None:
        return chinese
    code = _cld2(sample)
    return code if code is not None else script_lang(sample)


def script_lang(text: str) -> str | None:
    """A script-based guess: ``en``, ``zh-hant``, ``zh-hans``, or None when unsure."""
    sample = text[:GUESS_SAMPLE_CHARS]
    chinese = _chinese(sample)
    if chinese is not None:
        return chinese
    words = _WORD.findall(sample.lower())
    if words and sum(w in _ENGLISH_WORDS for w in words) / len(words) >= ENGLISH_WORD_SHARE:
        return "en"
    return None


def _chinese(sample: str) -> str | None:
    """``zh-hant``/``zh-hans`` when Han characters dominate (and kana do not: Japanese)."""
    if not _ANY_HAN.search(sample):
        return None  # most texts: one search
    han = _count(_HAN_RUN, sample)
    letters = _count(_LETTER_RUN, sample)
    kana = _count(_KANA, sample)
    if han >= letters * HAN_SHARE_FOR_CHINESE and kana * 10 < han:
        return chinese_script(sample)
    return None


def _cld2(sample: str) -> str | None:
    """CLD2's answer when it is sure of one; a bare ``zh`` gets the character-set count."""
    try:
        reliable, _, details = pycld2.detect(sample)
    except (pycld2.error, UnicodeError, ValueError):
        return None  # bytes it cannot read (lone surrogates): the script rules decide
    code = details[0][1] if details else "un"
    if not reliable or code == "un":
        return None
    if code.lower().startswith("zh"):
        return "zh-hant" if code == "zh-Hant" else chinese_script(sample)
    return _CLD2_CODES.get(code, code.split("-")[0].lower())


def chinese_script(text: str) -> str:
    """``zh-hant`` or ``zh-hans`` by counting characters that differ between the scripts."""
    traditional = _count(_TRADITIONAL_CHAR, text)
    simplified = _count(_SIMPLIFIED_CHAR, text)
    # Hong Kong publishes in Traditional Chinese, so a tie goes that way.
    return "zh-hans" if simplified > traditional else "zh-hant"


def _count(pattern: re.Pattern[str], text: str) -> int:
    """How many characters of ``text`` the pattern matches (a character class, or runs of one)."""
    return len(text) - len(pattern.sub("", text))
