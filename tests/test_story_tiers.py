"""Story tiers: regulator references, translations, duplicates, near-duplicates, same stories.

Each tier is tested with pairs it must join and pairs it must keep apart, in English and in
(Traditional) Chinese, on texts written for these tests: news reports of the HKMA granting the
first stablecoin issuer licences, their syndicated copies and rewrites, and HKMA and SFC
releases whose templates make different items look alike.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from pipeline.dedupe import Deduper, content_hash
from pipeline.models import Article, Verdict
from pipeline.stories import minhash
from pipeline.stories.features import MIN_NEAR_TOKENS, PERIOD_DAYS, Fingerprint, fingerprint
from pipeline.stories.match import NEAR_DUPLICATE_JACCARD, STORY_WINDOW, Link, compare
from pipeline.stories.refs import RegulatorRef, regulator_ref
from pipeline.stories.shingles import jaccard, shingle_hashes, token_hashes, tokens
from pipeline.stories.titles import bare_title, title_terms

DAY = datetime(2025, 11, 20, 9, 30, tzinfo=UTC)
STORY_TAGS = ("entity:hkma", "topic:stablecoin")

HKMA = "https://www.hkma.gov.hk"
HKMA_PRESS = "news-and-media/press-releases/2025/11"
HKMA_CIRCULARS = "regulatory-resources/regulatory-guides/circulars/2025"
SFC_GATEWAY = "https://apps.sfc.hk/edistributionWeb/gateway"
SFC_API = "https://apps.sfc.hk/edistributionWeb/api"


# --- Texts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """One event as the news covered it in one language, and a different event beside it."""

    lang: str
    # The first outlet's report.
    title: str
    body: str
    # A syndicated copy: a dateline and a credit line added, a few sentences edited.
    syndicated: str
    # The report with half its paragraphs rewritten.
    half_rewritten: str
    # Another outlet's write-up of the same event, in its own words.
    rewrite_title: str
    rewrite: str
    # A different event on the same topic, reported the same day.
    other_title: str
    other: str
    outlets: tuple[str, str, str]

    def url(self, outlet: int, slug: str) -> str:
        return f"https://{self.outlets[outlet]}/{self.lang}/2025/11/20/{slug}"


EN_BODY = """Hong Kong's de facto central bank on Thursday granted the first two licences to issue \
stablecoins in the city, a step officials hope will establish Hong Kong as a hub for regulated \
digital money while keeping speculative projects at bay.

The Hong Kong Monetary Authority said the licences went to a joint venture led by one of the \
city's three note-issuing banks and to a subsidiary of a global payments company. Both plan to \
launch tokens pegged to the Hong Kong dollar early next year, fully backed by cash and \
short-dated government debt held at licensed banks.

The regulator received 36 applications after the Stablecoins Ordinance took effect on August 1, \
but had warned repeatedly that only a handful would succeed in the first round. Analysts said \
the small number of approvals reflected the authority's insistence on strict reserve, redemption \
and anti-money laundering standards.

"The HKMA is clearly signalling that quality matters more than speed," said a fintech partner at \
a Central law firm. "Issuers that cannot show robust reserve management and prompt redemption \
will not get through."

Under the regime, licensed issuers must let holders redeem tokens at par within one business day, \
keep reserve assets segregated from their own funds and publish regular attestations by \
independent auditors. Offering an unlicensed stablecoin to retail investors in Hong Kong is a \
criminal offence.

The approvals come as mainland regulators have told domestic firms to slow their stablecoin \
ambitions, leaving the Hong Kong framework as the main testing ground in the region for tokens \
linked to the Hong Kong dollar and the offshore yuan."""

EN_SYNDICATED = """HONG KONG, Nov 20 (Pearl River Wire) - Hong Kong's de facto central bank on \
Thursday granted the first two licences to issue stablecoins in the city, a step officials hope \
will establish Hong Kong as a hub for regulated digital money while keeping speculative projects \
at bay.

The Hong Kong Monetary Authority said the licences went to a joint venture led by one of the \
city's three note-issuing banks and to a subsidiary of a global payments company. Both plan to \
launch tokens pegged to the Hong Kong dollar early next year, fully backed by cash and \
short-dated government debt held at licensed banks.

The regulator received 36 applications after the Stablecoins Ordinance took effect on August 1, \
but had warned repeatedly that only a handful would succeed in the first round. Market watchers \
said the small number of approvals reflected the authority's insistence on strict reserve, \
redemption and anti-money laundering standards.

"The HKMA is clearly signalling that quality matters more than speed," said a fintech partner at \
a Central law firm. "Issuers that cannot show robust reserve management and prompt redemption \
will not get through."

Under the regime, licensed issuers must let holders redeem tokens at par within one business day, \
keep reserve assets segregated from their own funds and publish regular attestations by \
independent auditors. Offering an unlicensed stablecoin to retail investors in the city is a \
criminal offence.

The approvals come as mainland regulators have told domestic firms to slow their stablecoin \
ambitions, leaving the Hong Kong framework as the main testing ground in the region for tokens \
linked to the Hong Kong dollar and the offshore yuan.

(Reporting by the Hong Kong newsroom; Editing by the Asia desk)"""

EN_HALF_REWRITTEN = """Two companies became the first to win stablecoin issuer licences in Hong \
Kong on Thursday, as the city's monetary authority opened its new regime for fiat-backed tokens \
to a very small first batch of applicants.

The Hong Kong Monetary Authority said the licences went to a joint venture led by one of the \
city's three note-issuing banks and to a subsidiary of a global payments company. Both plan to \
launch tokens pegged to the Hong Kong dollar early next year, fully backed by cash and \
short-dated government debt held at licensed banks.

Dozens of firms, from banks to crypto exchanges, lodged applications when the ordinance came into \
force in the summer. People familiar with the process said most were turned away because their \
plans for holding reserves and screening customers fell short of what the regulator demanded.

"The HKMA is clearly signalling that quality matters more than speed," said a fintech partner at \
a Central law firm. "Issuers that cannot show robust reserve management and prompt redemption \
will not get through."

Token holders will be entitled to get their money back at face value the next working day, \
according to the licence conditions, and the issuers' reserves must be ring-fenced and checked \
by outside accountants on a regular schedule.

The approvals come as mainland regulators have told domestic firms to slow their stablecoin \
ambitions, leaving the Hong Kong framework as the main testing ground in the region for tokens \
linked to the Hong Kong dollar and the offshore yuan."""

EN_REWRITE = """Two companies have become the first to win permission to issue stablecoins in \
Hong Kong, the Hong Kong Monetary Authority announced, in a cautious opening of a market that \
has drawn interest from dozens of banks, technology groups and crypto firms.

A consortium headed by a note-issuing bank and an arm of an international card and payments \
business were awarded the licences. They intend to launch tokens pegged to the Hong Kong dollar \
in the first quarter of next year, fully backed by bank deposits and Exchange Fund Bills.

The regulator received 36 applications after the Stablecoins Ordinance took effect on August 1. \
The monetary authority had said from the outset that only a handful of stablecoin licences would \
be granted in the first round, and several well-known applicants, including units of large \
internet platforms, were not among the winners.

Compliance specialists said the authority had insisted on strict reserve, redemption and \
anti-money laundering standards, and scrutinised how each applicant would protect customer money. \
Issuers must honour redemptions at face value within a business day and keep their reserves \
ring-fenced.

The HKMA has urged the public to buy stablecoins only from licensed issuers listed on its \
register, and to beware of websites and social media promotions offering tokens that claim to be \
approved in Hong Kong."""

EN_OTHER = """The Hong Kong Monetary Authority on Thursday warned the public about fraudulent \
websites and social media accounts that claim to sell stablecoins approved by the regulator, \
saying it had referred several cases to the police.

The warning follows a rise in complaints from people who were promised high, guaranteed returns \
for depositing money into so-called regulated stablecoin wallets. In several cases victims were \
asked to download mobile apps that imitated the design of well-known banks, and then found they \
could not withdraw their funds.

"No stablecoin promoted with promises of fixed interest or investment returns has been approved \
in Hong Kong," an HKMA spokesman said. "Members of the public should be wary of any offer that \
looks too good to be true."

