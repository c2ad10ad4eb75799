"""Deduplication and story grouping: precision and recall of each tier on a labelled set.

The labelled set is built deterministically (``RANDOM_SEED``) from the real news pages under
``../shared/eval/pages`` (each page extracted with ``extract_article``) and from the project's
fixtures, read the way a replayed ingestion reads them (``fixtures/http``: discover, plan,
fetch, build and tag, in memory; the same keys, titles, texts and tags ``newswatch ingest
--replay`` stores, without a database or a Prefect server). Pairs, by category:

1. exact    — the same text under another URL and outlet;
2. chrome   — the extracted body rendered into another outlet's page template (navigation,
              share bar, "Read more" and related links, newsletter box, footer) and extracted
              again, so extraction differences count;
3. edited   — a copy with 5–30% of its sentences replaced, reworded, deleted or followed by an
              inserted one;
4. outlet   — two different articles of one outlet on one day (negatives);
5. template — a regulator release and a sibling of its series: the same boilerplate with the
              numbers and a few names changed, under the next reference number, and the
              fixtures' own same-titled releases of one series; these must not be grouped at
              all, whatever their Jaccard. Beside it, a probe: each release against its very
              text under the next number.

A pair of categories 1–4 is a near-duplicate when the true Jaccard similarity of the shingles of
the two texts the ``Deduper`` sees is at least ``NEAR_DUPLICATE_JACCARD`` (the issue's
definition); it is predicted one when a ``Deduper`` holding the first article calls the second a
``duplicate`` or ``near_duplicate`` of it. Printed per category and overall: pairs, positives,
predicted, precision and recall, with the misses and false alarms listed. The MinHash signatures
are compared with datasketch's (optional; skipped if it is not installed): estimate error,
candidate recall of the 16×4 bands against ``MinHashLSH(threshold=0.8, num_perm=64)``, and time
per signature.

Same story: every fixture article goes through one ``Deduper`` in published order; each verdict
other than ``new`` joins the article to the one it names, and the stories are the connected sets.
Pairwise precision (of the pairs put in one story, the share in one labelled group) and recall
are measured against ``STORY_GROUPS``, written here by hand; articles in no group are stories of
their own. ``RELATED`` lists articles a reader could call either way (a follow-up, an analysis
piece, a speech at the event): precision is printed strict (such pairs count as wrong) and
lenient (they do not count). Also printed, to tune from: the figures without tags and with
every link above the bar kept (not only each verdict's best), the links that join two labelled
stories and the misses with their title, body and tag scores, and a sweep of
``SAME_STORY_MIN``. Last, CPU time per article for ``check`` + ``add``.

Usage: ``python bench/dedupe.py [--show 25]``. The pages come from ``../shared``
(``NEWSWATCH_SHARED_DIR`` names another shared folder, ``NEWSWATCH_EVAL_PAGES`` another pages
folder); without them the benchmark says so and exits with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and a file here could shadow a package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import dataclasses
import gzip
import html
import itertools
import json
import logging
import os
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from statistics import mean, median
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from pipeline.dedupe import Deduper
from pipeline.errors import NewswatchError
from pipeline.extract import extract_article
from pipeline.fetch import Fetcher, ReplayTransport, build_client
from pipeline.ingest import (
    Action,
    IngestOptions,
    build_article,
    discover_source,
    fetch_items,
    load_run_config,
    plan_items,
)
from pipeline.models import Article, Verdict
from pipeline.stories import match, minhash
from pipeline.stories.features import MIN_NEAR_TOKENS, Fingerprint, language_family
from pipeline.stories.match import NEAR_DUPLICATE_JACCARD, compare, within_window
from pipeline.stories.shingles import jaccard, shingle_hashes, tokens
from pipeline.stories.titles import overlap

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")
EVAL_PAGES = Path(os.environ.get("NEWSWATCH_EVAL_PAGES") or SHARED / "eval" / "pages")
FIXTURES = REPO / "fixtures" / "http"
# Fixed, so that two runs build the same labelled set and print the same figures.
RANDOM_SEED = 20251120
# The fixtures were recorded at this time: sources that ask "until today" ask until then.
FIXTURES_NOW = datetime(2025, 11, 20, 23, 30, tzinfo=UTC) - timedelta(hours=8)
# Extraction refuses publication dates after the fetch; every eval page was crawled before this.
FETCHED_AT = datetime(2030, 1, 1, tzinfo=UTC)
# Edited copies per source article, and the share of sentences edited (the 5–30%):
# drawn uniformly, so the copies straddle the 0.8 Jaccard line and test both sides of it.
EDITED_COPIES = 2
EDIT_SHARE = (0.05, 0.30)
# Goals from the issue.
NEAR_PRECISION_GOAL = 0.99
NEAR_RECALL_GOAL = 0.95
STORY_PRECISION_GOAL = 0.95
# Timed passes of check + add and of the signatures; the fastest counts, as in bench/tagging.py.
REPEAT = 3
# SAME_STORY_MIN values the sweep re-runs the fixture stream with (the shipped one is added).
STORY_SWEEP = (0.28, 0.30, 0.34, 0.36, 0.40, 0.45)
NEAR_KINDS = ("duplicate", "near_duplicate")
CATEGORIES = ("exact", "chrome", "edited", "outlet", "template")
# Outlets the copies appear under: (host, name). Invented, so no real outlet is misquoted.
COPY_OUTLETS = (
    ("www.harbourledger.example", "The Harbour Ledger"),
    ("asiawire.example", "Asia Wire Daily"),
    ("news.financebrief.example", "Finance Brief"),
)
# Names a sibling release swaps (category 5): a series' next release names other firms.
NAME_SWAPS = {
    "HSBC": "Citibank",
    "Standard Chartered": "DBS Bank",
    "Bank of China (Hong Kong)": "Hang Seng Bank",
    "Ant International": "Airwallex",
    "Ant Digital Technologies": "WeLab Digital",
    "Cyberport": "Science Park",
    "AlipayHK": "PayMe",
    "November": "December",
    "October": "November",
    "Harbourline Digital Exchange": "Victoria Peak Exchange",
    "Kowloon Ridge Securities": "Tsim Sha Tsui Securities",
    "Northgate Crypto": "Southbay Crypto",
    "Vantorix Exchange": "Lumora Exchange",
    "金管局": "金融管理局",
    "銀行": "銀號",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")
_NUMBER = re.compile(r"\d+")
_HKMA_NUMBER = re.compile(r"(\d{8}[-ec])(\d+)(/?)$")
_SFC_NUMBER = re.compile(r"(\d{2}[A-Z]{1,4})(\d+)")

# --- same-story labels ------------------------------------------------------------------------
# Hand-curated from the fixture articles: titles as extracted (a title names every article that
# carries it) or item keys. One group is one event: its write-ups by every outlet, its
# translations, and the regulator documents issued with it (a release and the circular or papers
# it announces).
STORY_GROUPS: tuple[tuple[str, ...], ...] = (
    (  # approval and debut of the first spot Solana ETF (one group, as the issue names it)
        "Hong Kong approves first spot Solana ETF",
        "Hong Kong approves its first spot Solana ETF",
        "Hong Kong's First Solana ETF Starts Trading: What Investors Should Know",
        "Hong Kong's First Solana ETF Debuts With Modest Volume",
        "Solana's Hong Kong ETF Debut: A Gateway for Asian Institutional Capital",
    ),
    (
        "China Financial Leasing Group to raise $11.1M for AI-driven crypto investment platform",
        "China Financial Leasing's $11.1M AI-Crypto Bet Signals a Hong Kong Small-Cap Pivot",
    ),
    (  # the HKMA on its review of stablecoin licence applications, 27–28 October
        "HKMA Says Stablecoin Licence Applications Under Review, First Approvals Expected Early"
        " 2026",
        "HKMA flags slow and selective stablecoin licensing",
        "Hong Kong receives dozens of stablecoin license applications, signals few approvals",
        "Hong Kong regulator signals only a handful of stablecoin licenses in first batch",
        "Hong Kong Expects Only a Handful of Stablecoin Licenses in First Round, HKMA Says",
    ),
    ("HKMA Sets Out Expectations on Banks' Use of AI Agents",),  # a syndicated, edited copy
    (
        "SFC consults on requirements for virtual asset dealing and custodian service providers",
        "Consultation Paper on Proposed Regulatory Requirements for Virtual Asset Dealing Service"
        " Providers",
        "Consultation Paper on Proposed Regulatory Requirements for Virtual Asset Custodian Service"
        " Providers",
    ),
    (
        "Cross-boundary Wealth Management Connect: enhancements take effect",
        "跨境理財通:優化措施生效",
        "Cross-boundary Wealth Management Connect Scheme - implementation of enhancements",
    ),
    (  # the HKMA's Fintech Week announcement (its release, translation and keynote name the
        # initiatives; the press calls them Fintech 2030) and the syndicated copy
        "HKMA unveils new fintech initiatives at Hong Kong Fintech Week 2025",
        "金管局在二〇二五香港金融科技周公布新的金融科技措施",
        "Opening keynote at Hong Kong Fintech Week 2025",
        "HKMA unveils Fintech 2030 strategy",
        "HKMA puts tokenization at core of Fintech 2030 plan",
        "HKMA’s Fintech 2030 plan puts AI and tokenisation at the heart of Hong Kong banking",
        "HKMA Unveils Fintech 2030 Strategy With Focus on Data, AI and Tokenisation",
    ),
    (
        "Hong Kong FinTech Week 2025 opens today",
        "Hong Kong Fintech Week 2025 Opens With Focus on AI, Tokenisation and Cross-Border Finance",
    ),
    (
        "SFC unveils initiatives to enhance the virtual asset market at Hong Kong Fintech Week"
        " 2025",
        "Circular on expansion of products and services of virtual asset trading platforms",
    ),
    (
        "SFC lets Hong Kong crypto platforms share global order books",
        "Hong Kong's SFC Opens Door to Shared Global Order Books for Licensed Exchanges",
        "Hong Kong SFC lets licensed exchanges pool liquidity with global affiliates",
        "SFC Allows Licensed VATPs to Share Order Books With Global Affiliates",
        "Hong Kong SFC lets licensed crypto exchanges tap global order books",
        "SFC's Shared Order Book Reform Could Deepen Hong Kong Crypto Liquidity",
        "SFC allows licensed virtual asset trading platforms to share order books with global"
        " affiliates",
    ),
    (
        "Ant Group's Eric Jing: AI and Tokenisation Are Redefining Financial Services in Hong Kong",
        "Ant Group chairman says Hong Kong regulators lead global experiments in AI and"
        " tokenisation",
    ),
    (
        "HKMA launches EnsembleTX tokenised deposit pilot",
        "HKMA launches EnsembleTX pilot for real-value tokenised deposit transactions",
        "HKMA moves Project Ensemble into pilot with real-value tokenized deposit transactions",
    ),
    (
        "HSBC extends tokenised deposit service to cross-border payments",
        "HSBC extends tokenised deposit service to cross-border corporate payments",
    ),
    (
        "Ant Digital Technologies Targets Hong Kong Banks With AI Agent and RWA Tools",
        "Ant Digital Technologies Brings RWA Tokenization Tools to Hong Kong Partners",
        "Ant Digital Technologies opens RWA platform to Hong Kong institutions",
    ),
    (
        "AlipayHK Rolls Out AI Payment Agents for Users and Merchants",
        "Ant International rolls out AI agents across Alipay+ wallets",
    ),
    (
        "Hong Kong issues third tranche of digital green bonds",
        "Government announces results of digital green bond offering",
        "Hong Kong raises HK$10 billion from digital green bonds in third tokenised sale",
        "Hong Kong sells HK$10 billion of tokenized green bonds in largest digital issuance yet",
    ),
    (
        "Update on licence applications under the stablecoin issuer licensing regime",
        "穩定幣發行人發牌制度下牌照申請的最新情況",
    ),
    (
        "HKMA's GenAI Sandbox Second Cohort Moves Into Testing",
        "HKMA's GenAI Sandbox moves to second cohort",
        "More Hong Kong banks test AI agents in HKMA’s GenAI sandbox",
        "HKMA announces participants of second cohort of GenAI Sandbox",
        "金管局公布第二期生成式人工智能沙盒參與者",
    ),
    (
        "HSBC, Standard Chartered Among Banks Testing Tokenized Deposits on HKMA Platform",
        "Hong Kong's Tokenized Deposit Push: Why HSBC and Standard Chartered Are Betting on"
        " EnsembleTX",
    ),
    (  # the joint statement (HKMA, its translation, SFC) and the joint circular issued with it
        "SFC and HKMA issue joint statement on distribution of tokenised investment products",
        "證監會與金管局就分銷代幣化投資產品發出聯合聲明",
        "Joint circular on intermediaries' distribution of tokenised investment products",
    ),
    (
        "LCQ7: Regulation of stablecoins",
        "Hong Kong lawmakers press officials on stablecoin licensing timeline",
    ),
    (
        "Project Ensemble: pilot of real-value transactions using tokenised deposits commences",
        "Project Ensemble:以代幣化存款進行真實價值交易的試行計劃展開",
        "Hong Kong Banks Step Up Tokenised Deposit Pilots as EnsembleTX Goes Live",
    ),
    (
        "Bitcoin falls below $90K as spot ETF outflows deepen",
        "Bitcoin Slides Below $90,000 as ETF Outflows and Fed Uncertainty Weigh on Crypto",
    ),
    (  # the crypto dealer and custodian bill: consultation conclusions and their write-ups
        "Government and SFC publish consultation conclusions on regulating virtual asset dealing"
        " and custodian services",
        "Hong Kong to license virtual asset dealers and custodians",
        "Hong Kong to table crypto dealer and custodian bill in 2026",
        "Hong Kong to license crypto dealers and custodians under new bill",
        "Hong Kong to Introduce Crypto Dealer and Custodian Bill in 2026",
        "Hong Kong Moves Ahead With Licensing Regimes for VA Dealers and Custodians",
    ),
    # HKMA releases and their translations, by item key: a series repeats its title.
    ("hkma-press:20251021-3", "hkma-press-tc:20251021-3"),
    ("hkma-press:20251030-3", "hkma-press-tc:20251030-3"),
    ("hkma-press:20251031-1", "hkma-press-tc:20251031-1"),
    ("hkma-press:20251105-3", "hkma-press-tc:20251105-3"),
    ("hkma-press:20251107-1", "hkma-press-tc:20251107-1"),
    ("hkma-press:20251118-3", "hkma-press-tc:20251118-3"),
    ("hkma-press:20251118-4", "hkma-press-tc:20251118-4"),
    ("hkma-press:20251120-3", "hkma-press-tc:20251120-3"),
)
# Sets of articles any two of which (unless in one group above) a reader could call one story
# or two: a follow-up, an analysis piece, a roundup, a speech at the event, a neighbouring
# document. A title of a group stands for the whole group.
RELATED: tuple[tuple[str, ...], ...] = (
    (  # announcements on the opening day of Fintech Week
        "HKMA unveils new fintech initiatives at Hong Kong Fintech Week 2025",
        "Hong Kong FinTech Week 2025 opens today",
        "FS speaks at Hong Kong FinTech Week 2025 (with photos)",
        "Remarks at Hong Kong Fintech Week 2025: building the next generation of financial"
        " infrastructure",
    ),
    (
        "SFC unveils initiatives to enhance the virtual asset market at Hong Kong Fintech Week"
        " 2025",
        "SFC lets Hong Kong crypto platforms share global order books",
        "Circular to licensed virtual asset trading platform operators - shared order book"
        " arrangements",
    ),
    (  # a weekly roundup of three stories
        "Hong Kong Crypto News This Week: Shared Order Books, Fintech 2030 and Stablecoins",
        "SFC lets Hong Kong crypto platforms share global order books",
        "HKMA unveils Fintech 2030 strategy",
    ),
    (  # Project Ensemble: launch, banks joining, the pilot's start, guidance issued with it
        "HKMA launches EnsembleTX tokenised deposit pilot",
        "HSBC, Standard Chartered Among Banks Testing Tokenized Deposits on HKMA Platform",
        "Project Ensemble: pilot of real-value transactions using tokenised deposits commences",
        "Remarks at the Project Ensemble industry roundtable",
        "Tokenised deposits: supervisory expectations for authorized institutions",
        "Consultation on the draft guideline on interoperability of tokenised deposit platforms",
        "HKMA Consults Banks on Tokenised Deposit Risk Management",
        "HKMA Explores Cross-Border Tokenised Settlement Under Project Ensemble",
    ),
    (  # stablecoin licensing in late October
        "HKMA Says Stablecoin Licence Applications Under Review, First Approvals Expected Early"
        " 2026",
        "Paper for the Legislative Council Panel on Financial Affairs: implementation of the"
        " Stablecoins Ordinance",
        "Hong Kong's Stablecoin Sandbox Graduates Eye Licenses as HKMA Review Continues",
        "Hong Kong Stablecoin Licensing Explained: The Rules That Took Effect in August",
    ),
    (  # stablecoin licensing in November: the HKMA update, LegCo replies, explainers
        "Update on licence applications under the stablecoin issuer licensing regime",
        "LCQ7: Regulation of stablecoins",
        "LegCo Question 12: Regulation of stablecoins",
        "Stablecoin hopefuls wait on HKMA as first Hong Kong licences loom",
        "Hong Kong's Stablecoin Regime: What Issuers Must Show the HKMA",
        "HKMA Stablecoin License: What We Know So Far",
        "Hong Kong's Stablecoin Race: Who Is Positioned for the First HKMA Licences?",
        "Keynote speech at the Hong Kong Stablecoin and Digital Assets Forum",
    ),
    (
        "AlipayHK Rolls Out AI Payment Agents for Users and Merchants",
        "Hong Kong e-wallets add AI assistants as competition for users heats up",
    ),
    (
        "Hong Kong AI research institute gets HK$1B as Cyberport expands supercomputing",
        "Hong Kong’s new AI research institute begins recruiting as it eyes commercial"
        " breakthroughs",
        "Cyberport Expands AI Supercomputing Centre Capacity for Fintech Start-ups",
        "Cyberport's AI Supercomputing Push Underpins Hong Kong's AI-Fintech Ambitions",
        "Cyberport start-ups tap AI supercomputing centre as demand for compute soars",
    ),
    (  # the crypto sell-off of mid-November, day by day
        "Bitcoin falls below $90K as spot ETF outflows deepen",
        "Crypto Market Today: Bitcoin Tests $90K Support as Altcoins Slide",
        "Bitcoin Slides Toward $92K, Erasing 2025 Gains",
        "Bitcoin ETFs see heaviest weekly outflows since spring",
    ),
    (
        "SFC Grants More Virtual Asset Trading Platform Licences as Market Matures",
        "SFC grants licence to new virtual asset trading platform",
    ),
    (
        "Hong Kong SFC flags new batch of suspicious crypto platforms",
        "SFC warns public of two suspicious virtual asset trading platforms",
    ),
    (
        "SFC consults on requirements for virtual asset dealing and custodian service providers",
        "Circular on preparation for the licensing regimes for virtual asset dealers and"
        " custodians",
    ),
    (
        "Hong Kong IPO Revival: Tech Listings Test Investor Appetite as the Pipeline Swells",
        "Hong Kong IPO pipeline swells as mainland tech firms line up listings before year end",
    ),
    (
        "SFC provides update on tokenised SFC-authorised investment products",
        "Circular on tokenised money market funds - valuation and liquidity management",
    ),
)


@dataclass(frozen=True)
class Doc:
    """One article as the Deduper is given it: item key, article, tag ids; where it came from."""

    key: str
    article: Article
    origin: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pair:
    """A labelled near-duplicate pair: the Deduper holds ``first`` and checks ``second``."""

    category: str
    first: Doc
    second: Doc
    note: str = ""


@dataclass(frozen=True)
class Judged:
    """A pair with its true Jaccard, the signatures' estimate and the Deduper's verdict."""

    pair: Pair
    jaccard: float
    estimate: float | None
    verdict: Verdict

    @property
    def positive(self) -> bool:
        """The label: a near-duplicate (category 5 never is: it must not be grouped)."""
        return self.pair.category != "template" and self.jaccard >= NEAR_DUPLICATE_JACCARD

    @property
    def predicted(self) -> bool:
        """Whether the Deduper called the second a duplicate or near-duplicate of the first."""
        return self.verdict.kind in NEAR_KINDS and self.verdict.of_key == self.pair.first.key

    @property
    def grouped(self) -> bool:
        """Whether the Deduper linked the second to the first by any tier."""
        return self.verdict.kind != "new" and self.verdict.of_key == self.pair.first.key


# --- loading ----------------------------------------------------------------------------------


def require_shared() -> None:
    """Stop, saying what is missing, when the evaluation pages are absent (``make bench`` goes
    on with the next script, as for the other benchmarks that read ../shared)."""
    if not (EVAL_PAGES / "index.jsonl").is_file():
        print(
            f"skipped: {EVAL_PAGES}/index.jsonl not found: this benchmark builds its labelled"
            " set from the evaluation pages in ../shared (set NEWSWATCH_SHARED_DIR or"
            " NEWSWATCH_EVAL_PAGES to point at them)"
        )
        raise SystemExit(0)


def load_eval_docs() -> list[Doc]:
    """Every evaluation page that extracts, as a Doc whose source is its publisher."""
    rows = [json.loads(line) for line in (EVAL_PAGES / "index.jsonl").read_text().splitlines()]
    docs: list[Doc] = []
    for row in rows:
        page = gzip.decompress((EVAL_PAGES / str(row["file"])).read_bytes())
        crawled = datetime.fromisoformat(str(row["crawl_date"])).replace(tzinfo=UTC)
        try:
            article = extract_article(page, str(row["url"]), fetched_at=crawled)
        except NewswatchError:
            continue
        article = dataclasses.replace(
            article,
            published_at=article.published_at or crawled,
            source_id=str(row["publisher"]),
        )
        docs.append(Doc(f"eval:{row['file']}", article, f"eval {row['file']}"))
    return docs


async def _fetch_fixtures() -> list[Doc]:
    options = IngestOptions(
        db_url="sqlite://",
        sources_path=REPO / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
        replay=FIXTURES,
    )
    config = load_run_config(options)
    async with build_client(ReplayTransport(FIXTURES)) as client:
        fetcher = Fetcher(client, polite=False)
        discovered = [
            (source, await discover_source(source, fetcher, None, FIXTURES_NOW))
            for source in config.sources
        ]
        fetched = await fetch_items(plan_items(discovered, {}), fetcher)
    docs: list[Doc] = []
    for item in fetched:
        if item.planned.action in (Action.known, Action.claimed) or item.error or item.skipped:
            continue
        article = build_article(item)
        tags = tuple(tag.id for tag in config.tagger.tag_article(article))
        docs.append(Doc(item.planned.key, article, f"fixture {item.planned.key}", tags))
    return docs


def load_fixture_docs() -> list[Doc]:
    """The fixture articles as a replayed ingestion builds and tags them, in published order."""
    docs = asyncio.run(_fetch_fixtures())
    return sorted(docs, key=published_order)


def published_order(doc: Doc) -> datetime:
    """Sort key: publication time, undated last (a stable sort keeps ties in ingest order)."""
    return doc.article.published_at or datetime.max.replace(tzinfo=UTC)


# --- building the pairs -----------------------------------------------------------------------


def copy_doc(source: Doc, number: int, text: str, kind: str) -> Doc:
    """``source`` republished by another outlet under its own URL, with ``text``."""
    host, name = COPY_OUTLETS[number % len(COPY_OUTLETS)]
    slug = re.sub(r"[^a-z0-9]+", "-", source.article.title.lower()).strip("-")[:60] or "story"
    url = f"https://{host}/{kind}/{number}/{slug}"
    article = dataclasses.replace(
        source.article,
        url=url,
        canonical_url=url,
        text=text,
        source_id=name,
        item_id=None,
        regulator=False,
    )
    return Doc(f"url:{url}", article, f"{kind} copy of {source.origin}")


def paragraphs(text: str) -> list[str]:
    """The text's non-empty paragraphs (lines)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def chrome_parts(name: str, origin: str, others: Sequence[str]) -> dict[str, str]:
    """An outlet's boilerplate: navigation, share bar, links, newsletter box, footer, and the
    credit and editor's lines a republisher puts inside the article itself."""
    links = "".join(
        f'<li><a href="/related/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(others)
    )
    return {
        "nav": '<div class="cookie">We use cookies to improve your experience. Accept all</div>'
        f'<header><a href="/">{name}</a><nav><a href="/markets">Markets</a> <a href="/tech">'
        'Tech</a> <a href="/policy">Policy</a> <a href="/opinion">Opinion</a></nav></header>',
        "share": '<div class="share">Share this article: Facebook X LinkedIn WhatsApp Email</div>',
        "more": f'<p class="read-more">Read more: <a href="/related/0">{html.escape(others[0])}'
        "</a></p>",
        "links": links,
        "newsletter": '<div class="newsletter"><h3>Get the morning briefing</h3><p>Sign up for'
        " our free newsletter and get the day's top stories in your inbox.</p><form><input"
        ' type="email"><button>Subscribe</button></form></div>',
        "credit": f"<p><em>This article first appeared on {html.escape(origin)} and is"
        " republished with permission.</em></p>",
        "note": "<p><em>Editor's note: this story is part of our daily markets coverage.</em></p>",
        "footer": f'<footer><p>© 2025 {name}. All rights reserved.</p><a href="/about">About'
        ' us</a> <a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a>'
        ' <a href="/contact">Contact</a></footer>',
    }


