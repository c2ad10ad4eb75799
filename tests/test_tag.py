"""Tagging with the shipped taxonomy: golden seed tags, boundaries, context, hierarchy, evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO
from support.shared import shared_path

from pipeline.models import Article, Tag
from pipeline.tag import EVIDENCE_LIMIT, SNIPPET_CHARS, Tagger

EXPECTED_000 = {
    # entities named in the article
    "ant-group",
    "eric-jing",
    "christopher-hui",
    "fstb",  # "Secretary for Financial Services and the Treasury"
    "fred-hu",
    "primavera-capital",
    "hk-fintech-week",
    "alipay",
    "ant-digital-technologies",
    "ant-international",
    "oceanbase",
    "hkma",
    "genai-sandbox",
    "polyu",
    "project-ensemble",
    "whale",
    "standard-chartered",
    "hsbc",
    "alipay-plus",
    "alipayhk",
    "goglobal-task-force",
    "fintech-news-hk",
    "freepik",
    "memory-stockphoto",  # the Freepik contributor the image credit names
    "hong-kong",
    "china",
    "southeast-asia",
    # implied by a child: the SFST's bureau belongs to the government
    "hk-government",
    # topics
    "ai",
    "ai-agents",
    "genai",
    "tokenisation",
    "tokenised-deposits",
    "real-world-assets",
    "digital-assets",
    "blockchain",
    "web3",
    "payments",
    "cross-border-payments",
    "trade-finance",
    "settlement",
    "risk-management",
    "fraud",
    "fintech",
    "banking",  # "banks' adoption of AI agents"
    "liquidity-management",  # "global liquidity management pilots"
    "new-energy",  # "China's new energy sector"
    "going-global",  # "help Chinese businesses operate internationally"
    "regulation",  # "regulated AI", "Hong Kong regulators"
}

EXPECTED_002 = {
    "sfc",
    "hkma",
    "policy-statement-2",
    "leap-framework",
    "aspire",
    "coinpedia",
    "cointelegraph",
    "hk-ai-rd-institute",
    "cyberport",
    "aisc",
    "ai-subsidy-scheme",
    "wdta",
    "china-financial-leasing",
    "hk-ai-governance-2025-update",
    "nemko-digital",
    "hk-budget-2025-26",  # "the 2025–26 budget"
    "hong-kong",
    "singapore",
    "mainland-china",
    # implied: the policy statement comes from the FSTB, mainland China is part of China
    "fstb",
    "hk-government",
    "china",
    # topics
    "ai",
    "ai-governance",
    "supercomputing",
    "cloud-computing",
    "blockchain",
    "smart-contracts",
    "defi",
    "digital-assets",
    "virtual-assets",
    "crypto",
    "bitcoin",
    "ethereum",
    "stablecoins",
    "nfts",
    "tokenisation",
    "real-world-assets",
    "licensing",
    "fintech",
    "settlement",
    "venture-capital",
    "risk-management",
    "fraud",
    "investor-protection",
    "data-privacy",
    "talent",
    "data-analytics",  # "predictive analytics", "vast datasets"
    "equities",  # "tokenization of assets-such as real estate and equities"
    "real-estate",
    "fundraising",  # "$11.1 million fundraising initiative"
    "government-funding",  # "HK$1 billion government allocation", "AI Subsidy Scheme"
    "liquidity-management",  # "leveraging AI for valuation and liquidity"
    "startups",  # "incentivizing startups"
    "trading",  # "crypto trading", "trading strategies"
    "regulation",  # "regulatory framework", "Regulators have also prioritized"
}


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.from_path(REPO / "taxonomy.toml")


def seed_text(number: str) -> str:
    """The text of seed article ``number`` (``../shared/seeds``); skips the test without it."""
    [path] = shared_path("seeds").glob(f"{number}_*.txt")
    return path.read_text(encoding="utf-8")


def tags_of(tagger: Tagger, number: str) -> dict[str, Tag]:
    text = seed_text(number)
    if number == "002":  # its first line is the headline
        title, _, body = text.partition("\n")
        return {t.id: t for t in tagger.tag(body, title=title)}
    return {t.id: t for t in tagger.tag(text)}


def ids(tagger: Tagger, text: str, title: str = "") -> set[str]:
    return {t.id for t in tagger.tag(text, title=title)}


@pytest.mark.shared
@pytest.mark.parametrize(("number", "expected"), [("000", EXPECTED_000), ("002", EXPECTED_002)])
def test_seed_gets_exactly_the_expected_tags(
    tagger: Tagger, number: str, expected: set[str]
) -> None:
    found = set(tags_of(tagger, number))
    assert found == expected, {"unexpected": found - expected, "missing": expected - found}


@pytest.mark.shared
@pytest.mark.parametrize("number", ["000", "002"])
def test_every_node_seeded_from_an_article_is_found_in_it(tagger: Tagger, number: str) -> None:
    seeded = {node.id for node in tagger.nodes if number in node.seed}
    assert len(seeded) >= 20
    missing = seeded - set(tags_of(tagger, number))
    assert not missing


@pytest.mark.shared
def test_seed_000_counts_evidence_and_positions(tagger: Tagger) -> None:
    tags = tags_of(tagger, "000")
    jing = tags["eric-jing"]
    # "Eric Jing" once, then "Jing" three times as a later reference
    assert jing.count == 4 and jing.kind == "entity" and jing.type == "person"
    assert jing.in_lead and not jing.in_title
    assert jing.evidence[0].startswith("Eric Jing, Chairman of Ant Group")
    # the Whale sentence runs to 269 characters: cut between words, marked with an ellipsis
    [whale] = tags["whale"].evidence
    assert whale.startswith("Ant International has used its Whale blockchain platform")
    assert whale.endswith("HSBC’s first global tokenised…") and len(whale) <= SNIPPET_CHARS
    assert not tags["hkma"].in_lead and tags["ant-group"].in_lead
    # one snippet per sentence: the second sentence names Hong Kong three times
    hong_kong = tags["hong-kong"].evidence
    assert len(hong_kong) == EVIDENCE_LIMIT
    assert hong_kong[1].startswith("Speaking on a panel with Christopher Hui")
    assert hong_kong[2].startswith("Ant Group first entered Hong Kong")
    assert tags["ai"].kind == "topic" and tags["ai"].type == "topic"


@pytest.mark.shared
def test_seed_002_headline_sets_in_title(tagger: Tagger) -> None:
    tags = tags_of(tagger, "002")
    assert tags["crypto"].in_title and tags["ai"].in_title and tags["hong-kong"].in_title
    assert not tags["sfc"].in_title and not tags["stablecoins"].in_title
    assert tags["sfc"].in_lead is False  # first named in the second paragraph
    assert tags["tokenisation"].in_lead  # "tokenized asset ecosystems" in the first
    assert tags["aspire"].evidence[0].startswith("A key regulatory milestone was the SFC's")


@pytest.mark.parametrize(
    "sentence",
    [
        "The paid staff said the SAID report was fine.",
        "Researchers study ant colonies in Antarctica.",
        "We went whale watching off Sai Kung.",
        "The film has an ensemble cast.",
        "Ensemble performances sold out; the aid was welcome.",
        "The DA dropped the case, said the paid aide.",
    ],
)
def test_negative_sentences_give_no_tags(tagger: Tagger, sentence: str) -> None:
    assert tagger.tag(sentence) == []


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        (
            "香港金融管理局與證監會就穩定幣發行人發牌制度發表聯合聲明",
            "The Hong Kong Monetary Authority and the Securities and Futures Commission issued a"
            " joint statement on the licensing regime for stablecoin issuers.",
        ),
        (
            "香港金融管理局与证监会就稳定币发行人发牌制度发表联合声明",
            "The HKMA and the SFC issued a joint statement on licensing stablecoin issuers.",
        ),
        (
            "螞蟻集團旗下的支付寶香港與滙豐及渣打在數碼港合作推動代幣化",
            "AlipayHK, part of Ant Group, works with HSBC and Standard Chartered at Cyberport on"
            " tokenisation.",
        ),
        (
            "初創企業以大數據研究房地產市場，並獲政府資助",
            "Startups study the property market with big data, backed by government funding.",
        ),
        (
            "數碼港人工智能超算中心支援香港人工智能研發院",
            "Cyberport's AI Supercomputing Centre supports the Hong Kong AI Research and"
            " Development Institute.",
        ),
        (
            "蚂蚁国际与汇丰在区块链及跨境支付方面合作",
            "Ant International and HSBC work together on blockchain and cross-border payments.",
        ),
        (
            "財政司司長陳茂波在2025-26年度財政預算案中預留10億元成立香港人工智能研發院",
            "Financial Secretary Paul Chan set aside HK$1 billion in the 2025-26 Budget for the"
            " Hong Kong AI Research and Development Institute.",
        ),
        (
            "金管局與證監會在LEAP框架下推動虛擬資產發牌",
            "The HKMA and the SFC advance virtual asset licensing under the LEAP framework.",
        ),
        (
            "蚂蚁数科参与金管局的GenA.I.沙盒，以AI代理提升反欺诈及风险管理能力",
            "Ant Digital Technologies joined the HKMA GenAI Sandbox, using AI agents to"
            " strengthen anti-fraud and risk management.",
        ),
        (
            "內地企業出海專班協助企業出海，並與新加坡及東南亞夥伴合作",
            "The GoGlobal Task Force helps enterprises going global with partners in Singapore"
            " and Southeast Asia.",
        ),
    ],
)
def test_chinese_and_english_sentences_tag_the_same(
    tagger: Tagger, chinese: str, english: str
) -> None:
    assert ids(tagger, chinese) == ids(tagger, english)
    assert len(ids(tagger, chinese)) >= 4


def test_latin_terms_need_word_boundaries_and_acronyms_their_case(tagger: Tagger) -> None:
    assert ids(tagger, "Chairman SAID so; the maid paid.") == set()
    assert ids(tagger, "ai and sfc in lower case") == set()
    assert ids(tagger, "AI-driven tools") == {"ai"}
    assert ids(tagger, "Cyberports are ports.") == set()
    # CJK terms match inside running text without spaces
    assert ids(tagger, "今日金管局宣布") == {"hkma"}
    assert ids(tagger, "香港金管局(HKMA)") == {"hkma", "hong-kong"}


def test_plural_and_glued_ticker_forms_match(tagger: Tagger) -> None:
    found = {t.id: t.count for t in tagger.tag("Stablecoins and NFTs.")}
    assert found == {"stablecoins": 1, "nfts": 1, "digital-assets": 2}
    assert ids(tagger, "prices of BitcoinBTC-- and EthereumETH-- rose") == {
        "bitcoin",
        "ethereum",
        "crypto",
        "digital-assets",
    }


def test_normalisation_handles_full_width_and_ligatures(tagger: Tagger) -> None:
    assert ids(tagger, "ＨＫＭＡ issued ｓｔａｂｌｅｃｏｉｎ rules") == {
        "hkma",
        "stablecoins",
        "digital-assets",
    }
    [tag] = [t for t in tagger.tag("Straße notes: the ﬁntech scene grows.") if t.id == "fintech"]
    assert tag.evidence == ("Straße notes: the ﬁntech scene grows.",)


def test_chinese_full_width_text_keeps_sentence_evidence(tagger: Tagger) -> None:
    found = {
        t.id: t for t in tagger.tag("金管局（HKMA）今日表示，會推動代幣化。證監會亦表示歡迎。")
    }
    assert set(found) == {"hkma", "sfc", "tokenisation", "digital-assets"}
    assert found["hkma"].count == 2
    assert found["hkma"].evidence == ("金管局（HKMA）今日表示，會推動代幣化。",)
    assert found["sfc"].evidence == ("證監會亦表示歡迎。",)


def test_ant_alone_is_not_ant_group(tagger: Tagger) -> None:
    assert ids(tagger, "An Ant walked by; Ant teams won.") == set()
    found = {t.id: t for t in tagger.tag("Ant Digital Technologies and AntDT are the same.")}
    assert set(found) == {"ant-digital-technologies", "ant-group"}
    # Ant Group is implied through the hierarchy, never matched inside the longer name
    assert found["ant-group"].count == found["ant-digital-technologies"].count == 2


def test_longest_match_wins_and_places_inside_names_do_not_count(tagger: Tagger) -> None:
    assert ids(tagger, "The Hong Kong Monetary Authority spoke.") == {"hkma"}
    assert ids(tagger, "Hong Kong Polytechnic University") == {"polyu"}
    assert ids(tagger, "數碼港元試驗") == {"cbdc"}
    assert ids(tagger, "中國證監會公布") == {"csrc"}
    # a topic word inside an entity's name still counts for the topic
    assert ids(tagger, "HKMA's GenAI Sandbox") == {"hkma", "genai-sandbox", "genai", "ai"}


def test_context_rules(tagger: Tagger) -> None:
    assert ids(tagger, "Whale watching is popular.") == set()
    assert "whale" in ids(tagger, "Ant International's Whale platform settles in real time.")
    assert "whale" not in ids(tagger, "Whale was seen. The blockchain platform launched.")
    assert ids(tagger, "Ensemble pilots will tokenise deposits.") >= {"project-ensemble"}
    assert "project-ensemble" not in ids(tagger, "The Ensemble played at City Hall.")
    assert "paul-chan" in ids(tagger, "Paul Chan presented the Budget.")
    assert "paul-chan" not in ids(tagger, "Paul Chan won the chess match.")


def test_short_forms_count_only_after_the_full_name(tagger: Tagger) -> None:
    assert ids(tagger, "Jing said hello.") == set()
    [tag] = tagger.tag("Jing said hello. Eric Jing then spoke. Jing agreed.")
    assert tag.id == "eric-jing" and tag.count == 2
    # an abbreviation the article defines: "DA" before the definition is someone else
    found = {t.id: t.count for t in tagger.tag("DA first. A digital asset (DA) plan. DA again.")}
    assert found == {"digital-assets": 3}


def test_a_defined_abbreviation_wins_over_another_nodes_acronym(tagger: Tagger) -> None:
    circular = (
        "Authorized institutions (AIs) should review their controls. AIs should use blockchain"
        " tools. An AI should keep records."
    )
    found = {t.id: t.count for t in tagger.tag(circular)}
    assert found == {"authorized-institutions": 4, "blockchain": 1}
    # without the definition, "AI" is artificial intelligence
    assert {t.id: t.count for t in tagger.tag("AIs and AI models are everywhere.")} == {"ai": 2}


def test_parents_are_implied_with_summed_counts_and_child_evidence(tagger: Tagger) -> None:
    text = "Users pay with AlipayHK. AlipayHK grew fast."
    found = {t.id: t for t in tagger.tag(text)}
    assert set(found) == {"alipayhk", "alipay", "ant-group"}
    assert found["alipayhk"].count == found["alipay"].count == found["ant-group"].count == 2
    assert found["ant-group"].evidence == ("Users pay with AlipayHK.", "AlipayHK grew fast.")
    found = {t.id: t for t in tagger.tag("AI agents and GenAI. Also AI.")}
    assert found["ai"].count == 3 and found["ai-agents"].count == 1 and found["genai"].count == 1


def test_min_count_holds_back_weak_topics_and_their_parents(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text(
        '[[node]]\nid = "finance"\nkind = "topic"\ntype = "topic"\nname = "Finance"\n'
        '[[node]]\nid = "talent"\nkind = "topic"\ntype = "topic"\nname = "Talent"\n'
        'min_count = 2\nparent = "finance"\n',
        encoding="utf-8",
    )
    tagger = Tagger.from_path(path)
    assert tagger.tag("Talent matters.") == []
    found = {t.id: t.count for t in tagger.tag("Talent matters. Talent wins.")}
    assert found == {"talent": 2, "finance": 2}


def test_evidence_is_limited_distinct_and_short(tagger: Tagger) -> None:
    sentences = [f"Sentence {n} mentions the HKMA and the HKMA again." for n in range(6)]
    [tag] = tagger.tag(" ".join(sentences))
    assert tag.count == 12
    assert tag.evidence == tuple(sentences[:EVIDENCE_LIMIT])
    long_sentence = "word " * 100 + "the HKMA said " + "more " * 100 + "end."
    [tag] = tagger.tag(long_sentence)
    [snippet] = tag.evidence
    assert len(snippet) <= SNIPPET_CHARS and "HKMA" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")


def test_evidence_of_a_term_holding_a_stop_is_its_whole_sentence(tagger: Tagger) -> None:
    found = {t.id: t for t in tagger.tag("Banks joined the GenA.I. Sandbox in 2025. Others wait.")}
    assert found["genai-sandbox"].evidence == ("Banks joined the GenA.I. Sandbox in 2025.",)


def test_tag_article_adds_attached_entities_and_categories(tagger: Tagger) -> None:
    article = Article(
        url="https://example.org/a",
        title="SFC reprimands a broker",
        text="The Securities and Futures Commission fined the firm.",
        entities=("HSBC", "Golden Dragon Securities Limited", "Golden Dragon Securities Limited"),
        categories=("Enforcement news", "Blockchain", "SFC"),
    )
    found = {t.id: t for t in tagger.tag_article(article)}
    assert set(found) == {
        "sfc",
        "hsbc",
        "blockchain",
        "ce:golden-dragon-securities-limited",
        "category:enforcement-news",
    }
    assert found["sfc"].count == 2 and found["sfc"].in_title  # text mentions only
    assert found["hsbc"].evidence == ("HSBC",) and found["hsbc"].count == 1
    unknown = found["ce:golden-dragon-securities-limited"]
    assert (unknown.kind, unknown.type, unknown.count) == ("entity", "licensed-corporation", 2)
    assert unknown.name == "Golden Dragon Securities Limited"
    category = found["category:enforcement-news"]
    assert (category.kind, category.type) == ("topic", "feed-category")


def test_empty_text_has_no_tags(tagger: Tagger) -> None:
    assert tagger.tag("") == []
    assert tagger.tag("   \n\n ") == []