The authority said scammers often used fake endorsements from officials and celebrities, and \
urged people who suspected they had been deceived to call the police anti-deception hotline at \
once. It also asked online platforms to remove the accounts concerned and to tighten checks on \
paid advertisements.

Consumer groups said the warning was timely because public interest in digital currencies has \
grown with the launch of the licensing regime, and fraudsters tend to exploit news coverage of \
new financial products."""

ZH_BODY = """\
金融管理局周四向兩家機構批出首批穩定幣發行人牌照，當局希望藉此確立香港作為受規管數字貨幣中\
心的地位，同時將投機項目拒諸門外。

金管局表示，獲發牌照的分別是由本港三家發鈔銀行之一牽頭的合資公司，以及一家環球支付企業的附\
屬公司。兩家機構計劃於明年初推出與港元掛鈎的代幣，並以存放於持牌銀行的現金及短期政府債券全\
數支持。

《穩定幣條例》於八月一日生效後，金管局共接獲三十六宗申請，但當局多次表示首輪只會有極少數申\
請人獲批。分析人士認為，獲批數目偏少，反映金管局在儲備、贖回及打擊洗錢方面堅持嚴格標準。

一名金融科技律師表示：「金管局清楚表明質素比速度更重要，未能證明具備穩健儲備管理及迅速贖回\
能力的發行人不會獲批。」

根據新制度，持牌發行人必須讓持有人在一個營業日內按面值贖回代幣，將儲備資產與自身資金分隔，\
並定期公布由獨立核數師發出的核證報告。向本港散戶推廣未持牌穩定幣屬刑事罪行。

與此同時，內地監管機構已要求國內企業放慢發展穩定幣的步伐，令香港的監管框架成為區內與港元及\
離岸人民幣掛鈎代幣的主要試驗場。"""

ZH_SYNDICATED = """\
【珠江通訊社香港二十日電】金融管理局周四向兩家機構批出首批穩定幣發行人牌照，當局希望藉此確\
立香港作為受規管數字貨幣中心的地位，同時將投機項目拒諸門外。

金管局表示，獲發牌照的分別是由本港三家發鈔銀行之一牽頭的合資公司，以及一家環球支付企業的附\
屬公司。兩家機構計劃於明年初推出與港元掛鈎的代幣，並以存放於持牌銀行的現金及短期政府債券全\
數支持。

《穩定幣條例》於八月一日生效後，金管局共接獲三十六宗申請，但當局多次表示首輪只會有極少數申\
請人獲批。市場人士指出，獲批數目偏少，反映金管局在儲備、贖回及打擊洗錢方面堅持嚴格標準。

一名金融科技律師表示：「金管局清楚表明質素比速度更重要，未能證明具備穩健儲備管理及迅速贖回\
能力的發行人不會獲批。」

根據新制度，持牌發行人必須讓持有人在一個營業日內按面值贖回代幣，將儲備資產與自身資金分隔，\
並定期公布由獨立核數師發出的核證報告。向香港散戶推廣未持牌穩定幣屬刑事罪行。

與此同時，內地監管機構已要求國內企業放慢發展穩定幣的步伐，令香港的監管框架成為區內與港元及\
離岸人民幣掛鈎代幣的主要試驗場。

（編輯：亞洲新聞部）"""

ZH_HALF_REWRITTEN = """\
本港首兩個穩定幣發行人牌照周四出爐，金管局只向極少數申請者開綠燈，為這個以法定貨幣作支持的\
代幣新制度揭開序幕。

金管局表示，獲發牌照的分別是由本港三家發鈔銀行之一牽頭的合資公司，以及一家環球支付企業的附\
屬公司。兩家機構計劃於明年初推出與港元掛鈎的代幣，並以存放於持牌銀行的現金及短期政府債券全\
數支持。

條例在夏季實施時，由銀行到加密貨幣交易所等數十家企業都遞交了申請。熟悉審批過程的人士透露，\
大部分申請因為儲備安排及客戶審查方案未達監管要求而落空。

一名金融科技律師表示：「金管局清楚表明質素比速度更重要，未能證明具備穩健儲備管理及迅速贖回\
能力的發行人不會獲批。」

按照牌照條件，代幣持有人可在下一個工作天以原價取回款項，發行商的儲備亦須獨立存放，並由外聘\
會計師定期審查。

與此同時，內地監管機構已要求國內企業放慢發展穩定幣的步伐，令香港的監管框架成為區內與港元及\
離岸人民幣掛鈎代幣的主要試驗場。"""

ZH_REWRITE = """\
金管局周四公布首批穩定幣發行人牌照名單，兩家機構獲批，是《穩定幣條例》今年八月一日生效以來\
首次發牌。

獲批的兩家機構，一家是由發鈔銀行牽頭成立的合資公司，另一家是環球支付企業旗下的附屬公司。兩\
者均計劃明年初推出與港元掛鈎的穩定幣，儲備資產包括現金及短期政府債券，存放於持牌銀行。

金管局早前共接獲三十六宗申請，當局一直強調首批只會發出少量牌照。業界人士指出，監管機構在儲\
備管理、贖回安排及打擊洗錢方面的要求十分嚴格，不少申請人未能達標。

按規定，持牌發行人須確保持有人可於一個營業日內按面值贖回穩定幣，儲備資產須與發行人自身資金\
分開持有，並須定期由獨立核數師核證。

金管局提醒市民，只應向持牌發行人購買穩定幣，並可在金管局網站查閱持牌穩定幣發行人登記冊。"""

# A rewrite in words of its own throughout, as far from its original as the English rewrite is.
ZH_LOOSE_REWRITE = """\
香港首批穩定幣發行牌照終於出爐。金管局宣布，只有兩家公司成功取得牌照，反映監管機構對這個吸\
引大批銀行、科技集團及加密貨幣企業的新市場採取審慎態度。

獲發牌的是一個由發鈔銀行領導的財團，以及一家國際信用卡及支付公司旗下的機構。兩者打算在明年\
第一季發行港元代幣，每一枚代幣都有銀行存款及外匯基金票據作十足儲備。

發牌制度在八月實施時共有三十六家企業遞交申請。金管局一早已預告首批獲批的數目會非常少，多家\
大型互聯網平台的附屬公司均未能入圍。

合規專家指出，當局仔細審查每名申請人如何保障客戶資金、處理贖回要求及監察交易以防洗錢。發行\
人必須在一個營業日內按面值完成贖回，並把儲備資產獨立存放。

金管局呼籲市民只向登記冊上的持牌發行人購買穩定幣，並提防聲稱已獲香港批准的網站及社交媒體推\
廣。"""

ZH_OTHER = """\
金管局周四提醒市民，提防一些聲稱出售「獲監管機構批准」穩定幣的虛假網站及社交媒體帳戶，並表\
示已將多宗個案轉介警方跟進。

近期有不少市民投訴，指被承諾可獲得高額及保證回報，並被要求把款項存入所謂受規管的穩定幣錢包\
。有受害人被要求下載模仿知名銀行設計的手機應用程式，其後發現無法提取資金。

金管局發言人說：「本港從未批准任何以固定利息或投資回報作招徠的穩定幣，市民對任何好得難以置\
信的優惠都應提高警覺。」

當局指出，騙徒經常盜用官員及名人的形象作虛假推薦，呼籲懷疑受騙的市民立即致電警方的防騙熱線\
求助。金管局亦要求網上平台移除有關帳戶，並加強審查付費廣告。

