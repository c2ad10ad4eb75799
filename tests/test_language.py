"""Language detection of text a page does not label: Chinese by script and character set, other
languages by CLD2, the script rules when CLD2 cannot answer; and declared codes normalised."""

from __future__ import annotations

import pytest

from pipeline.extract.language import chinese_script, detect_lang, normalise_lang, script_lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The HKMA said the licensing regime for stablecoin issuers is now in force.", "en"),
        ("金管局今日公布穩定幣發行人發牌制度的最新安排，這個制度將於明年實施。", "zh-hant"),
        ("金管局今日公布稳定币发行人发牌制度的最新安排，这个制度将于明年实施。", "zh-hans"),
        # Chinese news quotes English names and tickers; the Han share still decides.
        ("HKMA 今日公布 stablecoin 發牌制度 的 最新安排，銀行須於三個月內遵守。", "zh-hant"),
        # Kanji with kana is Japanese, not Chinese.
        ("香港金融管理局は新しい措置を発表し、銀行は対応を求められている。", "ja"),
        ("한국은행은 오늘 기준금리를 동결한다고 발표했으며 시장은 이를 예상했다.", "ko"),
        ("Le régulateur a publié de nouvelles règles pour les banques et les plateformes.", "fr"),
        ("Die Aufsicht hat heute neue Regeln für alle Banken und Börsen veröffentlicht.", "de"),
        # CLD2 answers "iw" for Hebrew; the current code is "he".
        ("בנק ישראל הודיע היום על העלאת הריבית בשיעור של רבע אחוז, כך נמסר בהודעה.", "he"),
    ],
)
def test_detect_lang(text: str, expected: str) -> None:
    assert detect_lang(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "12345 67890", "ok"])
def test_text_too_thin_to_tell_is_none(text: str) -> None:
    assert detect_lang(text) is None


def test_text_cld2_cannot_read_falls_back_to_the_script_rules() -> None:
    # A lone surrogate (a broken emoji from a bad decode) cannot be encoded for CLD2.
    text = "\ud800 The HKMA said that the regime is in force for all of the banks and firms."
    assert detect_lang(text) == "en"


def test_script_rules_alone_tell_only_english_and_chinese() -> None:
    assert script_lang("The HKMA said that the regime is in force for all of the banks.") == "en"
    assert script_lang("金管局今日公布稳定币发行人发牌制度，这个制度将于明年实施。") == "zh-hans"
    assert script_lang("Die Aufsicht hat heute neue Regeln veröffentlicht.") is None


def test_chinese_script_tie_goes_to_traditional() -> None:
    # Hong Kong publishes in Traditional Chinese; text with no telling character is read so.
    assert chinese_script("金管局今日公布") == "zh-hant"


def test_scripts_and_shares_count_characters_not_runs() -> None:
    # Three characters of one script in one run against two of the other apart: three win.
    assert chinese_script("這個們 金 这 管 个") == "zh-hant"
    assert chinese_script("这个们 金 這 管 個") == "zh-hans"
    # Six Han characters in one run among fourteen one-letter words: 6 of 20 letters, enough.
    assert script_lang("中文中文中文 a b c d e f g h i j k l m n") == "zh-hant"
    assert script_lang("中文中文中 a b c d e f g h i j k l m n") is None  # 5 of 19: too few


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en-US", "en"),
        ("zh-HK", "zh-hant"),
        ("zh_TW", "zh-hant"),
        ("zh-Hant", "zh-hant"),
        ("zh-CN", "zh-hans"),
        ("zh-Hans-SG", "zh-hans"),
        ("yue", "zh-hant"),
        ("zh", None),  # the script is unknown until the text is read
        ("utf-8", None),
        ("", None),
    ],
)
def test_normalise_lang(code: str, expected: str | None) -> None:
    assert normalise_lang(code) == expected
