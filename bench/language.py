"""Language detection: which detector tells English, Traditional and Simplified Chinese and other
languages apart best, and how fast, on the text newswatch stores.

Samples (each labelled ``en``, ``zh-hant``, ``zh-hans`` or ``other``):

- the ground-truth bodies of the evaluation pages under ``../shared/eval/pages``
  (``NEWSWATCH_EVAL_PAGES`` points elsewhere, ``NEWSWATCH_SHARED_DIR`` names another shared
  folder; without them the benchmark says it is skipped), labelled by the ``<html lang>``
  their publisher declares (pages that declare none are left out, except the one from mainland
  China, which is Simplified Chinese; six African pages that declare English but are not are
  labelled ``other``); they include Japanese, whose kanji must not pass for Chinese;
- the bodies of the recorded HKMA Chinese press releases under ``fixtures/http`` (Traditional);
- short Traditional and Simplified news sentences written for this benchmark, the same
  sentences in both scripts, because real Simplified pages are scarce in the other sets.

Each detector sees the first ``GUESS_SAMPLE_CHARS`` characters of a body (what newswatch reads)
and, separately, the first ``SHORT_CHARS`` (a lead or a summary). Prints accuracy per label and
texts per CPU-second. The Traditional/Simplified step is compared on its own too: newswatch's
character-set count against ``hanzidentifier``.

Detectors: newswatch's script rules alone; ``py3langid``, ``lingua``, ``pycld2`` and
``langdetect``, each mapped onto the four labels (a bare ``zh`` resolved by the script count); and
newswatch's detector as shipped (script rules for Han text, CLD2 for the rest). Those not
installed are skipped: ``pip install py3langid lingua-language-detector pycld2 langdetect
hanzidentifier``. Usage: ``python bench/language.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and a file here could shadow a package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import gzip
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from pipeline.extract import extract_article
from pipeline.extract.language import (
    GUESS_SAMPLE_CHARS,
    chinese_script,
    detect_lang,
    script_lang,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
EVAL_PAGES = Path(os.environ.get("NEWSWATCH_EVAL_PAGES") or SHARED / "eval" / "pages")
HKMA_FIXTURES = REPO / "fixtures" / "http" / "www.hkma.gov.hk"
LABELS = ("en", "zh-hant", "zh-hans", "other")
# Passes over the samples per detector; the fastest counts (the first pays for cold caches).
TIMED_PASSES = 2
# A lead paragraph or a feed summary: detectors that need context show it here.
SHORT_CHARS = 200
# Pages that declare English but are written in another language (read to check): every
# detector says "other" for them, and so does a reader.
MISDECLARED = {
    "tz/HabariLeo_2025_01_23.html.gz": "Swahili",
    "za/Dizindaba_2025_11_16.html.gz": "isiXhosa",
    "za/EyethuNews_2025_11_25.html.gz": "isiZulu",
    "za/Ilanga_2025_12_03.html.gz": "isiZulu",
    "za/IsolezweLesiXhosa_2025_11_09.html.gz": "isiXhosa",
    "za/Isolezwe_2025_11_09.html.gz": "isiZulu",
}
_LANG_ATTR = re.compile(rb"<html[^>]*?\blang=[\"']?([A-Za-z_-]+)", re.IGNORECASE)

# The same news sentences in both scripts (written for this benchmark).
PARALLEL = (
    (
        "香港金融管理局今日宣布，首批穩定幣發行人牌照將於明年初發出，銀行須遵守新的監管要求。",
        "香港金融管理局今日宣布，首批稳定币发行人牌照将于明年初发出，银行须遵守新的监管要求。",
    ),
    (
        "證監會表示，虛擬資產交易平台必須為客戶資產提供足夠保障，並定期向監管機構提交報告。",
        "证监会表示，虚拟资产交易平台必须为客户资产提供足够保障，并定期向监管机构提交报告。",
    ),
    (
        "螞蟻集團在香港設立新的研究中心，重點發展人工智能和區塊鏈技術，預計聘請三百名員工。",
        "蚂蚁集团在香港设立新的研究中心，重点发展人工智能和区块链技术，预计聘请三百名员工。",
    ),
    (
        "財政司司長在預算案中提出多項措施，協助中小企業應對經濟下行的壓力，包括延長貸款還款期。",
        "财政司司长在预算案中提出多项措施，协助中小企业应对经济下行的压力，包括延长贷款还款期。",
    ),
    (
        "多家銀行已完成代幣化存款試驗，參與者認為這項技術能夠降低跨境支付的成本和時間。",
        "多家银行已完成代币化存款试验，参与者认为这项技术能够降低跨境支付的成本和时间。",
    ),
    (
        "市場人士預期聯儲局會再減息，港元拆息隨之回落，樓市氣氛有所改善，成交量明顯上升。",
        "市场人士预期联储局会再减息，港元拆息随之回落，楼市气氛有所改善，成交量明显上升。",
    ),
)


@dataclass(frozen=True, slots=True)
class Sample:
    """A text and its label; ``origin`` names where it came from."""

    text: str
    label: str
    origin: str


def label_of(declared: str) -> str:
    """``en-US`` → ``en``, ``zh-HK`` → ``zh-hant``, ``zh-CN`` → ``zh-hans``, else ``other``."""
    parts = declared.lower().replace("_", "-").split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh":
        return "zh-hans" if {"cn", "hans", "sg"} & set(parts[1:]) else "zh-hant"
    return "other"


def eval_samples(folder: Path) -> list[Sample]:
    """Ground-truth bodies of the evaluation pages, labelled by their declared language."""
    index = folder / "index.jsonl"
    samples = []
    for line in index.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        head = gzip.decompress((folder / row["file"]).read_bytes())[:20_000]
        match = _LANG_ATTR.search(head)
        if row["file"] in MISDECLARED:
            label = "other"
        elif match:
            label = label_of(match.group(1).decode("ascii"))
        elif row["country"] == "cn":
            label = "zh-hans"
        else:
            continue
        if row["body_text"].strip():
            samples.append(Sample(row["body_text"], label, row["file"]))
    return samples


def hkma_samples() -> list[Sample]:
    """Bodies of the recorded HKMA Chinese press releases (Traditional Chinese)."""
    samples = []
    for path in sorted(HKMA_FIXTURES.glob("chi-*.body.html")):
        html = path.read_bytes()
        # The release body only: the page declares zh-HK, and the detector must not see that.
        tree = LexborHTMLParser(html)
        node = tree.css_first("#content .template-content-area")
        text = node.text(separator="\n") if node is not None else ""
        if not text.strip():
            text = extract_article(html, f"https://www.hkma.gov.hk/{path.name}").text
        samples.append(Sample(text, "zh-hant", f"fixtures/{path.name}"))
    return samples


def parallel_samples() -> list[Sample]:
    """The same sentences in Traditional and in Simplified characters."""
    samples = []
    for number, (traditional, simplified) in enumerate(PARALLEL, 1):
        samples.append(Sample(traditional, "zh-hant", f"parallel-{number}-hant"))
        samples.append(Sample(simplified, "zh-hans", f"parallel-{number}-hans"))
    return samples


def _four(code: str | None, text: str) -> str:
    """A detector's answer on the four labels; a bare Chinese answer gets the script count."""
    if not code:
        return "other"
    code = code.lower().replace("_", "-")
    if code in ("zh-hant", "zh-tw", "zh-hk"):
        return "zh-hant"
    if code in ("zh-hans", "zh-cn"):
        return "zh-hans"
    if code in ("zh", "chinese"):
        return chinese_script(text)
    return "en" if code in ("en", "english") else "other"