消費者團體認為有關警告十分及時，因為隨着發牌制度推出，市民對數字貨幣的興趣日增，而騙徒往往\
會利用新金融產品的新聞報道行騙。"""

EN = Coverage(
    lang="en",
    title="HKMA grants first stablecoin licences to two issuers",
    body=EN_BODY,
    syndicated=EN_SYNDICATED,
    half_rewritten=EN_HALF_REWRITTEN,
    rewrite_title="Hong Kong issues first stablecoin licences as HKMA keeps tight grip",
    rewrite=EN_REWRITE,
    other_title="HKMA warns of stablecoin scams on social media",
    other=EN_OTHER,
    outlets=("www.harbourtimes.example", "wire.pearlriver.example", "www.victoriapost.example"),
)
ZH = Coverage(
    lang="zh-hant",
    title="金管局向兩家機構批出首批穩定幣牌照",
    body=ZH_BODY,
    syndicated=ZH_SYNDICATED,
    half_rewritten=ZH_HALF_REWRITTEN,
    rewrite_title="首批穩定幣發行牌照出爐 金管局嚴格把關",
    rewrite=ZH_REWRITE,
    other_title="金管局警告市民提防穩定幣騙局",
    other=ZH_OTHER,
    outlets=("news.gangwan.example", "www.zhujiang-wire.example", "www.weigang.example"),
)
COVERAGE = [pytest.param(EN, id="en"), pytest.param(ZH, id="zh")]

# The HKMA's release of the same event, in English and in Chinese (one number, 20251120-3).
HKMA_RELEASE_TITLE = "HKMA grants first stablecoin issuer licences"
HKMA_RELEASE_EN = """The Hong Kong Monetary Authority (HKMA) announced today that it has granted \
the first licences under the Stablecoins Ordinance to two issuers of fiat-referenced stablecoins. \
The licences were granted after a detailed assessment of the applicants' reserve management, \
redemption arrangements, risk management and anti-money laundering controls.

The two licensees are a joint venture led by a local note-issuing bank and a subsidiary of an \
international payments group. Each will issue a stablecoin referenced to the Hong Kong dollar, \
backed in full by high-quality and highly liquid reserve assets held in segregated accounts with \
licensed banks. Holders will be able to redeem their stablecoins at par value within one \
business day.

"Today's decision marks an important milestone for the development of a safe and sustainable \
digital asset ecosystem in Hong Kong," said the Chief Executive of the HKMA. "We will continue to \
take a prudent and risk-based approach, and we expect licensees to maintain the highest standards \
of governance and consumer protection."

The HKMA received 36 applications when the licensing regime came into effect on 1 August 2025. \
The remaining applications are being processed, and the HKMA will grant further licences only to \
applicants that meet all of the requirements. Members of the public are reminded to deal only \
with licensed issuers, and to check the register of licensed stablecoin issuers on the HKMA \
website before buying any stablecoin."""

HKMA_RELEASE_ZH_TITLE = "金管局批出首批穩定幣發行人牌照"
HKMA_RELEASE_ZH = """\
香港金融管理局（金管局）今日宣布，已根據《穩定幣條例》向兩家法幣穩定幣發行人批出首批牌照。\
金管局在詳細評估申請人的儲備資產管理、贖回安排、風險管理及打擊洗錢措施後，才批出有關牌照。

兩家持牌人分別為一家本地發鈔銀行牽頭的合資企業，以及一家國際支付集團的附屬公司。兩者均會發\
行與港元掛鈎的穩定幣，並以存放於持牌銀行獨立賬戶內的高質素及高流動性儲備資產作全數支持。持\
有人可於一個營業日內按面值贖回穩定幣。

金管局總裁表示：「今日的決定是香港發展安全及可持續數字資產生態系統的重要里程碑。我們會繼續\
採取審慎及以風險為本的方針，並期望持牌人維持最高水平的管治及消費者保障。」

牌照制度於二零二五年八月一日生效時，金管局共收到三十六宗申請。其餘申請仍在處理中，金管局只\
會向符合所有規定的申請人批出牌照。金管局提醒市民只應與持牌發行人進行交易，並在購買任何穩定\
幣前先查閱金管局網站上的持牌穩定幣發行人登記冊。"""

# Two tender results the same day: one template, one boilerplate, different numbers.
TENDER_TITLE = "Exchange Fund Bills tender results"
TENDER_TEMPLATE = """The following is issued on behalf of the Hong Kong Monetary Authority:

Exchange Fund Bills tender results:

Tender date: 12 November 2025
Paper on offer: EF Bills
Issue number: {issue}
Issue date: 13 November 2025
Maturity date: {maturity}
Amount applied: HK${applied} MN
Amount allotted: HK${allotted} MN
Average yield accepted: {average} PCT
Lowest yield accepted: 3.35 PCT
Highest yield accepted: 3.45 PCT
Pro rata ratio: About 62 PCT

Exchange Fund Bills and Notes are issued by the Hong Kong Monetary Authority for the account of \
the Exchange Fund. Tenders are open to Recognized Dealers appointed under the Exchange Fund Bills \
and Notes programme, who may bid on behalf of their customers. Results of each tender are \
published on the website of the Hong Kong Monetary Authority and through the information \
services of major news agencies on the day of the tender. Members of the public who wish to \
subscribe for Exchange Fund Bills should contact a Recognized Dealer for details of the \
application procedures, the fees charged and the minimum denominations. The Hong Kong Monetary \
Authority reserves the right to allot less than the amount on offer, and to reject any tender \
in whole or in part without giving reasons. The next tender of Exchange Fund Bills will be \
announced in the usual way."""
TENDER_91_DAYS = TENDER_TEMPLATE.format(
    issue="Q2546", maturity="12 February 2026", applied="98,620", allotted="45,810", average="3.41"
)
TENDER_182_DAYS = TENDER_TEMPLATE.format(
    issue="H2591", maturity="14 May 2026", applied="61,275", allotted="22,300", average="3.38"
)

# A weekly figure, this week's and last week's: one title, one template.
RESERVES_TITLE = "Hong Kong's latest foreign currency reserve assets figures"
RESERVES_TEMPLATE = """The Hong Kong Monetary Authority announced today that the official foreign \
currency reserve assets of Hong Kong amounted to US${now} billion as at the end of last week \
(end of the previous week: US${before} billion).

Including unsettled foreign exchange contracts, the foreign currency reserve assets amounted to \
US${unsettled} billion. The reserve assets represent more than five times the currency in \
circulation or about {share} per cent of Hong Kong dollar M3.

The weekly figures are published in accordance with the Special Data Dissemination Standard of \
the International Monetary Fund. They cover the foreign currency assets held by the Exchange \
Fund, which include deposits with banks and other financial institutions, securities issued by \
governments and international organisations, and gold. The figures exclude the assets held for \
the Land Fund and the Future Fund.

The next set of figures will be released on the same day next week. Additional information, \
including the composition of the reserve assets and the relevant data template, is available on \
the website of the Hong Kong Monetary Authority."""
RESERVES_LAST_WEEK = RESERVES_TEMPLATE.format(
    now="427.9", before="426.4", unsettled="427.5", share="43"
)
RESERVES_THIS_WEEK = RESERVES_TEMPLATE.format(
    now="428.6", before="427.9", unsettled="428.2", share="44"
)

# An SFC press release and the joint circular it announces, the same day.
SFC_JOINT_TITLE = (
    "SFC and HKMA issue joint statement on distribution of tokenised investment products"
)
SFC_JOINT_STATEMENT = """The Securities and Futures Commission (SFC) and the Hong Kong Monetary \
Authority (HKMA) today issued a joint statement setting out their expectations of intermediaries \
that distribute tokenised investment products to investors in Hong Kong.

Tokenised investment products are investment products, such as funds and structured products, \
whose ownership is recorded on a distributed ledger. The joint statement clarifies that the \
existing requirements for the sale of complex and non-complex products apply in the same way, \
whether or not a product is tokenised. Intermediaries should also understand the features and \
risks of the tokenisation arrangements, including the smart contracts used, the custody of the \
tokens and the controls over transfers between wallets.

A joint circular issued today by the SFC to licensed corporations and by the HKMA to registered \
institutions sets out detailed guidance on product due diligence, disclosure to clients and the \
handling of secondary trading of tokenised investment products.

"Tokenisation can make investment products more accessible and efficient, but investor \
protection must keep pace," said the SFC's Executive Director of Intermediaries. "This joint \
statement gives the industry clarity on how the current rules apply."

Intermediaries are encouraged to contact the SFC or the HKMA if they have any questions about \
the joint statement or the joint circular."""

SFC_JOINT_CIRCULAR_TITLE = (
    "Joint circular on intermediaries' distribution of tokenised investment products"
)
SFC_JOINT_CIRCULAR = """This joint circular is issued by the Securities and Futures Commission to \
licensed corporations and by the Hong Kong Monetary Authority to registered institutions. It sets \
out the regulatory requirements that apply when intermediaries distribute tokenised investment \
products to clients.

