# ruff: noqa: E501  (golden titles and URLs are kept whole, to be found by search)
"""A golden test per configured source: its adapter on its recorded fixture gives the same item
count and the same first item (title, URL, date) as when the fixture was recorded.

A layout or payload change that breaks an adapter shows up here as a failing source; a source
added to sources.toml without a line here fails ``test_every_configured_source_has_a_golden``.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from support import REPO

from pipeline.config import load_sources
from pipeline.fetch import Fetcher, ReplayTransport, build_client
from pipeline.sources import discover

FIXTURES = REPO / "fixtures" / "http"
SOURCES = {source.id: source for source in load_sources(REPO / "sources.toml")}

# source id: (items, first item's title, URL, published_at in the offset the source gave).
GOLDEN: dict[str, tuple[int, str, str, str]] = {
    "hkma-press": (
        14,
        "Scam alert related to banks",
        "https://www.hkma.gov.hk/eng/news-and-media/press-releases/2025/11/20251120-3/",
        "2025-11-20T00:00:00+08:00",
    ),
    "hkma-press-tc": (
        14,
        "與銀行有關的詐騙警報",
        "https://www.hkma.gov.hk/chi/news-and-media/press-releases/2025/11/20251120-3/",
        "2025-11-20T00:00:00+08:00",
    ),
    "hkma-rss-press": (
        10,
        "Scam alert related to banks",
        "https://www.hkma.gov.hk/eng/news-and-media/press-releases/2025/11/20251120-3/",
        "2025-11-20T00:00:00+08:00",
    ),
    "hkma-rss-circulars": (
        9,
        "Guideline on Supervision of Licensed Stablecoin Issuers - Frequently Asked Questions",
        "https://www.hkma.gov.hk/eng/regulatory-resources/regulatory-guides/circulars/2025/20251119e1/",
        "2025-11-19T00:00:00+08:00",
    ),
    "hkma-rss-speeches": (
        9,
        "Keynote speech at the Hong Kong Stablecoin and Digital Assets Forum",
        "https://www.hkma.gov.hk/eng/news-and-media/speeches/2025/11/20251118-1/",
        "2025-11-18T00:00:00+08:00",
    ),
    "hkma-rss-guidelines": (
        9,
        "Revised Supervisory Policy Manual module TM-G-1 General Principles for Technology Risk Management",
        "https://www.hkma.gov.hk/eng/regulatory-resources/regulatory-guides/guidelines/2025/20251117e1/",
        "2025-11-17T00:00:00+08:00",
    ),
    "hkma-rss-consultations": (
        9,
        "Consultation on the prudential treatment of authorized institutions' exposures to stablecoins",
        "https://www.hkma.gov.hk/eng/regulatory-resources/consultations/2025/20251120e1/",
        "2025-11-20T00:00:00+08:00",
    ),
    "hkma-rss-legco": (
        9,
        "LegCo Question 12: Regulation of stablecoins",
        "https://www.hkma.gov.hk/eng/news-and-media/legco-issues/2025/11/20251119-1/",
        "2025-11-19T00:00:00+08:00",
    ),
    "sfc-news": (
        11,
        "SFC grants licence to new virtual asset trading platform",
        "https://apps.sfc.hk/edistributionWeb/gateway/EN/news-and-announcements/news/doc?refNo=25PR124",
        "2025-11-20T17:12:04.221000+08:00",
    ),
    "sfc-circulars": (
        10,
        "Circular to licensed virtual asset trading platform operators - shared order book arrangements",
        "https://apps.sfc.hk/edistributionWeb/gateway/EN/circular/doc?refNo=25EC66",
        "2025-11-19T17:31:08.442000+08:00",
    ),
    "sfc-consultations": (
        9,
        "Consultation Paper on Proposed Guidelines on the Use of Artificial Intelligence by Licensed Corporations",
        "https://apps.sfc.hk/edistributionWeb/gateway/EN/consultation/doc?refNo=25CP14",
        "2025-11-19T17:20:36.101000+08:00",
    ),
    "sfc-rss-press": (
        8,
        "SFC grants licence to new virtual asset trading platform",
        "https://apps.sfc.hk/edistributionWeb/gateway/EN/news-and-announcements/news/doc?refNo=25PR124",
        "2025-11-20T17:12:04+08:00",
    ),
    "sfc-rss-circulars": (
        8,
        "Circular to licensed virtual asset trading platform operators - shared order book arrangements",
        "https://apps.sfc.hk/edistributionWeb/gateway/EN/circular/doc?refNo=25EC66",
        "2025-11-19T17:31:08+08:00",
    ),
    "sfc-rss-consultations": (
        8,
        "Consultation Paper on Proposed Guidelines on the Use of Artificial Intelligence by Licensed Corporations",
        "https://apps.sfc.hk/edistributionWeb/gateway/EN/consultation/doc?refNo=25CP14",
        "2025-11-19T17:20:36+08:00",
    ),
    "fintechnews-hk": (
        11,
        "Hong Kong Banks Step Up Tokenised Deposit Pilots as EnsembleTX Goes Live",
        "https://fintechnews.hk/37021/blockchain/hong-kong-banks-tokenised-deposit-pilots-ensembletx-live/",
        "2025-11-19T08:20:33+00:00",
    ),
    "cointelegraph": (
        10,
        "Bitcoin falls below $90K as spot ETF outflows deepen",
        "https://cointelegraph.com/news/bitcoin-falls-below-90k-spot-etf-outflows?utm_source=rss_feed&utm_medium=rss&utm_campaign=rss_partner_inbound",
        "2025-11-18T01:25:00+00:00",
    ),
    "cointelegraph-regulation": (
        9,
        "Hong Kong to table crypto dealer and custodian bill in 2026",
        "https://cointelegraph.com/news/hong-kong-virtual-asset-dealer-custodian-bill-2026?utm_source=rss_feed&utm_medium=rss&utm_campaign=rss_partner_inbound",
        "2025-11-19T12:00:00+00:00",
    ),
    "coinpedia": (
        9,
        "Hong Kong Crypto News: AI Infrastructure and Regulation Put City at Center of Digital Asset Race",
        "https://coinpedia.org/news/hong-kong-crypto-news-ai-infrastructure-regulation-digital-asset-race/",
        "2025-11-19T10:00:44+00:00",
    ),
    "scmp-business": (
        10,
        "Hong Kong bank lending edges up for first time in months as rates fall",
        "https://www.scmp.com/business/banking-finance/article/3333204/hong-kong-bank-lending-edges-first-time-months-rates-fall",
        "2025-11-20T10:00:00+08:00",
    ),
    "scmp-tech": (
        9,
        "Hong Kong’s iAM Smart digital identity app gains ground with banks and brokers",
        "https://www.scmp.com/tech/tech-trends/article/3333049/hong-kongs-iam-smart-digital-identity-app-gains-ground-banks-and-brokers",
        "2025-11-19T15:45:00+08:00",
    ),
    "scmp-hkma": (
        9,
        "HKMA boosts offshore yuan liquidity facility as demand for renminbi financing grows",
        "https://www.scmp.com/business/banking-finance/article/3333296/hkma-boosts-offshore-yuan-liquidity-facility-demand-renminbi-financing-grows",
        "2025-11-20T12:30:00+08:00",
    ),
    "theblock": (
        9,
        "Hong Kong to license crypto dealers and custodians under new bill",
        "https://www.theblock.co/post/378602/hong-kong-license-crypto-dealers-custodians-new-bill?utm_source=rss&utm_medium=rss",
        "2025-11-19T13:40:00+00:00",
    ),
    "coindesk": (
        10,
        "Hong Kong to Introduce Crypto Dealer and Custodian Bill in 2026",
        "https://www.coindesk.com/policy/2025/11/19/hong-kong-to-introduce-crypto-dealer-and-custodian-bill-in-2026?utm_medium=referral&utm_source=rss&utm_campaign=headlines",
        "2025-11-19T14:30:00+00:00",
    ),
    "regulation-asia": (
        10,
        "Hong Kong Moves Ahead With Licensing Regimes for VA Dealers and Custodians",
        "https://www.regulationasia.com/hong-kong-moves-ahead-with-licensing-regimes-for-va-dealers-and-custodians/",
        "2025-11-20T02:00:00+00:00",
    ),
    "finextra-headlines": (
        11,
        "Hong Kong Insurance Authority sets out AI expectations",
        "https://www.finextra.com/newsarticle/46987/hong-kong-insurance-authority-sets-out-ai-expectations?utm_medium=rssfinextra&utm_source=finextrafeed",
        "2025-11-20T00:30:00+00:00",
    ),
    "finextra-blockchain": (
        9,
        "Hong Kong to license virtual asset dealers and custodians",
        "https://www.finextra.com/newsarticle/46971/hong-kong-to-license-virtual-asset-dealers-and-custodians?utm_medium=rssfinextra&utm_source=finextrafeed",
        "2025-11-19T09:30:00+00:00",
    ),
    "hkgov-press": (
        10,
        "Government and SFC publish consultation conclusions on regulating virtual asset dealing and custodian services",
        "https://www.info.gov.hk/gia/general/202511/19/P2025111900581.htm",
        "2025-11-19T16:30:00+08:00",
    ),
    "ainvest": (
        10,
        "Bitcoin Slides Below $90,000 as ETF Outflows and Fed Uncertainty Weigh on Crypto",
        "https://www.ainvest.com/news/bitcoin-slides-90-000-etf-outflows-fed-uncertainty-weigh-crypto-2511/",
        "2025-11-18T07:55:00-05:00",
    ),
}


def test_every_configured_source_has_a_golden() -> None:
    assert sorted(GOLDEN) == sorted(SOURCES)


@pytest.mark.parametrize("source_id", sorted(GOLDEN))
async def test_adapter_on_its_recorded_fixture(source_id: str) -> None:
    count, title, url, published = GOLDEN[source_id]
    source = SOURCES[source_id]
    async with build_client(ReplayTransport(FIXTURES)) as client:
        leads = await discover(source, Fetcher(client, polite=False))
    assert len(leads) == count
    first = leads[0]
    assert (first.title, first.url) == (title, url)
    assert first.published_at == datetime.fromisoformat(published)
    assert first.published_at is not None and first.published_at.utcoffset() is not None
    assert all(lead.source_id == source_id and lead.url for lead in leads)
    # Regulator items are keyed on a stable id, never on a URL alone.
    if source.regulator:
        assert all(lead.item_id for lead in leads)