def detectors() -> dict[str, Callable[[str], str]]:
    """Every detector installed here, as text → one of ``LABELS``."""
    found: dict[str, Callable[[str], str]] = {
        "newswatch (shipped)": lambda text: _four(detect_lang(text), text),
        "script rules only": lambda text: _four(script_lang(text), text),
    }
    try:
        import py3langid

        found["py3langid"] = lambda text: _four(py3langid.classify(text)[0], text)
    except ImportError:
        pass
    try:
        from lingua import LanguageDetectorBuilder

        lingua = LanguageDetectorBuilder.from_all_languages().build()

        def by_lingua(text: str) -> str:
            language = lingua.detect_language_of(text)
            return _four(language.iso_code_639_1.name if language else None, text)

        found["lingua"] = by_lingua
    except ImportError:
        pass
    try:
        import pycld2

        def by_cld2(text: str) -> str:
            try:
                details = pycld2.detect(text)[2]
            except pycld2.error:
                return "other"
            return _four(details[0][1] if details[0][1] != "un" else None, text)

        found["pycld2"] = by_cld2
    except ImportError:
        pass
    try:
        from langdetect import DetectorFactory, LangDetectException, detect

        DetectorFactory.seed = 0  # its sampling is random: fixed for repeatable figures

        def by_langdetect(text: str) -> str:
            try:
                return _four(detect(text), text)
            except LangDetectException:
                return "other"

        found["langdetect"] = by_langdetect
    except ImportError:
        pass
    return found