Product due diligence. Before distributing a tokenised investment product, an intermediary should \
conduct due diligence on the product and on the tokenisation arrangements. This includes \
assessing the ownership model of the tokens, the type of distributed ledger used, the robustness \
of the smart contracts, the arrangements for custody of the tokens and the measures adopted to \
manage cybersecurity, data protection and business continuity risks.

Disclosure. Intermediaries should provide clients with clear and balanced information about the \
product, including the risks associated with tokenisation, such as the loss or theft of private \
keys, operational failures of the distributed ledger and the limited liquidity of the tokens in \
any secondary market.

Selling practices. The existing requirements on the suitability of complex products, the \
provision of information and the warning statements apply to tokenised investment products in \
the same way as they apply to traditional investment products.

This circular takes effect immediately. Intermediaries which have any questions should contact \
their case officers at the SFC or the HKMA."""

# An SFC circular and an SFC press release of the same day about unrelated things.
SFC_CYBER_TITLE = "Circular to licensed corporations on cybersecurity controls for internet trading"
SFC_CYBER_CIRCULAR = """The Securities and Futures Commission (SFC) has observed a significant \
increase in cyberattacks against licensed corporations engaged in internet trading, including \
account takeovers through phishing and the use of credentials stolen from other websites. This \
circular reminds licensed corporations of the baseline requirements for cybersecurity and sets \
out additional expectations.

Two-factor authentication should be implemented for all client logins to internet trading \
systems, and licensed corporations should monitor for logins from unusual locations or devices. \
Passwords should be stored using strong cryptographic methods, and clients should be notified \
promptly of logins, fund transfers and changes to their personal details.

Licensed corporations should review their incident response plans, conduct regular penetration \
tests of their internet-facing systems and ensure that service providers that host trading \
systems meet the same standards. Senior management should receive regular reports on \
cybersecurity risks and on the effectiveness of the controls adopted.

Licensed corporations should report any cybersecurity incident that results in unauthorised \
transactions or the loss of client data to the SFC as soon as practicable. Questions about this \
circular may be directed to the case officers of licensed corporations."""

SFC_FINE_TITLE = (
    "SFC reprimands and fines securities broker $4.2 million over anti-money laundering failures"
)
SFC_FINE = """The Securities and Futures Commission (SFC) has reprimanded and fined Harbourfront \
Securities Limited $4.2 million for failing to comply with anti-money laundering and \
counter-financing of terrorism requirements when handling third-party deposits and withdrawals \
of its clients between 2019 and 2022.

The SFC's investigation found that the broker failed to make appropriate enquiries when clients \
deposited funds from, or withdrew funds to, accounts held in the names of third parties, and did \
not identify and assess the suspicious patterns of these transactions. It also failed to keep \
adequate records of the enquiries it had made and to report suspicious transactions to the Joint \
Financial Intelligence Unit in a timely manner.

In deciding the disciplinary sanction, the SFC took into account that the broker cooperated with \
the SFC in resolving the concerns, engaged an independent reviewer to review its internal \
controls, and had an otherwise clean disciplinary record.

The SFC reminds licensed corporations that they must implement effective policies, procedures \
and controls to detect and report suspicious transactions, and that the senior management of a \
firm is ultimately responsible for its compliance with anti-money laundering requirements."""


# --- Builders --------------------------------------------------------------------------------


def news(
    url: str, title: str, text: str, *, lang: str = "en", at: datetime = DAY, source: str = "news"
) -> Article:
    """A news outlet's article, keyed by its URL (no stable id)."""
    return Article(
        url=url,
        title=title,
        text=text,
        published_at=at,
        lang=lang,
        canonical_url=url,
        source_id=source,
    )


def release(
    url: str,
    title: str,
    text: str,
    *,
    source: str,
    item_id: str,
    lang: str = "en",
    at: datetime = DAY,
    doc_type: str = "press_release",
) -> Article:
    """A regulator's item, keyed by its source's namespace and stable id."""
    return Article(
        url=url,
        title=title,
        text=text,
        published_at=at,
        lang=lang,
        canonical_url=url,
        source_id=source,
        item_id=item_id,
        doc_type=doc_type,
        regulator=True,
    )


def hkma_release_url(lang: str, number: str) -> str:
    return f"{HKMA}/{lang}/{HKMA_PRESS}/{number}/"


def sfc_news_url(ref: str, lang: str = "EN") -> str:
    return f"{SFC_GATEWAY}/{lang}/news-and-announcements/news/doc?refNo={ref}"


def sfc_circular_url(ref: str, lang: str = "EN") -> str:
    return f"{SFC_GATEWAY}/{lang}/circular/doc?refNo={ref}"


def story(coverage: Coverage, which: str, *, at: datetime = DAY) -> Article:
    """One of the coverage's articles, each at its own outlet's URL."""
    outlet, slug, title, text = {
        "body": (0, "first-licences", coverage.title, coverage.body),
        "syndicated": (1, "first-licences", coverage.title, coverage.syndicated),
        "half": (2, "licences-explained", coverage.title, coverage.half_rewritten),
        "rewrite": (2, "licences", coverage.rewrite_title, coverage.rewrite),
        "other": (0, "scam-warning", coverage.other_title, coverage.other),
    }[which]
    return news(coverage.url(outlet, slug), title, text, lang=coverage.lang, at=at)


def deduper_with(*articles: Article, tags: Sequence[str] = STORY_TAGS) -> Deduper:
    """A deduper that has been given ``articles``, in order, all with ``tags``."""
    deduper = Deduper()
    for article in articles:
        deduper.add(article, tags=tags)
    return deduper


def link(
    article: Article,
    earlier: Article,
    *,
    tags: Sequence[str] = STORY_TAGS,
    earlier_tags: Sequence[str] = STORY_TAGS,
) -> Link | None:
    """How ``article`` relates to ``earlier`` compared directly, whatever the index would find."""
    deduper = Deduper()
    return compare(
        deduper.fingerprint(article, tags=tags), deduper.fingerprint(earlier, tags=earlier_tags)
    )