def chrome_page(doc: Doc, variant: int, url: str, others: Sequence[str]) -> str:
    """The article's title and paragraphs inside one of three invented outlets' templates."""
    article = doc.article
    title, at = html.escape(article.title), (article.published_at or FETCHED_AT).isoformat()
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs(article.text))
    name = COPY_OUTLETS[variant][1]
    origin = article.source_id or urlsplit(article.url).hostname or "another outlet"
    part = chrome_parts(name, origin, others)
    head = (
        f'<!doctype html><html lang="{article.lang or "en"}"><head><meta charset="utf-8">'
        f'<title>{title} | {name}</title><link rel="canonical" href="{url}">'
        f'<meta property="article:published_time" content="{at}"></head><body>{part["nav"]}'
    )
    if variant == 0:  # the body alone, boilerplate inside its container and around it
        main = (
            f'<main><article class="post"><h1>{title}</h1><div class="byline">By Staff Reporter'
            f' | <time datetime="{at}">{at[:10]}</time></div><div class="post-body">{body}'
            f'{part["more"]}{part["share"]}</div></article><aside class="related"><h2>Related'
            f"</h2><ul>{part['links']}</ul></aside></main>"
        )
    elif variant == 1:  # a credit line after the body: text no extractor should drop
        main = (
            f'<div id="main"><div class="headline"><h1>{title}</h1></div><div class="content">'
            f'{body}{part["credit"]}<div class="ad">Advertisement</div>{part["newsletter"]}'
            '<div class="tags">Tags: Markets, Policy, Asia</div></div><div class="sidebar">'
            f"<h3>Most read</h3><ol>{part['links']}</ol></div></div>"
        )
    else:  # an editor's note before the body
        main = (
            f'<main><section class="story"><header><h1>{title}</h1><time datetime="{at}">'
            f'{at[:10]}</time></header>{part["note"]}{body}<figure><img src="/photo.jpg">'
            f"<figcaption>Photo: File</figcaption></figure>{part['share']}</section>"
            f'{part["newsletter"]}<section class="more"><h2>More from {name}</h2><ul>'
            f"{part['links']}</ul></section></main>"
        )
    return f"{head}{main}{part['footer']}</body></html>"