def evaluate(
    name: str, detect: Callable[[str], str], samples: list[Sample], chars: int
) -> tuple[Counter[str], Counter[str], float, list[str]]:
    """Right answers per label, samples per label, CPU seconds, and what it got wrong."""
    texts = [s.text[:chars] for s in samples]
    detect(texts[0])  # models load on first use
    seconds = float("inf")
    for _ in range(TIMED_PASSES):
        start = time.process_time()
        answers = [detect(text) for text in texts]
        seconds = min(seconds, time.process_time() - start)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    wrong = []
    for sample, answer in zip(samples, answers, strict=True):
        total[sample.label] += 1
        if answer == sample.label:
            right[sample.label] += 1
        else:
            wrong.append(f"{sample.origin}: {sample.label} → {answer}")
    return right, total, seconds, wrong


def main() -> None:
    """Build the samples, run every detector and print accuracy and speed."""
    if not (EVAL_PAGES / "index.jsonl").is_file():
        # English, "other" and Japanese come from these pages alone: without them there is
        # nothing to compare on those labels, and `make bench` goes on.
        print(f"skipped: {EVAL_PAGES} not found (the evaluation pages, labelled by language)")
        raise SystemExit(0)
    samples = eval_samples(EVAL_PAGES) + hkma_samples() + parallel_samples()
    counts = Counter(s.label for s in samples)
    print(f"{len(samples)} samples: " + ", ".join(f"{k} {counts[k]}" for k in LABELS))
    for chars in (GUESS_SAMPLE_CHARS, SHORT_CHARS):
        print(f"\nfirst {chars} characters of each text")
        print(
            f"{'detector':22}{'all':>7}" + "".join(f"{k:>9}" for k in LABELS) + f"{'texts/s':>10}"
        )
        for name, detect in detectors().items():
            right, total, seconds, wrong = evaluate(name, detect, samples, chars)
            accuracy = sum(right.values()) / len(samples)
            per = "".join(
                f"{right[k] / total[k]:>9.1%}" if total[k] else f"{'-':>9}" for k in LABELS
            )
            print(f"{name:22}{accuracy:>7.1%}{per}{len(samples) / seconds:>10.0f}")
            if chars == GUESS_SAMPLE_CHARS and wrong:
                print("    wrong: " + "; ".join(wrong[:6]) + (" …" if len(wrong) > 6 else ""))
    traditional_vs_simplified(samples)


def traditional_vs_simplified(samples: list[Sample]) -> None:
    """The script step alone, on the Chinese samples."""
    chinese = [s for s in samples if s.label.startswith("zh")]
    print(f"\nTraditional or Simplified, {len(chinese)} Chinese samples")
    steps: dict[str, Callable[[str], str]] = {"newswatch character sets": chinese_script}
    try:
        import hanzidentifier

        def by_hanzidentifier(text: str) -> str:
            kind = hanzidentifier.identify(text)
            return "zh-hans" if kind == hanzidentifier.SIMPLIFIED else "zh-hant"

        steps["hanzidentifier"] = by_hanzidentifier
    except ImportError:
        pass
    for name, step in steps.items():
        start = time.process_time()
        answers = [step(s.text[:GUESS_SAMPLE_CHARS]) for s in chinese]
        seconds = time.process_time() - start
        right = sum(a == s.label for a, s in zip(answers, chinese, strict=True))
        print(f"{name:26}{right}/{len(chinese)} right, {len(chinese) / seconds:,.0f} texts/s")


if __name__ == "__main__":
    main()