def shingle_jaccard(first: str, second: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets."""
    return jaccard(shingle_hashes(tokens(first)), shingle_hashes(tokens(second)))


def word_count(text: str) -> int:
    """Words in English, characters in Chinese: the tokens near-duplicate checks count."""
    return len(tokens(text))


def hash_set(names: Iterable[str]) -> np.ndarray:
    """A sorted set of distinct 32-bit hashes, as ``shingle_hashes`` returns."""
    return np.unique(token_hashes(list(names)))


# --- The texts are what the tests say they are -----------------------------------------------


@pytest.mark.parametrize("coverage", COVERAGE)
def test_bodies_are_long_enough_for_signatures(coverage: Coverage) -> None:
    for text in (coverage.body, coverage.syndicated, coverage.half_rewritten, coverage.rewrite):
        assert word_count(text) >= 3 * MIN_NEAR_TOKENS
    if coverage.lang == "en":
        assert len(coverage.body.split()) >= 120


# --- Regulator references --------------------------------------------------------------------


def test_hkma_release_in_english_and_chinese_shares_one_key() -> None:
    english = regulator_ref(hkma_release_url("eng", "20251120-3"))
    chinese = regulator_ref(hkma_release_url("chi", "20251120-3"))
    assert english == RegulatorRef("hkma", "news-and-media/press-releases", "20251120-3", "en")
    assert chinese is not None
    assert chinese.lang == "zh-hant"
    assert chinese.key == english.key
    simplified = regulator_ref(hkma_release_url("gb_chi", "20251120-3"))
    assert simplified is not None
    assert (simplified.key, simplified.lang) == (english.key, "zh-hans")


def test_hkma_releases_with_other_numbers_have_other_keys() -> None:
    first = regulator_ref(hkma_release_url("eng", "20251112-5"))
    second = regulator_ref(hkma_release_url("eng", "20251112-6"))
    assert first is not None and second is not None
    assert first.series == second.series
    assert first.key != second.key


def test_hkma_circular_in_english_and_chinese_shares_one_key() -> None:
    english = regulator_ref(f"{HKMA}/eng/{HKMA_CIRCULARS}/20251119e1/")
    chinese = regulator_ref(f"{HKMA}/chi/{HKMA_CIRCULARS}/20251119c1/")
    assert english is not None and chinese is not None
    assert english.key == chinese.key
    assert (english.lang, chinese.lang) == ("en", "zh-hant")
    assert english.number == "20251119-1"
    # A press release of the same day and number is another document.
    release_ref = regulator_ref(hkma_release_url("eng", "20251119-1"))
    assert release_ref is not None
    assert release_ref.key != english.key


@pytest.mark.parametrize(
    ("english_url", "chinese_url"),
    [
        pytest.param(
            sfc_news_url("25PR118"),
            f"{SFC_API}/news/content?refNo=25PR118&lang=TC",
            id="gateway-and-api",
        ),
        pytest.param(
            f"{SFC_API}/news/content?refNo=25PR118&lang=EN",
            sfc_news_url("25PR118", "TC"),
            id="api-and-gateway",
        ),
    ],
)
def test_sfc_reference_in_english_and_chinese_shares_one_key(
    english_url: str, chinese_url: str
) -> None:
    english = regulator_ref(english_url)
    chinese = regulator_ref(chinese_url)
    assert english == RegulatorRef("sfc", "PR", "25PR118", "en")
    assert chinese == RegulatorRef("sfc", "PR", "25PR118", "zh-hant")
    assert english.key == chinese.key


def test_sfc_reference_from_the_item_id_when_the_url_has_none() -> None:
    ref = regulator_ref("https://www.sfc.hk/en/News-and-announcements/RSS/item", "25pr118")
    assert ref == RegulatorRef("sfc", "PR", "25PR118", "en")
    circular = regulator_ref(sfc_circular_url("25EC61"))
    assert circular is not None
    assert (circular.series, circular.key) == ("EC", "sfc:EC:25EC61")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            "https://www.scmp.com/business/banking-finance/article/3333333/hkma-grants-first",
            id="news-outlet",
        ),
        pytest.param(
            "https://www.harbourtimes.example/eng/news/2025/11/20251120-3/", id="outlet-hkma-path"
        ),
        pytest.param(
            "https://hkma.gov.hk.phish.example/eng/news-and-media/press-releases/2025/11/20251120-3/",
            id="look-alike-host",
        ),
        pytest.param(f"{HKMA}/eng/{HKMA_PRESS}/2025112-3/", id="hkma-seven-digit-date"),
        pytest.param(f"{HKMA}/eng/{HKMA_PRESS}/20251120/", id="hkma-no-sequence"),
        pytest.param(f"{HKMA}/eng/{HKMA_PRESS}/20251120x3/", id="hkma-bad-separator"),
        pytest.param(f"{HKMA}/eng/{HKMA_PRESS}/20251120-/", id="hkma-empty-sequence"),
        pytest.param(f"{HKMA}/fra/{HKMA_PRESS}/20251120-3/", id="hkma-unknown-language"),
        pytest.param(f"{HKMA}/eng/", id="hkma-section"),
        pytest.param(sfc_news_url("PR118"), id="sfc-no-year"),
        pytest.param(sfc_news_url("25PR"), id="sfc-no-number"),
        pytest.param(sfc_news_url("25-PR-118"), id="sfc-dashes"),
        pytest.param(sfc_news_url("25ABCDE118"), id="sfc-long-series"),
        pytest.param(sfc_news_url("25PR118%27%20OR%201=1"), id="sfc-injection"),
        pytest.param(sfc_news_url(""), id="sfc-empty"),
        pytest.param("https://www.sfc.hk/en/News-and-announcements", id="sfc-no-reference"),
    ],
)
def test_no_reference(url: str) -> None:
    assert regulator_ref(url) is None


# --- Translation -----------------------------------------------------------------------------


def hkma_release_pair() -> tuple[Article, Article]:
    english = release(
        hkma_release_url("eng", "20251120-3"),
        HKMA_RELEASE_TITLE,
        HKMA_RELEASE_EN,
        source="hkma-press",
        item_id="20251120-3",
    )
    chinese = release(
        hkma_release_url("chi", "20251120-3"),
        HKMA_RELEASE_ZH_TITLE,
        HKMA_RELEASE_ZH,
        source="hkma-press-tc",
        item_id="20251120-3",
        lang="zh-hant",
        at=DAY + timedelta(minutes=5),
    )
    return english, chinese


def sfc_release_pair() -> tuple[Article, Article]:
    english = release(
        sfc_news_url("25PR120"),
        SFC_JOINT_TITLE,
        SFC_JOINT_STATEMENT,
        source="sfc-news",
        item_id="25PR120",
    )
    chinese = release(
        f"{SFC_API}/news/content?refNo=25PR120&lang=TC",
        "證監會與金管局就分銷代幣化投資產品發表聯合聲明",
        "證監會與金管局今日發表聯合聲明，闡述兩者對向香港投資者分銷代幣化投資產品的中介人的期望。"
        * 3,
        source="sfc-news-tc",
        item_id="25PR120",
        lang="zh-hant",
    )
    return english, chinese


@pytest.mark.parametrize("pair", [hkma_release_pair, sfc_release_pair], ids=["hkma", "sfc"])
@pytest.mark.parametrize("chinese_first", [False, True], ids=["en-first", "zh-first"])
def test_release_and_its_translation(
    pair: Callable[[], tuple[Article, Article]], chinese_first: bool
) -> None:
    english, chinese = pair()
    first, second = (chinese, english) if chinese_first else (english, chinese)
    deduper = deduper_with(first)
    verdict = deduper.check(second, tags=STORY_TAGS)
    assert verdict.kind == "translation"
    assert verdict.of == first.canonical_url
    assert verdict.of_key == f"{first.source_id}:{first.item_id}"
    assert verdict.score == 1.0
    # The translation is kept beside its original, not in place of it.
    deduper.add(second, tags=STORY_TAGS)
    assert len(deduper) == 2
    assert deduper.check(second).kind == "same_item"
    assert deduper.check(first).kind == "same_item"


def test_chinese_release_is_not_a_translation_of_another_release() -> None:
    english, _ = hkma_release_pair()
    other_day = release(
        hkma_release_url("chi", "20251121-2"),
        HKMA_RELEASE_ZH_TITLE,
        HKMA_RELEASE_ZH,
        source="hkma-press-tc",
        item_id="20251121-2",
        lang="zh-hant",
    )
    assert deduper_with(english).check(other_day).kind == "new"


def test_same_regulator_item_reached_another_way_is_a_duplicate() -> None:
    gateway = release(
        sfc_news_url("25PR118"), SFC_FINE_TITLE, SFC_FINE, source="sfc-rss-press", item_id="a"
    )
    api = release(
        f"{SFC_API}/news/content?refNo=25PR118&lang=EN",
        SFC_FINE_TITLE,
        SFC_FINE.replace("Harbourfront Securities Limited", "Harbourfront Securities Ltd"),
        source="sfc-news",
        item_id="25PR118",
    )
    verdict = deduper_with(gateway).check(api)
    assert (verdict.kind, verdict.of_key) == ("duplicate", "sfc-rss-press:a")


def test_english_copy_is_a_duplicate_of_the_english_release_not_a_translation() -> None:
    english, chinese = hkma_release_pair()
    deduper = deduper_with(english, chinese)
    # The English release again, under a key of its own (a source with no shared namespace).
    copy = news(english.url, english.title, english.text, source="hkma-mirror")
    verdict = deduper.check(copy)
    assert (verdict.kind, verdict.of_key) == ("duplicate", "hkma-press:20251120-3")


# --- Duplicate -------------------------------------------------------------------------------


@pytest.mark.parametrize("coverage", COVERAGE)
def test_same_canonical_url_is_a_duplicate(coverage: Coverage) -> None:
    original = story(coverage, "body")
    # Another feed's item for the same page: its own key, a shorter teaser text.
    teaser = Article(
        url=original.url + "?utm_source=rss",
        title=original.title,
        text=coverage.rewrite[:300],
        canonical_url=original.canonical_url,
        published_at=DAY,
        lang=coverage.lang,
        source_id="aggregator",
        item_id="guid-991",
    )
    verdict = deduper_with(original).check(teaser)
    assert (verdict.kind, verdict.of, verdict.score) == ("duplicate", original.url, 1.0)


@pytest.mark.parametrize("coverage", COVERAGE)
def test_same_text_under_another_url_is_a_duplicate(coverage: Coverage) -> None:
    original = story(coverage, "body")
    reflowed = " ".join(coverage.body.split()).replace('"', "“")
    copy = news(
        coverage.url(1, "copy-of-first-licences"), coverage.title, reflowed, lang=coverage.lang
    )
    assert content_hash(copy.text) == content_hash(original.text) != ""
    verdict = deduper_with(original).check(copy)
    assert (verdict.kind, verdict.of) == ("duplicate", original.url)


# --- Near-duplicate --------------------------------------------------------------------------


@pytest.mark.parametrize("coverage", COVERAGE)
def test_syndicated_copy_is_a_near_duplicate(coverage: Coverage) -> None:
    original = story(coverage, "body")
    copy = story(coverage, "syndicated")
    assert content_hash(copy.text) != content_hash(original.text)
    assert shingle_jaccard(copy.text, original.text) >= NEAR_DUPLICATE_JACCARD
    verdict = deduper_with(original).check(copy, tags=STORY_TAGS)
    assert verdict.kind == "near_duplicate"
    assert verdict.score >= NEAR_DUPLICATE_JACCARD
    assert verdict.score == pytest.approx(shingle_jaccard(copy.text, original.text), abs=1e-3)
    assert verdict.of == original.url


@pytest.mark.parametrize("coverage", COVERAGE)
def test_syndicated_copy_under_another_title_is_a_near_duplicate(coverage: Coverage) -> None:
    original = story(coverage, "body")
    copy = news(coverage.url(1, "x"), coverage.other_title, coverage.syndicated, lang=coverage.lang)
    verdict = deduper_with(original).check(copy, tags=())
    assert verdict.kind == "near_duplicate"


@pytest.mark.parametrize("coverage", COVERAGE)
def test_half_rewritten_copy_is_not_a_near_duplicate(coverage: Coverage) -> None:
    original = story(coverage, "body")
    half = story(coverage, "half")
    assert shingle_jaccard(half.text, original.text) < NEAR_DUPLICATE_JACCARD
    verdict = deduper_with(original).check(half, tags=STORY_TAGS)
    assert verdict.kind != "near_duplicate"
    # Still one event, under one headline.
    assert verdict.kind == "same_story"


@pytest.mark.parametrize("coverage", COVERAGE)
def test_stub_is_never_a_near_duplicate(coverage: Coverage) -> None:
    words = tokens(coverage.body)
    stub_tokens = MIN_NEAR_TOKENS - 5
    # A feed summary: the report's opening, cut short; a second feed's, one word different.
    if coverage.lang == "en":
        stub = " ".join(coverage.body.split()[:stub_tokens])
    else:
        stub = coverage.body[:stub_tokens]
    assert word_count(stub) < MIN_NEAR_TOKENS
    other_stub = stub[:-1] + ("X" if coverage.lang == "en" else "。")
    assert shingle_jaccard(stub, other_stub) >= NEAR_DUPLICATE_JACCARD
    assert len(words) >= MIN_NEAR_TOKENS
    for text in (stub, other_stub):
        assert fingerprint(key="k", title="t", text=text, lang=coverage.lang, at=DAY).near is None
    first = news(coverage.url(0, "summary"), coverage.title, stub, lang=coverage.lang)
    second = news(coverage.url(1, "summary"), coverage.title, other_stub, lang=coverage.lang)
    assert deduper_with(first).check(second).kind not in ("duplicate", "near_duplicate")
    # Nor is a stub the near-duplicate of the full report, nor the report of the stub.
    full = story(coverage, "body")
    assert deduper_with(full).check(first).kind != "near_duplicate"
    assert deduper_with(first).check(full).kind != "near_duplicate"


def test_signature_threshold_is_min_near_tokens() -> None:
    at_threshold = " ".join(f"word{index}" for index in range(MIN_NEAR_TOKENS))
    below = " ".join(f"word{index}" for index in range(MIN_NEAR_TOKENS - 1))
    assert fingerprint(key="a", title="", text=at_threshold, lang="en", at=DAY).near is not None
    assert fingerprint(key="b", title="", text=below, lang="en", at=DAY).near is None


# --- Same story ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "coverage",
    [
        pytest.param(EN, id="en"),
        pytest.param(ZH, id="zh"),
    ],
)
def test_rewrite_by_another_outlet_is_the_same_story(coverage: Coverage) -> None:
    original = story(coverage, "body")
    rewrite = story(coverage, "rewrite", at=DAY + timedelta(days=2))
    verdict = deduper_with(original).check(rewrite, tags=STORY_TAGS)
    assert verdict.kind == "same_story"
    assert verdict.of == original.url
    assert verdict.of_key == f"url:{original.url}"
    assert 0 < verdict.score < 1


@pytest.mark.parametrize("coverage", COVERAGE)
def test_rewrite_compared_with_its_original_is_the_same_story(coverage: Coverage) -> None:
    original = story(coverage, "body")
    rewrite = story(coverage, "rewrite", at=DAY + timedelta(days=2))
    # Another outlet's own words: nothing like a copy.
    assert shingle_jaccard(rewrite.text, original.text) < 0.3
    found = link(rewrite, original)
    assert found is not None
    assert (found.kind, found.of) == ("same_story", f"url:{original.url}")


def test_chinese_headlines_of_one_event_share_a_story_key() -> None:
    deduper = Deduper()
    original = deduper.fingerprint(story(ZH, "body"))
    rewrite = deduper.fingerprint(story(ZH, "rewrite"))
    assert len(original.title_terms & rewrite.title_terms) >= 5
    assert set(rewrite.lookup_keys()) & set(original.stored_keys())


def test_story_term_keys_of_one_fortnight_lie_together_in_the_index() -> None:
    deduper = Deduper()
    first = deduper.fingerprint(story(EN, "body"))
    later = deduper.fingerprint(story(EN, "rewrite", at=DAY + timedelta(days=2 * PERIOD_DAYS)))
    bands = first.band_keys() | later.band_keys()

    def periods(item: Fingerprint) -> set[int]:
        return {key >> 43 for key in item.stored_keys() if key not in bands and key >= 0}

    # Each article's term keys share one high part (its fortnight); two fortnights differ in
    # it, while a term shared by both keeps its low part.
    assert len(periods(first)) == len(periods(later)) == 1
    assert periods(first) != periods(later)
    shared = {key & ((1 << 43) - 1) for key in first.stored_keys() if key not in bands}
    assert shared & {key & ((1 << 43) - 1) for key in later.stored_keys() if key not in bands}


@pytest.mark.xfail(
    strict=True,
    reason=(
        "same_story is calibrated on English: a loosely worded Chinese rewrite's headline"
        " overlap counts character pairs that span two words, so it scores under"
        " SAME_STORY_MIN"
    ),
)
def test_loosely_worded_chinese_rewrite_is_the_same_story() -> None:
    original = story(ZH, "body")
    rewrite = news(ZH.url(2, "licences"), ZH.rewrite_title, ZH_LOOSE_REWRITE, lang=ZH.lang)
    # No nearer its original than the English rewrite, which is the same story.
    assert shingle_jaccard(rewrite.text, original.text) < 0.3
    english = link(story(EN, "rewrite"), story(EN, "body"))
    assert english is not None and english.kind == "same_story"
    found = link(rewrite, original)
    assert found is not None and found.kind == "same_story"


@pytest.mark.parametrize("coverage", COVERAGE)
def test_same_event_ten_days_later_is_new(coverage: Coverage) -> None:
    original = story(coverage, "body")
    assert timedelta(days=10) > STORY_WINDOW
    for shift in (timedelta(days=10), -timedelta(days=10)):
        later = story(coverage, "rewrite", at=DAY + shift)
        assert link(later, original) is None
        assert deduper_with(original).check(later, tags=STORY_TAGS).kind == "new"
    # The window is what keeps them apart: six days on, the same pair is one story.
    within = link(story(coverage, "rewrite", at=DAY + timedelta(days=6)), original)
    assert within is not None and within.kind == "same_story"


@pytest.mark.parametrize("coverage", COVERAGE)
def test_other_event_on_the_same_topic_the_same_day_is_new(coverage: Coverage) -> None:
    original = story(coverage, "body")
    other = story(coverage, "other", at=DAY + timedelta(hours=3))
    # The two share title terms (the regulator, "stablecoin"): enough to be compared at all.
    assert len(title_terms(original.title) & title_terms(other.title)) >= 2
    tags = (*STORY_TAGS, "topic:fraud")
    assert link(other, original, tags=tags) is None
    assert link(original, other, earlier_tags=tags) is None
    assert deduper_with(original).check(other, tags=tags).kind == "new"
    assert deduper_with(other, tags=tags).check(original, tags=STORY_TAGS).kind == "new"


def test_same_event_in_another_language_is_not_the_same_story() -> None:
    english = story(EN, "body")
    chinese = story(ZH, "body")
    assert link(chinese, english) is None
    assert link(english, chinese) is None
    assert deduper_with(english).check(chinese, tags=STORY_TAGS).kind == "new"
    assert deduper_with(chinese).check(english, tags=STORY_TAGS).kind == "new"
    # Not even under the English headline: the language of the text decides.
    headline = news(ZH.url(2, "x"), EN.title, ZH.body, lang="zh-hant")
    assert link(headline, english) is None
    assert deduper_with(english).check(headline, tags=STORY_TAGS).kind == "new"


@pytest.mark.parametrize(
    "dressed",
    [
        "Opinion | {}",
        "Opinion: {}",
        "Exclusive: {}",
        "{} - Harbour Times",
        "{} | Harbour Times",
        "{} – The Victoria Harbour Post",
        "Analysis | {} | Harbour Times",
    ],
)
def test_title_variants_are_normalised(dressed: str) -> None:
    assert bare_title(dressed.format(EN.title)) == EN.title
    assert title_terms(dressed.format(EN.title)) == title_terms(EN.title)


@pytest.mark.parametrize(
    "title",
    [
        "Stablecoins - what the new licensing regime means for issuers",
        "HKMA - Stablecoins",
        "Anti-money laundering rules tightened for virtual asset platforms",
        "Opinionated investors pile into tokenised gold",
    ],
)
def test_titles_that_are_not_dressed_are_kept(title: str) -> None:
    assert bare_title(title) == title


@pytest.mark.parametrize("dressed", ["{} - 港灣日報", "{} | 港灣日報"])
def test_chinese_title_variants_are_normalised(dressed: str) -> None:
    assert bare_title(dressed.format(ZH.title)) == ZH.title


@pytest.mark.parametrize("dressed", ["Opinion | {}", "{} - Victoria Post", "{} | Victoria Post"])
def test_dressed_rewrite_scores_as_the_plain_one(dressed: str) -> None:
    original = story(EN, "body")
    plain = story(EN, "rewrite")
    dressed_rewrite = news(plain.url, dressed.format(EN.rewrite_title), plain.text)
    deduper = deduper_with(original)
    expected = deduper.check(plain, tags=STORY_TAGS)
    assert expected.kind == "same_story"
    assert deduper.check(dressed_rewrite, tags=STORY_TAGS) == expected


# --- Regulator series and pairs --------------------------------------------------------------


def test_two_tender_results_the_same_day_are_different_releases() -> None:
    assert shingle_jaccard(TENDER_91_DAYS, TENDER_182_DAYS) >= NEAR_DUPLICATE_JACCARD
    first = release(
        hkma_release_url("eng", "20251112-5"),
        TENDER_TITLE,
        TENDER_91_DAYS,
        source="hkma-press",
        item_id="20251112-5",
    )
    second = release(
        hkma_release_url("eng", "20251112-6"),
        TENDER_TITLE,
        TENDER_182_DAYS,
        source="hkma-press",
        item_id="20251112-6",
        at=DAY + timedelta(minutes=1),
    )
    tags = ("entity:hkma", "topic:exchange-fund")
    assert deduper_with(first, tags=tags).check(second, tags=tags).kind == "new"
    # The same pair as news copies (no reference numbers) would be near-duplicates: only the
    # numbers keep the releases apart.
    copies = [
        news(f"https://mirror.example/{n}", TENDER_TITLE, t.text)
        for n, t in enumerate((first, second))
    ]
    assert deduper_with(copies[0], tags=tags).check(copies[1], tags=tags).kind == "near_duplicate"


def test_weekly_figures_and_last_weeks_are_different_releases() -> None:
    last_week = release(
        hkma_release_url("eng", "20251113-4"),
        RESERVES_TITLE,
        RESERVES_LAST_WEEK,
        source="hkma-press",
        item_id="20251113-4",
        at=DAY - timedelta(days=7),
    )
    this_week = release(
        hkma_release_url("eng", "20251120-4"),
        RESERVES_TITLE,
        RESERVES_THIS_WEEK,
        source="hkma-press",
        item_id="20251120-4",
    )
    tags = ("entity:hkma", "topic:reserves")
    assert deduper_with(last_week, tags=tags).check(this_week, tags=tags).kind == "new"
    # Each week's Chinese release is still the translation of its own English one.
    chinese = release(
        hkma_release_url("chi", "20251120-4"),
        "香港最新外匯儲備資產數字",
        "金管局今日公布，香港的官方外匯儲備資產於上周末為四千二百八十六億美元。" * 3,
        source="hkma-press-tc",
        item_id="20251120-4",
        lang="zh-hant",
    )
    verdict = deduper_with(last_week, this_week, tags=tags).check(chinese, tags=tags)
    assert (verdict.kind, verdict.of_key) == ("translation", "hkma-press:20251120-4")


def test_sfc_circular_and_an_unrelated_press_release_the_same_day_are_new() -> None:
    circular = release(
        sfc_circular_url("25EC60"),
        SFC_CYBER_TITLE,
        SFC_CYBER_CIRCULAR,
        source="sfc-circulars",
        item_id="25EC60",
        doc_type="circular",
    )
    fine = release(
        sfc_news_url("25PR121"),
        SFC_FINE_TITLE,
        SFC_FINE,
        source="sfc-news",
        item_id="25PR121",
        at=DAY + timedelta(hours=2),
        doc_type="enforcement",
    )
    deduper = Deduper()
    deduper.add(circular, tags=("entity:sfc", "topic:cybersecurity"))
    assert deduper.check(fine, tags=("entity:sfc", "topic:aml")).kind == "new"


def test_sfc_circular_and_the_press_release_announcing_it_are_one_story() -> None:
    statement = release(
        sfc_news_url("25PR120"),
        SFC_JOINT_TITLE,
        SFC_JOINT_STATEMENT,
        source="sfc-news",
        item_id="25PR120",
    )
    circular = release(
        sfc_circular_url("25EC61"),
        SFC_JOINT_CIRCULAR_TITLE,
        SFC_JOINT_CIRCULAR,
        source="sfc-circulars",
        item_id="25EC61",
        at=DAY + timedelta(minutes=30),
        doc_type="circular",
    )
    tags = ("entity:sfc", "entity:hkma", "topic:tokenisation")
    verdict = deduper_with(statement, tags=tags).check(circular, tags=tags)
    assert (verdict.kind, verdict.of_key) == ("same_story", "sfc-news:25PR120")
    # Two circulars of one series are never one story, however alike.
    next_circular = release(
        sfc_circular_url("25EC62"),
        SFC_JOINT_CIRCULAR_TITLE,
        SFC_JOINT_CIRCULAR.replace("takes effect immediately", "takes effect on 1 December"),
        source="sfc-circulars",
        item_id="25EC62",
        doc_type="circular",
    )
    assert deduper_with(circular, tags=tags).check(next_circular, tags=tags).kind == "new"


# --- Deduper mechanics -----------------------------------------------------------------------


def test_same_key_is_the_same_item() -> None:
    original = story(EN, "body")
    deduper = deduper_with(original)
    updated = news(EN.url(1, "elsewhere"), "Updated headline", EN.other)
    verdict = deduper.check(updated, key=f"url:{original.url}")
    assert verdict == Verdict("same_item", original.url, 1.0, f"url:{original.url}")


def test_check_before_add_does_not_remember() -> None:
    deduper = Deduper()
    original = story(EN, "body")
    assert deduper.check(original).kind == "new"
    assert deduper.check(original).kind == "new"
    assert deduper.check(story(EN, "syndicated")).kind == "new"
    assert len(deduper) == 0
    deduper.add(original)
    assert deduper.check(original).kind == "same_item"
    assert deduper.check(story(EN, "syndicated")).kind == "near_duplicate"


@pytest.mark.parametrize("tier", ["duplicate", "near_duplicate"])
@pytest.mark.parametrize("order", [(0, 2), (2, 0)], ids=["a-first", "b-first"])
def test_earliest_of_equal_matches_is_named(tier: str, order: tuple[int, int]) -> None:
    # Two identical copies at two outlets: any later article matches both equally well.
    copies = [news(EN.url(outlet, "first-licences"), EN.title, EN.body) for outlet in order]
    deduper = deduper_with(*copies)
    text = EN.body if tier == "duplicate" else EN.syndicated
    probe = news("https://www.aggregator.example/item/1", EN.title, text)
    verdict = deduper.check(probe, tags=STORY_TAGS)
    assert verdict.kind == tier
    assert (verdict.of, verdict.of_key) == (copies[0].url, f"url:{copies[0].url}")


def test_verdict_names_the_earlier_articles_key() -> None:
    original = release(
        hkma_release_url("eng", "20251120-3"),
        HKMA_RELEASE_TITLE,
        HKMA_RELEASE_EN,
        source="hkma-press",
        item_id="20251120-3",
    )
    deduper = deduper_with(original)
    copy = news(
        "https://www.info.gov.hk/gia/general/202511/20/P2025112000321.htm", "x", original.text
    )
    verdict = deduper.check(copy)
    assert verdict.kind == "duplicate"
    assert verdict.of == original.url
    assert verdict.of_key == "hkma-press:20251120-3"
    assert verdict.of_key in deduper.prints


# --- Cost: an index, not a scan --------------------------------------------------------------

NOISE_ARTICLES = 2_000


def noise(count: int, seed: int = 7) -> list[Article]:
    """Articles about nothing the probes are about: made-up words, random Han characters."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mir", "tu", "sen", "vax", "do", "rel", "pim", "qua", "zor", "ne"]
    vocabulary = ["".join(rng.choices(syllables, k=3)) for _ in range(3_000)]
    articles = []
    for index in range(count):
        at = DAY + timedelta(hours=rng.randint(-24 * 30, 24 * 30))
        if index % 2:
            title = " ".join(rng.choices(vocabulary, k=8))
            text = " ".join(rng.choices(vocabulary, k=150))
            lang = "en"
        else:
            title = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(12))
            text = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(200))
            lang = "zh-hant"
        articles.append(news(f"https://noise.example/{index}", title, text, lang=lang, at=at))
    return articles