def chrome_copy(source: Doc, number: int, others: Sequence[str]) -> Doc | None:
    """``source`` rendered into another outlet's template and extracted again."""
    variant = number % len(COPY_OUTLETS)
    empty = copy_doc(source, number, "", "chrome")
    page = chrome_page(source, variant, empty.article.url, others)
    try:
        article = extract_article(page, empty.article.url, fetched_at=FETCHED_AT)
    except NewswatchError:
        return None
    article = dataclasses.replace(
        article,
        published_at=article.published_at or source.article.published_at,
        source_id=empty.article.source_id,
    )
    return Doc(empty.key, article, empty.origin)


def split_sentences(text: str) -> list[list[str]]:
    """The text as paragraphs of sentences."""
    return [[s for s in _SENTENCE_END.split(p) if s.strip()] for p in paragraphs(text)]


def _units(sentence: str) -> tuple[list[str], str]:
    """A sentence's words (or, without spaces, its characters) and the joiner that rebuilds it."""
    return (sentence.split(), " ") if " " in sentence.strip() else (list(sentence), "")


def reword(sentence: str, donor: str, rng: random.Random) -> str:
    """The sentence with a third of its words replaced by words of the donor sentence."""
    units, joiner = _units(sentence)
    donor_units = _units(donor)[0] or units
    for index in rng.sample(range(len(units)), max(1, len(units) // 3)):
        units[index] = rng.choice(donor_units)
    return joiner.join(units)


def edit_text(
    text: str, donors: Sequence[str], share: float, rng: random.Random
) -> tuple[str, str]:
    """``text`` with ``share`` of its sentences edited, and a note of what was done."""
    paras = split_sentences(text)
    places = [(p, s) for p, sentences in enumerate(paras) for s in range(len(sentences))]
    chosen = rng.sample(places, max(1, round(share * len(places))))
    done: Counter[str] = Counter()
    for p, s in sorted(chosen, reverse=True):
        operation = rng.choice(("replace", "reword", "delete", "insert"))
        donor = rng.choice(donors)
        if operation == "replace":
            paras[p][s] = donor
        elif operation == "reword":
            paras[p][s] = reword(paras[p][s], donor, rng)
        elif operation == "delete":
            del paras[p][s]
        else:
            paras[p].insert(s + 1, donor)
        done[operation] += 1
    joined = [(" " if " " in "".join(ss) else "").join(ss) for ss in paras if ss]
    summary = ", ".join(f"{n} {op}" for op, n in sorted(done.items()))
    return "\n\n".join(joined), f"{len(chosen)}/{len(places)} sentences edited ({summary})"


def donor_sentences(docs: Sequence[Doc]) -> dict[str, list[tuple[str, str]]]:
    """Per language family: (doc key, sentence) of every source, to edit other texts with."""
    pool: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for doc in docs:
        family = language_family(doc.article.lang, tokens(doc.article.text[:2000]))
        for sentences in split_sentences(doc.article.text):
            pool[family].extend((doc.key, s) for s in sentences if len(s) > 20)
    return pool


def copy_pairs(sources: Sequence[Doc], rng: random.Random) -> list[Pair]:
    """Categories 1–3: an exact copy, a copy in other chrome and edited copies of each source."""
    pool = donor_sentences(sources)
    titles = [doc.article.title for doc in sources]
    pairs: list[Pair] = []
    for number, doc in enumerate(sources):
        pairs.append(Pair("exact", doc, copy_doc(doc, number, doc.article.text, "exact")))
        others = rng.sample(titles, 4)
        chrome = chrome_copy(doc, number, others)
        if chrome is not None:
            pairs.append(Pair("chrome", doc, chrome, f"template {number % len(COPY_OUTLETS)}"))
        family = language_family(doc.article.lang, tokens(doc.article.text[:2000]))
        candidates = [s for key, s in pool[family] if key != doc.key] or [doc.article.title]
        donors = rng.sample(candidates, min(40, len(candidates)))
        for copy in range(EDITED_COPIES):
            share = rng.uniform(*EDIT_SHARE)
            text, note = edit_text(doc.article.text, donors, share, rng)
            edited = copy_doc(doc, number * EDITED_COPIES + copy + 10_000, text, "edited")
            pairs.append(Pair("edited", doc, edited, note))
    return pairs


def outlet_pairs(eval_docs: Sequence[Doc], fixture_docs: Sequence[Doc]) -> list[Pair]:
    """Category 4: every two articles of one publisher (eval pages, dated the same day) and of
    one host on one day (fixtures)."""
    pairs: list[Pair] = []
    by_publisher: dict[str, list[Doc]] = defaultdict(list)
    for doc in eval_docs:
        by_publisher[doc.article.source_id].append(doc)
    for docs in by_publisher.values():
        for first, second in itertools.combinations(docs, 2):
            same_day = dataclasses.replace(second.article, published_at=first.article.published_at)
            pairs.append(Pair("outlet", first, dataclasses.replace(second, article=same_day)))
    by_day: dict[tuple[str, str], list[Doc]] = defaultdict(list)
    for doc in fixture_docs:
        at = doc.article.published_at
        day = (at + timedelta(hours=8)).date().isoformat() if at else ""
        by_day[(urlsplit(doc.article.url).hostname or "", day)].append(doc)
    for docs in by_day.values():
        pairs.extend(Pair("outlet", a, b) for a, b in itertools.combinations(docs, 2))
    return pairs


def _next_number(text: str, rng: random.Random) -> str:
    def changed(found: re.Match[str]) -> str:
        """The number plus a few, as wide as it was."""
        value = int(found[0]) + rng.randint(1, 9)
        return str(value).zfill(len(found[0]))

    return _NUMBER.sub(changed, text)


def sibling_release(doc: Doc, rng: random.Random, *, change: bool = True) -> Doc | None:
    """The next release of ``doc``'s series: the same template with other numbers and names
    (None when the text has neither to change), or with the very same text if not ``change``."""
    article = doc.article
    url, item_id = article.canonical_url or article.url, article.item_id or ""
    if _HKMA_NUMBER.search(url.rstrip("/") + "/"):
        url = _HKMA_NUMBER.sub(lambda m: f"{m[1]}{int(m[2]) + 1}{m[3]}", url)
        item_id = _HKMA_NUMBER.sub(lambda m: f"{m[1]}{int(m[2]) + 1}", item_id)
    elif _SFC_NUMBER.search(item_id):
        bumped = _SFC_NUMBER.sub(lambda m: f"{m[1]}{int(m[2]) + 1}", item_id)
        url, item_id = url.replace(item_id, bumped), bumped
    else:
        return None
    text, title = article.text, article.title
    if change:
        for old, new in NAME_SWAPS.items():
            text, title = text.replace(old, new), title.replace(old, new)
        text, title = _next_number(text, rng), _next_number(title, rng)
        if text == article.text:
            return None
    sibling = dataclasses.replace(
        article, url=url, canonical_url=url, item_id=item_id, text=text, title=title
    )
    key = f"{doc.key.split(':', 1)[0]}:{item_id}"
    return Doc(key, sibling, f"sibling of {doc.origin}", doc.tags)


def releases(fixture_docs: Sequence[Doc]) -> list[Doc]:
    """The fixtures' HKMA press releases (English and Chinese) and SFC news items."""
    return [d for d in fixture_docs if d.article.source_id.startswith(("hkma-press", "sfc-news"))]


def template_pairs(fixture_docs: Sequence[Doc], rng: random.Random) -> list[Pair]:
    """Category 5: each release with its series' next release (numbers and names changed), and
    the fixtures' own releases of one series (one source, one title, two numbers)."""
    pairs = []
    for doc in releases(fixture_docs):
        sibling = sibling_release(doc, rng)
        if sibling is not None:
            pairs.append(Pair("template", doc, sibling, sibling.article.url))
    for first, second in itertools.combinations(releases(fixture_docs), 2):
        if (first.article.source_id, first.article.title) == (
            second.article.source_id,
            second.article.title,
        ):
            pairs.append(Pair("template", first, second, f"fixture series: {second.key}"))
    return pairs


def identical_release_pairs(fixture_docs: Sequence[Doc]) -> list[Pair]:
    """A probe beside category 5: each release and the same text under the next number."""
    pairs = []
    for doc in releases(fixture_docs):
        sibling = sibling_release(doc, random.Random(RANDOM_SEED), change=False)
        if sibling is not None:
            pairs.append(Pair("template", doc, sibling, "identical text, next number"))
    return pairs


def build_pairs(eval_docs: Sequence[Doc], fixture_docs: Sequence[Doc]) -> list[Pair]:
    """The whole labelled near-duplicate set, deterministically."""
    rng = random.Random(RANDOM_SEED)
    sources = [
        doc
        for doc in [*eval_docs, *fixture_docs]
        if len(tokens(doc.article.text)) >= MIN_NEAR_TOKENS
    ]
    return [
        *copy_pairs(sources, rng),
        *outlet_pairs(eval_docs, fixture_docs),
        *template_pairs(fixture_docs, rng),
    ]


# --- near-duplicates --------------------------------------------------------------------------


def shingles_of(text: str) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """The shingle hashes the story tiers compare."""
    return shingle_hashes(tokens(text))


def judge(pair: Pair) -> Judged:
    """The pair's true Jaccard and estimate, and the verdict of a Deduper holding the first."""
    first, second = shingles_of(pair.first.article.text), shingles_of(pair.second.article.text)
    estimate = None
    if min(len(tokens(p.article.text)) for p in (pair.first, pair.second)) >= MIN_NEAR_TOKENS:
        estimate = minhash.estimate(minhash.signature(first), minhash.signature(second))
    deduper = Deduper()
    deduper.add(pair.first.article, key=pair.first.key, tags=pair.first.tags)
    verdict = deduper.check(pair.second.article, key=pair.second.key, tags=pair.second.tags)
    return Judged(pair, jaccard(first, second), estimate, verdict)


def ratio(part: int, whole: int) -> str:
    """``part/whole`` as a three-decimal figure, or "-" for nothing to divide."""
    return f"{part / whole:.3f}" if whole else "-"


def near_table(judged: Sequence[Judged]) -> None:
    """Pairs, positives, predictions, precision and recall per category and overall."""
    print(
        f"{'category':10}{'pairs':>7}{'J>=0.8':>8}{'pred':>6}{'TP':>6}{'prec':>8}{'recall':>8}"
        "   verdicts (of the first)"
    )
    rows = [(c, [j for j in judged if j.pair.category == c]) for c in CATEGORIES]
    rows.append(("overall", [j for j in judged if j.pair.category != "template"]))
    rows.append(("all five", list(judged)))
    for name, items in rows:
        positives = sum(j.positive for j in items)
        predicted = sum(j.predicted for j in items)
        hits = sum(j.positive and j.predicted for j in items)
        kinds = Counter(j.verdict.kind if j.grouped else "new" for j in items)
        verdicts = " ".join(f"{k}={n}" for k, n in sorted(kinds.items()))
        print(
            f"{name:10}{len(items):7}{positives:8}{predicted:6}{hits:6}"
            f"{ratio(hits, predicted):>8}{ratio(hits, positives):>8}   {verdicts}"
        )
    print(
        "('overall' is categories 1–4 labelled by Jaccard; 'all five' adds category 5 as negatives)"
    )


def near_details(judged: Sequence[Judged], show: int) -> None:
    """Goal check, then the misses and false alarms, and what extraction did to chrome copies."""
    scored = [j for j in judged if j.pair.category != "template"]
    positives = [j for j in scored if j.positive]
    predicted = [j for j in judged if j.predicted]
    precision = sum(j.positive for j in predicted) / len(predicted) if predicted else 1.0
    recall = sum(j.predicted for j in positives) / len(positives) if positives else 1.0
    print(
        f"goal precision >= {NEAR_PRECISION_GOAL} (all five): {precision:.4f} "
        f"{'met' if precision >= NEAR_PRECISION_GOAL else 'MISSED'};"
        f" goal recall >= {NEAR_RECALL_GOAL}: {recall:.4f} "
        f"{'met' if recall >= NEAR_RECALL_GOAL else 'MISSED'}"
    )
    chrome = [j for j in judged if j.pair.category == "chrome"]
    if chrome:
        kept = sum(j.jaccard >= NEAR_DUPLICATE_JACCARD for j in chrome)
        exact = sum(j.jaccard == 1.0 for j in chrome)
        print(
            f"chrome copies after extraction: {exact}/{len(chrome)} word for word, {kept} at"
            f" Jaccard >= 0.8; lowest {min(j.jaccard for j in chrome):.3f}"
        )
    listing("missed near-duplicates", [j for j in positives if not j.predicted], show)
    listing("false near-duplicates", [j for j in predicted if not j.positive], show)
    low = [j for j in chrome if j.jaccard < NEAR_DUPLICATE_JACCARD]
    listing("chrome copies that extraction took below 0.8", low, show)
    stubs = [j for j in scored if j.estimate is None]
    listing(f"pairs with a text under {MIN_NEAR_TOKENS} tokens (no signature)", stubs, show)
    linked = [j for j in judged if j.pair.category == "outlet" and j.grouped]
    listing("outlet pairs linked by any tier", linked, show)


def template_details(judged: Sequence[Judged], identical: Sequence[Judged], show: int) -> None:
    """Category 5 (goal: none grouped) and the identical-text probe beside it."""
    template = [j for j in judged if j.pair.category == "template"]
    if template:
        values = [j.jaccard for j in template]
        print(
            f"\ncategory 5: {sum(j.grouped for j in template)}/{len(template)} sibling releases"
            f" grouped (goal 0); their Jaccard min {min(values):.3f} median"
            f" {median(values):.3f} max {max(values):.3f}"
        )
        listing("grouped sibling releases", [j for j in template if j.grouped], show)
    kinds = Counter(j.verdict.kind if j.grouped else "new" for j in identical)
    print(
        f"\nprobe: {len(identical)} releases against their very text under the next reference"
        " number (two releases of a series whose text does not change): verdicts "
        + " ".join(f"{k}={n}" for k, n in sorted(kinds.items()))
    )


def listing(title: str, items: Sequence[Judged], show: int) -> None:
    """Up to ``show`` judged pairs, lowest Jaccard first."""
    print(f"\n{title}: {len(items)}")
    for j in sorted(items, key=lambda j: j.jaccard)[:show]:
        estimate = "-" if j.estimate is None else f"{j.estimate:.3f}"
        words = len(tokens(j.pair.second.article.text))
        print(
            f"  J {j.jaccard:.3f} est {estimate} {j.verdict.kind}({j.verdict.score:.3f})"
            f" [{j.pair.category}] {words} tokens  {j.pair.first.origin}  {j.pair.note}"
        )
    if len(items) > show:
        print(f"  … {len(items) - show} more")


# --- datasketch -------------------------------------------------------------------------------


def _identity(value: int) -> int:
    return value


def best_time(function: Callable[[], object], repeat: int = REPEAT) -> float:
    """The fastest of ``repeat`` runs of ``function``, in CPU seconds of this process (the
    per-core figure on a shared machine)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return min(times)


def compare_datasketch(judged: Sequence[Judged]) -> None:
    """Estimate error, candidate recall and signature time: ours against datasketch."""
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        print("datasketch is not installed: comparison skipped (pip install datasketch)")
        return
    pairs = [j for j in judged if j.estimate is not None and j.pair.category != "template"]
    sets = [
        (shingles_of(j.pair.first.article.text), shingles_of(j.pair.second.article.text))
        for j in pairs
    ]

    def theirs(hashes: np.ndarray[Any, Any]) -> Any:
        """datasketch's signature of the same shingle hashes."""
        sketch = MinHash(num_perm=minhash.PERMUTATIONS, seed=minhash.SEED, hashfunc=_identity)
        sketch.update_batch(hashes.tolist())
        return sketch

    ours_sigs = [(minhash.signature(a), minhash.signature(b)) for a, b in sets]
    their_sigs = [(theirs(a), theirs(b)) for a, b in sets]
    truth = [j.jaccard for j in pairs]
    ours_error = mean(
        abs(minhash.estimate(a, b) - t) for (a, b), t in zip(ours_sigs, truth, strict=True)
    )
    their_error = mean(abs(a.jaccard(b) - t) for (a, b), t in zip(their_sigs, truth, strict=True))
    agree = mean(
        abs(minhash.estimate(a, b) - c.jaccard(d))
        for (a, b), (c, d) in zip(ours_sigs, their_sigs, strict=True)
    )
    print(
        f"{len(pairs)} pairs with signatures (categories 1–4); mean absolute error of the"
        f" Jaccard estimate: ours {ours_error:.4f}, datasketch {their_error:.4f};"
        f" ours vs datasketch {agree:.4f}"
    )
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=minhash.PERMUTATIONS)
    for index, (first, _) in enumerate(their_sigs):
        lsh.insert(str(index), first)
    ours_found = [bool(set(minhash.band_keys(a)) & set(minhash.band_keys(b))) for a, b in ours_sigs]
    their_found = [str(i) in lsh.query(b) for i, (_, b) in enumerate(their_sigs)]
    candidate_table(pairs, ours_found, their_found, (lsh.b, lsh.r))
    every = [s for pair in sets for s in pair]
    ours_time = best_time(lambda: [minhash.signature(s) for s in every]) / len(every)
    their_time = best_time(lambda: [theirs(s) for s in every]) / len(every)
    print(
        f"time per signature ({mean(len(s) for s in every):.0f} shingles on average):"
        f" ours {ours_time * 1e6:.0f} µs, datasketch {their_time * 1e6:.0f} µs"
        f" ({their_time / ours_time:.1f}x ours)"
    )


def candidate_table(
    pairs: Sequence[Judged], ours: Sequence[bool], theirs: Sequence[bool], shape: tuple[int, int]
) -> None:
    """Candidate rates of both LSH schemes among positive and negative pairs."""
    groups = {
        "J >= 0.8": [i for i, j in enumerate(pairs) if j.jaccard >= NEAR_DUPLICATE_JACCARD],
        "0.5 <= J < 0.8": [i for i, j in enumerate(pairs) if 0.5 <= j.jaccard < 0.8],
        "J < 0.5": [i for i, j in enumerate(pairs) if j.jaccard < 0.5],
    }
    print(
        f"candidates (any band agrees): ours {minhash.BANDS}x{minhash.ROWS} bands,"
        f" datasketch MinHashLSH {shape[0]}x{shape[1]} bands"
    )
    for name, indices in groups.items():
        found_ours = sum(ours[i] for i in indices)
        found_theirs = sum(theirs[i] for i in indices)
        print(
            f"  {name:16}{len(indices):6} pairs   ours {ratio(found_ours, len(indices))}"
            f"   datasketch {ratio(found_theirs, len(indices))}"
        )
    missed = [pairs[i] for i in groups["J >= 0.8"] if not ours[i]]
    for j in missed:
        print(f"  ours missed: J {j.jaccard:.3f} [{j.pair.category}] {j.pair.first.origin}")


# --- same story -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """An edge of the story grouping: ``key`` joined ``of`` by ``kind`` with ``score``."""

    key: str
    of: str
    kind: str
    score: float


def run_stream(docs: Sequence[Doc], *, with_tags: bool = True, once: bool = False) -> list[Link]:
    """Every doc through one Deduper in the given order (``check`` then ``add``, or with
    ``once`` one fingerprint for ``check_print`` and ``add_print``, as the ingest does); the
    links its verdicts make."""
    deduper = Deduper()
    links = []
    for doc in docs:
        tags = doc.tags if with_tags else ()
        if once:
            print_ = deduper.fingerprint(doc.article, key=doc.key, tags=tags)
            verdict = deduper.check_print(print_)
            deduper.add_print(print_)
        else:
            verdict = deduper.check(doc.article, key=doc.key, tags=tags)
            deduper.add(doc.article, key=doc.key, tags=tags)
        if verdict.kind != "new" and verdict.of_key is not None:
            links.append(Link(doc.key, verdict.of_key, verdict.kind, verdict.score))
    return links


def run_stream_all_links(docs: Sequence[Doc]) -> list[Link]:
    """As ``run_stream``, but keeping every link any candidate makes, not only the best one."""
    deduper = Deduper()
    links = []
    for doc in docs:
        print_ = deduper.fingerprint(doc.article, key=doc.key, tags=doc.tags)
        for other in deduper.candidates(print_):
            found = compare(print_, deduper.prints[other])
            if found is not None:
                links.append(Link(doc.key, other, found.kind, found.score))
        deduper.add_print(print_)
    return links


def components(keys: Iterable[str], links: Iterable[Link]) -> dict[str, str]:
    """Each key's story: the root of its connected set (union-find)."""
    parent = {key: key for key in keys}

    def root(key: str) -> str:
        """The representative of ``key``'s set, halving the path on the way."""
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for link in links:
        parent[root(link.key)] = root(link.of)
    return {key: root(key) for key in parent}


def pairs_within(assignment: dict[str, str]) -> set[frozenset[str]]:
    """Every unordered pair of keys that share an assignment."""
    members: dict[str, list[str]] = defaultdict(list)
    for key, group in assignment.items():
        members[group].append(key)
    return {frozenset(p) for keys in members.values() for p in itertools.combinations(keys, 2)}


@dataclass(frozen=True)
class Labels:
    """The hand labels resolved to item keys."""

    group: dict[str, str]
    related: set[frozenset[str]]
    titles: dict[str, str]


def resolve_labels(docs: Sequence[Doc]) -> Labels:
    """``STORY_GROUPS`` and ``RELATED`` as keys; a label that names no article is an error."""
    named: dict[str, list[str]] = defaultdict(list)
    for doc in docs:
        named[doc.article.title].append(doc.key)
        named[doc.key].append(doc.key)
    missing = [t for g in (*STORY_GROUPS, *RELATED) for t in g if t not in named]
    if missing:
        raise SystemExit(f"labels that name no fixture article (title or item key): {missing}")
    group = {doc.key: doc.key for doc in docs}
    for number, labels in enumerate(STORY_GROUPS):
        for label in labels:
            group.update(dict.fromkeys(named[label], f"group {number}"))
    related: set[frozenset[str]] = set()
    for labels in RELATED:
        stories = {group[key] for label in labels for key in named[label]}
        keys = [key for key, story in group.items() if story in stories]
        related.update(
            frozenset(p) for p in itertools.combinations(keys, 2) if group[p[0]] != group[p[1]]
        )
    titles = {doc.key: doc.article.title for doc in docs}
    return Labels(group, related, titles)


@dataclass(frozen=True)
class StoryScore:
    """Pairwise figures of one grouping against the labels."""

    predicted: set[frozenset[str]]
    truth: set[frozenset[str]]
    related: set[frozenset[str]]

    @property
    def hits(self) -> int:
        """Predicted pairs in one labelled group."""
        return len(self.predicted & self.truth)

    def line(self) -> str:
        """Precision strict and lenient, recall."""
        lenient = len(self.predicted - self.related)
        return (
            f"{len(self.predicted):4} pairs grouped, {self.hits:3} right:"
            f" precision {ratio(self.hits, len(self.predicted))} strict,"
            f" {ratio(self.hits, lenient)} lenient; recall"
            f" {ratio(self.hits, len(self.truth))} of {len(self.truth)} labelled pairs"
        )


def score_stream(docs: Sequence[Doc], labels: Labels, links: Sequence[Link]) -> StoryScore:
    """The pairwise score of the grouping ``links`` make."""
    predicted = pairs_within(components((d.key for d in docs), links))
    return StoryScore(predicted, pairs_within(labels.group), labels.related)


def explain(first: Fingerprint, second: Fingerprint) -> str:
    """What the same-story tier sees of a pair (the later one compared with the earlier)."""
    link = compare(second, first)
    shared = bool(set(second.lookup_keys()) & set(first.stored_keys()))
    title = overlap(first.title_terms, second.title_terms)
    body = minhash.estimate(first.words, second.words)
    tags = overlap(first.tags, second.tags)
    raw = match.TITLE_WEIGHT * title + match.BODY_WEIGHT * body + match.TAG_WEIGHT * tags
    found = "none" if link is None else f"{link.kind} {link.score:.3f}"
    window = "in window" if within_window(first, second) else "OUT of window"
    lang = "" if first.lang == second.lang else f" langs {first.lang}/{second.lang}"
    return (
        f"title {title:.2f} body {body:.2f} tags {tags:.2f} -> {raw:.3f};"
        f" link {found}; {'shares a key' if shared else 'shares NO key'}; {window}{lang}"
    )


def fingerprints(docs: Sequence[Doc]) -> dict[str, Fingerprint]:
    """Each doc's fingerprint as a Deduper files it."""
    deduper = Deduper()
    return {d.key: deduper.fingerprint(d.article, key=d.key, tags=d.tags) for d in docs}


def in_order(pair: frozenset[str], order: dict[str, int]) -> tuple[str, str]:
    """The pair's keys, earlier first."""
    first, second = sorted(pair, key=order.__getitem__)
    return first, second


def story_errors(docs: Sequence[Doc], labels: Labels, links: Sequence[Link], show: int) -> None:
    """The links that join two labelled groups, the false pairs, and the missed pairs."""
    prints = fingerprints(docs)
    order = {d.key: i for i, d in enumerate(docs)}
    title = labels.titles
    bad = [link for link in links if labels.group[link.key] != labels.group[link.of]]
    print(f"\nlinks joining two labelled stories: {len(bad)} (these make the false pairs)")
    for link in bad:
        mark = " (related)" if frozenset((link.key, link.of)) in labels.related else ""
        print(
            f"  {link.kind} {link.score:.3f}{mark}: {title[link.key]!r}\n      -> "
            f"{title[link.of]!r}\n      {explain(prints[link.of], prints[link.key])}"
        )
    score = score_stream(docs, labels, links)
    wrong = sorted(score.predicted - score.truth, key=lambda p: sorted(map(order.get, p)))
    print(
        f"\nfalse-positive pairs: {len(wrong)}"
        f" ({len([p for p in wrong if p in labels.related])} of them related)"
    )
    for pair in wrong[:show]:
        first, second = in_order(pair, order)
        mark = "related " if pair in labels.related else ""
        print(f"  {mark}{title[first]!r}  ~  {title[second]!r}")
    if len(wrong) > show:
        print(f"  … {len(wrong) - show} more")
    missed = [in_order(p, order) for p in score.truth - score.predicted]
    missed.sort(key=lambda p: -raw_story_score(prints[p[0]], prints[p[1]]))
    print(f"\nmissed pairs: {len(missed)} (highest same-story score first)")
    for first, second in missed[:show]:
        print(
            f"  {title[first]!r}\n    ~ {title[second]!r}\n"
            f"      {explain(prints[first], prints[second])}"
        )
    if len(missed) > show:
        print(f"  … {len(missed) - show} more")


def raw_story_score(first: Fingerprint, second: Fingerprint) -> float:
    """The same-story score before the bar and the gates."""
    return (
        match.TITLE_WEIGHT * overlap(first.title_terms, second.title_terms)
        + match.BODY_WEIGHT * minhash.estimate(first.words, second.words)
        + match.TAG_WEIGHT * overlap(first.tags, second.tags)
    )


def group_recall(docs: Sequence[Doc], labels: Labels, links: Sequence[Link]) -> None:
    """Per labelled group: how many of its pairs were put in one story."""
    story = components((d.key for d in docs), links)
    members: dict[str, list[str]] = defaultdict(list)
    for key, group in labels.group.items():
        if group.startswith("group "):
            members[group].append(key)
    print("\nrecall per labelled group (pairs grouped/pairs, stories it was split into):")
    for _, keys in sorted(members.items(), key=lambda g: int(g[0].split()[1])):
        pairs = list(itertools.combinations(keys, 2))
        hit = sum(story[a] == story[b] for a, b in pairs)
        parts = len({story[k] for k in keys})
        print(f"  {hit:3}/{len(pairs):<3} in {parts}  {labels.titles[keys[0]][:80]}")


@contextmanager
def patched(module: Any, name: str, value: float) -> Iterator[None]:
    """``module.name`` set to ``value`` for the block (the tiers read it at call time)."""
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def story_report(docs: Sequence[Doc], show: int) -> None:
    """Same-story pairwise precision and recall on the fixtures, errors, and a threshold sweep."""
    labels = resolve_labels(docs)
    links = run_stream(docs)
    kinds = Counter(link.kind for link in links)
    labelled = sum(1 for g in set(labels.group.values()) if g.startswith("group "))
    print(
        f"{len(docs)} fixture articles in published order; {labelled} labelled groups"
        f" ({len(pairs_within(labels.group))} pairs), {len(labels.related)} related pairs;"
        f" verdicts: new={len(docs) - len(links)} "
        + " ".join(f"{k}={n}" for k, n in sorted(kinds.items()))
    )
    score = score_stream(docs, labels, links)
    print(f"with tags:    {score.line()}")
    untagged = score_stream(docs, labels, run_stream(docs, with_tags=False))
    print(f"without tags: {untagged.line()}  (what the tags add to the score)")
    every = score_stream(docs, labels, run_stream_all_links(docs))
    print(f"every link:   {every.line()}  (every link above the bar kept, not only the best)")
    precision = score.hits / len(score.predicted) if score.predicted else 1.0
    print(
        f"goal precision >= {STORY_PRECISION_GOAL} (strict): {precision:.3f} "
        f"{'met' if precision >= STORY_PRECISION_GOAL else 'MISSED'}"
    )
    story_errors(docs, labels, links, show)
    group_recall(docs, labels, links)
    print(
        f"\nsweep of SAME_STORY_MIN (shipped {match.SAME_STORY_MIN}; REGULATOR_PAIR_MIN"
        f" {match.REGULATOR_PAIR_MIN} unchanged), with tags:"
    )
    for value in sorted({*STORY_SWEEP, match.SAME_STORY_MIN}):
        with patched(match, "SAME_STORY_MIN", value):
            swept = score_stream(docs, labels, run_stream(docs))
        print(f"  {value:.2f}: {swept.line()}")


# --- timing and main --------------------------------------------------------------------------


def time_deduper(streams: dict[str, tuple[Sequence[Doc], int]]) -> None:
    """CPU time per article over whole streams: ``check`` + ``add`` (each fingerprints the
    article), one fingerprint + ``check_print`` + ``add_print``, and the fingerprint alone."""
    for name, (docs, repeat) in streams.items():
        api = best_time(partial(run_stream, docs), repeat)
        once = best_time(partial(run_stream, docs, once=True), repeat)
        alone = best_time(partial(fingerprint_all, Deduper(), docs), repeat)
        each = 1e6 / len(docs)
        print(
            f"  {name}: {len(docs)} articles; per article {api * each:.0f} µs for check + add,"
            f" {once * each:.0f} µs fingerprinting once for check_print + add_print, of which"
            f" the fingerprint {alone * each:.0f} µs (fastest of {repeat} pass(es))"
        )


def fingerprint_all(deduper: Deduper, docs: Sequence[Doc]) -> None:
    """Fingerprint every doc once."""
    for doc in docs:
        deduper.fingerprint(doc.article, key=doc.key, tags=doc.tags)


def unique_docs(pairs: Sequence[Pair]) -> list[Doc]:
    """Every doc of the pairs once (the first version of a key), in published order."""
    seen: dict[str, Doc] = {}
    for pair in pairs:
        for doc in (pair.first, pair.second):
            seen.setdefault(doc.key, doc)
    return sorted(seen.values(), key=published_order)


def section(title: str) -> None:
    """A heading between the parts of the report."""
    print(f"\n== {title} " + "=" * max(0, 90 - len(title)))


def main() -> None:
    """Build the labelled set, run every tier over it and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--show", type=int, default=25, help="examples listed per kind of error")
    args = parser.parse_args()
    require_shared()
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    eval_docs, fixture_docs = load_eval_docs(), load_fixture_docs()
    pairs = build_pairs(eval_docs, fixture_docs)
    judged = [judge(pair) for pair in pairs]
    identical = [judge(pair) for pair in identical_release_pairs(fixture_docs)]
    section("near-duplicates")
    print(
        f"{len(eval_docs)} evaluation pages, {len(fixture_docs)} fixture articles;"
        f" {len(pairs)} pairs (seed {RANDOM_SEED}); positive = shingle Jaccard >="
        f" {NEAR_DUPLICATE_JACCARD}"
    )
    near_table(judged)
    near_details(judged, args.show)
    template_details(judged, identical, args.show)
    section("MinHash: ours against datasketch")
    compare_datasketch(judged)
    section("same story (fixtures)")
    story_report(fixture_docs, args.show)
    section("time")
    time_deduper(
        {"fixture stream": (fixture_docs, REPEAT), "labelled-set stream": (unique_docs(pairs), 1)}
    )
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