@pytest.fixture(scope="module")
def noise_articles() -> list[Article]:
    return noise(NOISE_ARTICLES)


def probes() -> list[tuple[str, Article, Article]]:
    """(expected kind, the stored article, the article checked against it)."""
    english, chinese = hkma_release_pair()
    return [
        ("translation", english, chinese),
        ("duplicate", story(EN, "body"), news(EN.url(1, "copy"), EN.title, EN.body)),
        ("near_duplicate", story(EN, "body"), story(EN, "syndicated")),
        ("near_duplicate", story(ZH, "body"), story(ZH, "syndicated")),
        ("same_story", story(EN, "body"), story(EN, "rewrite")),
        ("same_story", story(ZH, "body"), story(ZH, "half")),
        ("new", story(EN, "body"), story(EN, "other")),
        ("new", story(ZH, "body"), story(ZH, "rewrite", at=DAY + timedelta(days=10))),
    ]


@pytest.mark.parametrize(
    ("kind", "stored", "probe"),
    probes(),
    ids=[
        "translation",
        "duplicate",
        "near-en",
        "near-zh",
        "story-en",
        "story-zh",
        "new-en",
        "new-zh",
    ],
)
def test_many_unrelated_articles_change_no_verdict(
    noise_articles: list[Article], kind: str, stored: Article, probe: Article
) -> None:
    alone = deduper_with(stored)
    crowded = Deduper()
    half = len(noise_articles) // 2
    for article in noise_articles[:half]:
        crowded.add(article)
    crowded.add(stored, tags=STORY_TAGS)
    for article in noise_articles[half:]:
        crowded.add(article)
    assert len(crowded) == NOISE_ARTICLES + 1
    expected = alone.check(probe, tags=STORY_TAGS)
    assert expected.kind == kind
    assert crowded.check(probe, tags=STORY_TAGS) == expected
    # The check looked only at the article that shares a key with the probe, not at all 2,001.
    print_ = crowded.fingerprint(probe, tags=STORY_TAGS)
    assert crowded.candidates(print_) == alone.candidates(alone.fingerprint(probe))


# --- MinHash ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(range(0, 400), range(0, 400), id="same"),
        pytest.param(range(0, 400), range(40, 440), id="0.82"),
        pytest.param(range(0, 400), range(130, 530), id="0.5"),
        pytest.param(range(0, 400), range(270, 670), id="0.2"),
        pytest.param(range(0, 400), range(400, 800), id="disjoint"),
    ],
)
def test_signature_estimates_jaccard(first: range, second: range) -> None:
    one = hash_set(f"shingle-{index}" for index in first)
    two = hash_set(f"shingle-{index}" for index in second)
    true = jaccard(one, two)
    estimate = minhash.estimate(minhash.signature(one), minhash.signature(two))
    assert abs(estimate - true) <= 0.15


@pytest.mark.parametrize("coverage", COVERAGE)
def test_signature_estimates_jaccard_of_texts(coverage: Coverage) -> None:
    for other in (coverage.syndicated, coverage.half_rewritten, coverage.rewrite):
        one = shingle_hashes(tokens(coverage.body))
        two = shingle_hashes(tokens(other))
        estimate = minhash.estimate(minhash.signature(one), minhash.signature(two))
        assert abs(estimate - jaccard(one, two)) <= 0.15


def test_signature_shape_and_empty_set() -> None:
    sig = minhash.signature(shingle_hashes(tokens(EN.body)))
    assert sig.dtype == np.uint32
    assert sig.shape == (minhash.PERMUTATIONS,)
    empty = minhash.signature(shingle_hashes([]))
    assert (empty == 0xFFFFFFFF).all()
    assert minhash.estimate(sig, sig) == 1.0


def test_band_keys() -> None:
    sig = minhash.signature(shingle_hashes(tokens(EN.body)))
    keys = minhash.band_keys(sig)
    assert len(keys) == minhash.BANDS == 8
    assert all(type(key) is int and -(2**63) <= key < 2**63 for key in keys)
    assert minhash.band_keys(sig) == keys
    assert minhash.band_keys(sig.copy()) == keys
    # Equal bands in different positions are filed under different keys.
    constant = minhash.signature(shingle_hashes([]))
    assert len(set(minhash.band_keys(constant))) == minhash.BANDS
    # One changed value changes its own band's key and no other.
    changed = sig.copy()
    changed[minhash.ROWS * 3 + 1] ^= 1
    differing = [
        i for i, (a, b) in enumerate(zip(keys, minhash.band_keys(changed), strict=True)) if a != b
    ]
    assert differing == [3]
    # Values past the banded part estimate the similarity but file the text under nothing.
    beyond = sig.copy()
    beyond[minhash.BANDS * minhash.ROWS] ^= 1
    assert minhash.band_keys(beyond) == keys


def test_band_keys_are_the_first_of_the_sixteen_filed_before() -> None:
    """Articles filed with sixteen bands are still found by the eight looked up now."""
    sig = minhash.signature(shingle_hashes(tokens(EN.body)))
    rows = sig.astype(np.uint64).reshape(16, 4)
    salt = np.arange(1, 17, dtype=np.uint64) * np.uint64(0xA0761D6478BD642F)
    fold = np.array(
        [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93],
        dtype=np.uint64,
    )
    sixteen = [int(key) for key in ((rows * fold).sum(axis=1) ^ salt).view(np.int64)]
    assert minhash.band_keys(sig) == sixteen[: minhash.BANDS]


def test_signature_bytes_round_trip() -> None:
    sig = minhash.signature(shingle_hashes(tokens(ZH.body)))
    blob = minhash.to_bytes(sig)
    assert len(blob) == 4 * minhash.PERMUTATIONS
    assert blob[:4] == int(sig[0]).to_bytes(4, "little")
    back = minhash.from_bytes(blob)
    assert back.dtype == np.uint32
    assert np.array_equal(back, sig)
    assert minhash.band_keys(back) == minhash.band_keys(sig)
