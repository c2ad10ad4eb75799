"""Alert rule matching: each condition, any/all nested, taxonomy names as ids, names, aliases and
Chinese names, keywords as words or Chinese substrings, queries read as `newswatch search` reads
them (checked against SQLite's own index), languages by prefix, and the shipped rules."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from support import REPO

from pipeline.alerts.config import AlertRule, load_alerts
from pipeline.alerts.rules import MatchSubject, matching_rules, rule_matches
from pipeline.alerts.textmatch import CompiledQuery, IndexedText, index_terms
from pipeline.config import load_sources
from pipeline.models import Article, Tag, TaggedArticle
from pipeline.querytext import parse_query
from pipeline.store.search import fts5_query
from pipeline.taxonomy import load_taxonomy

CHANNELS = '[[channel]]\nid = "desk"\nkind = "console"\n'
MIGRATION = REPO / "pipeline" / "store" / "migrations" / "versions" / "0001_initial.py"

# Tags as the tagger gives them with the shipped taxonomy: (kind, id, name).
HKMA = ("entity", "hkma", "Hong Kong Monetary Authority")
SFC = ("entity", "sfc", "Securities and Futures Commission")
ANT = ("entity", "ant-group", "Ant Group")
STABLECOINS = ("topic", "stablecoins", "Stablecoins")
TOKENISATION = ("topic", "tokenisation", "Tokenisation")
VIRTUAL_ASSETS = ("topic", "virtual-assets", "Virtual assets")


@cache
def shipped_names() -> tuple[Any, Any]:
    return load_sources(REPO / "sources.toml"), load_taxonomy(REPO / "taxonomy.toml")


def load_rule(tmp_path: Path, body: str) -> AlertRule:
    """One rule, loaded with the shipped sources and taxonomy (names resolved to node ids)."""
    path = tmp_path / "alerts.toml"
    path.write_text(f'[[rule]]\nid = "r"\nchannels = ["desk"]\n{body}\n{CHANNELS}', "utf-8")
    sources, taxonomy = shipped_names()
    [rule] = load_alerts(path, sources=sources, taxonomy=taxonomy, environ={}).rules
    return rule


def subject(**given: Any) -> MatchSubject:
    """A news article from an outlet unless ``given`` says otherwise."""
    values: dict[str, Any] = {
        "regulator": False,
        "source_id": "scmp-business",
        "doc_type": "news",
        "language": "en",
        "title": "Banks pilot deposit tokens",
        "text": "Three banks tested tokenised deposits in Project Ensemble.",
        "tags": (),
    }
    values.update(given)
    return MatchSubject.of(**values)


ROWS = [
    # regulator, sources, doc_types
    ("regulator = true", {"regulator": True}, True),
    ("regulator = true", {}, False),
    ("regulator = false", {}, True),
    ('sources = ["hkma-press", "sfc-news"]', {"source_id": "sfc-news"}, True),
    ('sources = ["hkma-press", "sfc-news"]', {"source_id": "sfc-circulars"}, False),
    ('doc_types = ["enforcement"]', {"doc_type": "enforcement"}, True),
    ('doc_types = ["enforcement"]', {"doc_type": "press_release"}, False),
    # entities and topics: by id, name, alias (any case) and Chinese alias, as the tag's id
    ('entities = ["hkma"]', {"tags": (HKMA,)}, True),
    ('entities = ["Hong Kong Monetary Authority"]', {"tags": (HKMA,)}, True),
    ('entities = ["hkma"]', {"tags": (SFC,)}, False),
    ('entities = ["hkma"]', {"tags": (("topic", "hkma", "HKMA"),)}, False),
    ('entities = ["金管局"]', {"tags": (HKMA,)}, True),
    ('entities = ["證券及期貨事務監察委員會"]', {"tags": (SFC,)}, True),
    ('entities = ["Ant Financial"]', {"tags": (ANT,)}, True),
    ('topics = ["STABLE COIN"]', {"tags": (STABLECOINS,)}, True),
    ('topics = ["穩定幣"]', {"tags": (STABLECOINS,)}, True),
    ('topics = ["tokenization"]', {"tags": (TOKENISATION,)}, True),
    ('topics = ["虛擬資產"]', {"tags": (VIRTUAL_ASSETS,)}, True),
    ('topics = ["虛擬資產"]', {"tags": (STABLECOINS,)}, False),
    ('entities = ["ce:foo-securities"]', {"tags": (("entity", "ce:foo-securities", "Foo"),)}, True),
    # every field given must hold
    ('entities = ["hkma", "sfc"]\ntopics = ["stablecoins"]', {"tags": (SFC, STABLECOINS)}, True),
    ('entities = ["hkma", "sfc"]\ntopics = ["stablecoins"]', {"tags": (SFC,)}, False),
    ('regulator = true\nentities = ["hkma"]', {"tags": (HKMA,)}, False),
    # keywords: alphabetic ones as whole words in any case, Chinese ones anywhere
    ('keywords = ["HKMA"]', {"text": "The hkma said so."}, True),
    ('keywords = ["HKMA"]', {"title": "HKMA's new rules"}, True),
    ('keywords = ["HKMA"]', {"text": "HKMAs and HKMA_2025 are not the word."}, False),
    ('keywords = ["stablecoin"]', {"text": "Stablecoins were discussed."}, False),
    ('keywords = ["coin"]', {"text": "A stablecoin issuer."}, False),
    ('keywords = ["stablecoin", "e-HKD"]', {"text": "The e-HKD pilot (phase 2)."}, True),
    ('keywords = ["monetary authority"]', {"text": "The Monetary\n  Authority wrote."}, True),
    ('keywords = ["穩定幣"]', {"text": "香港穩定幣發行人制度今日生效。"}, True),
    ('keywords = ["穩定幣"]', {"text": "香港虛擬資產交易平台"}, False),
    ('keywords = ["HKMA"]', {"text": "金管局HKMA發出通告"}, True),
    ('keywords = ["ＨＫＭＡ"]', {"text": "HKMA"}, True),
    # query: as `newswatch search` reads it
    ('query = "issuer"', {"text": "Two stablecoin issuers were licensed."}, True),
    ('query = "Stablecoins"', {"text": "A stablecoin issuer."}, True),
    ('query = "hkma tokenised"', {"text": "Tokenised deposits with the HKMA."}, True),
    ('query = "hkma tokenised"', {"text": "Tokenised deposits at three banks."}, False),
    ("query = '\"Monetary Authority\"'", {"text": "The Hong Kong Monetary Authority said."}, True),
    ("query = '\"Authority Monetary\"'", {"text": "The Hong Kong Monetary Authority said."}, False),
    # A phrase stands in one field: here the title's last word and the text's first.
    ("query = '\"tokens Three\"'", {}, False),
    ('query = "remittance OR doubles"', {"title": "Ant Group doubles down"}, True),
    ('query = "remittance OR doubles"', {}, False),
    ('query = "HKMA -tokenised"', {"text": "The HKMA licensed two issuers."}, True),
    ('query = "HKMA -tokenised"', {"text": "The HKMA tokenised deposits."}, False),
    ('query = "deposit -ensemble"', {}, False),
    ('query = "deposit -remittance"', {}, True),
    # As in search, a leading "-" excludes one word: "-\"project" is -project, then ensemble.
    ("query = 'deposit -\"project ensemble\"'", {}, False),
    ('query = "hong-kong"', {"text": "In Hong Kong today."}, True),
    ('query = "café"', {"text": "A cafe in Central."}, True),
    # languages by prefix, on whole subtags
    ('languages = ["zh"]', {"language": "zh-hant"}, True),
    ('languages = ["zh"]', {"language": "zh-HK"}, True),
    ('languages = ["zh"]', {"language": "zh"}, True),
    ('languages = ["zh"]', {"language": "en"}, False),
    ('languages = ["zh"]', {"language": "zha"}, False),
    ('languages = ["zh"]', {"language": None}, False),
    ('languages = ["zh-hk"]', {"language": "zh-hant"}, False),
    ('languages = ["zh-Hant"]', {"language": "zh-hant-hk"}, True),
    ('languages = ["en", "zh"]', {"language": "en"}, True),
    # any / all, nested, together with the rule's own conditions
    (
        'any = [{ sources = ["hkma-press"] }, { keywords = ["SFC"] }]',
        {"text": "The SFC said."},
        True,
    ),
    (
        'any = [{ sources = ["hkma-press"] }, { keywords = ["SFC"] }]',
        {"source_id": "hkma-press"},
        True,
    ),
    ('any = [{ sources = ["hkma-press"] }, { keywords = ["SFC"] }]', {}, False),
    (
        'all = [{ entities = ["hkma"] }, { topics = ["stablecoins"] }]',
        {"tags": (HKMA, STABLECOINS)},
        True,
    ),
    ('all = [{ entities = ["hkma"] }, { topics = ["stablecoins"] }]', {"tags": (HKMA,)}, False),
    (
        'languages = ["en"]\n'
        'any = [{ all = [{ entities = ["SFC"] }, { keywords = ["licence"] }] }, '
        '{ query = "stablecoin issuer" }]',
        {"tags": (SFC,), "text": "The SFC granted a licence."},
        True,
    ),
    (
        'languages = ["en"]\n'
        'any = [{ all = [{ entities = ["SFC"] }, { keywords = ["licence"] }] }, '
        '{ query = "stablecoin issuer" }]',
        {"tags": (SFC,), "text": "The SFC granted a licence.", "language": "zh-hk"},
        False,
    ),
    (
        'languages = ["en"]\n'
        'any = [{ all = [{ entities = ["SFC"] }, { keywords = ["licence"] }] }, '
        '{ query = "stablecoin issuer" }]',
        {"tags": (SFC,), "text": "The SFC warned of a fraud."},
        False,
    ),
    (
        'languages = ["en"]\n'
        'any = [{ all = [{ entities = ["SFC"] }, { keywords = ["licence"] }] }, '
        '{ query = "stablecoin issuer" }]',
        {"text": "The first stablecoin issuers."},
        True,
    ),
    (
        '[[rule.any]]\nregulator = true\n[[rule.any]]\ntopics = ["Virtual assets"]\n',
        {"tags": (VIRTUAL_ASSETS,)},
        True,
    ),
    # a rule with no condition matches every article
    ("", {}, True),
]


@pytest.mark.parametrize(("body", "given", "expected"), ROWS)
def test_rule_table(tmp_path: Path, body: str, given: dict[str, Any], expected: bool) -> None:
    rule = load_rule(tmp_path, body)
    assert rule_matches(rule, subject(**given)) is expected
    assert matching_rules([rule], subject(**given)) == ([rule] if expected else [])


def test_subject_of_a_tagged_article_and_tagged_articles_accepted_as_they_are() -> None:
    article = Article(
        url="https://www.hkma.gov.hk/x",
        title="HKMA grants stablecoin licences",
        text="The Monetary Authority granted two licences.",
        source_id="hkma-press",
        doc_type="press_release",
        regulator=True,
        lang="en",
    )
    tag = Tag(id="hkma", name="Hong Kong Monetary Authority", kind="entity", type="r", count=1)
    tagged = TaggedArticle(article=article, tags=(tag,), content_hash="h")
    made = MatchSubject.from_tagged(tagged)
    assert (made.regulator, made.source_id, made.doc_type, made.language) == (
        True,
        "hkma-press",
        "press_release",
        "en",
    )
    assert made.tag_keys["entity"] == {"hkma", "hong kong monetary authority"}
    assert made.tag_keys["topic"] == frozenset()
    rules = [
        AlertRule(id="a", channels=("c",), entities=("HKMA",), query='"monetary authority"'),
        AlertRule(id="b", channels=("c",), entities=("hkma",), keywords=("licences",)),
        AlertRule(id="c", channels=("c",), entities=("sfc",)),
    ]
    assert [r.id for r in matching_rules(rules, made)] == ["a", "b"]
    assert matching_rules(rules, tagged) == matching_rules(rules, made)


def test_shipped_rules_match_what_they_promise() -> None:
    sources, taxonomy = shipped_names()
    rules = load_alerts(REPO / "alerts.toml", sources=sources, taxonomy=taxonomy).rules

    def matched(**given: Any) -> list[str]:
        return [rule.id for rule in matching_rules(rules, subject(**given))]

    hkma_release = {"regulator": True, "source_id": "hkma-rss-circulars", "doc_type": "circular"}
    assert matched(**hkma_release) == ["hkma-new-item"]
    assert matched(regulator=True, source_id="hkma-press-tc", language="zh-hant") == [
        "hkma-new-item"
    ]
    sfc = {"regulator": True, "source_id": "sfc-news"}
    assert matched(**sfc, doc_type="press_release") == ["sfc-new-item"]
    assert matched(**sfc, doc_type="enforcement") == ["sfc-new-item", "sfc-enforcement"]
    assert matched(tags=(SFC, TOKENISATION)) == ["hkma-sfc-digital-assets"]
    assert matched(tags=(HKMA, VIRTUAL_ASSETS)) == ["hkma-sfc-digital-assets"]
    assert matched(tags=(HKMA,)) == []
    assert matched(tags=(ANT, STABLECOINS)) == []
    assert matched(**hkma_release, tags=(HKMA, STABLECOINS)) == [
        "hkma-new-item",
        "hkma-sfc-digital-assets",
    ]


DOCUMENTS = [
    ("HKMA grants first stablecoin issuer licences", "The Monetary Authority granted two."),
    ("Banks pilot deposit tokens", "Tokenised deposits were tested with the HKMA in Ensemble."),
    ("Payments roundup", "Wallets, QR codes and cross-border remittance; a café's e-HKD trial."),
    ("香港穩定幣發行人", "金管局今日公布，穩定幣 發行人 牌照。Große Änderungen für Ἀθῆναι."),
    ("Relational databases", "Generalization, organizations and the happiest hoppers hopped."),
]
QUERIES = [
    "stablecoin",
    "Stablecoins issuers",
    "licence",
    '"monetary authority"',
    '"authority monetary"',
    "hkma -ensemble",
    "hkma OR remittance",
    "remittance OR wallets -cafe",
    "cafe",
    "e-HKD",
    '"deposit tokens" OR "tokenised deposits"',
    "穩定幣",
    "香港穩定幣發行人",
    "grosse",
    "große",
    "athens",
    "ἀθῆναι",
    "relate organize generalize",
    "happy hop",
    "tokens Tokenised",
    '"tokens Tokenised"',
]


@pytest.fixture(scope="module")
def search_index() -> Iterator[sqlite3.Connection]:
    """The documents in an FTS5 table built with the search index's own tokenizer."""
    found = re.search(r"tokenize='([^']+)'", MIGRATION.read_text(encoding="utf-8"))
    assert found is not None
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize='{found[1]}')")
    connection.executemany("INSERT INTO t(rowid, title, text) VALUES (?, ?, ?)", [
        (n, title, text) for n, (title, text) in enumerate(DOCUMENTS, 1)
    ])  # fmt: skip
    yield connection
    connection.close()


@pytest.mark.parametrize("query", QUERIES)
def test_a_query_matches_what_the_search_index_finds(
    search_index: sqlite3.Connection, query: str
) -> None:
    expression = fts5_query(query)
    assert expression is not None
    indexed = {
        rowid
        for (rowid,) in search_index.execute("SELECT rowid FROM t WHERE t MATCH ?", [expression])
    }
    compiled = CompiledQuery.of(parse_query(query))
    in_memory = {
        n
        for n, (title, text) in enumerate(DOCUMENTS, 1)
        if compiled.matches(IndexedText(title, text))
    }
    assert in_memory == indexed


def test_indexed_terms_are_the_search_index_terms(search_index: sqlite3.Connection) -> None:
    search_index.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    rows = search_index.execute("SELECT doc, col, term FROM v ORDER BY doc, col, offset")
    stored: dict[tuple[int, str], list[str]] = {}
    for doc, column, term in rows:
        stored.setdefault((doc, column), []).append(term)
    for n, (title, text) in enumerate(DOCUMENTS, 1):
        assert list(index_terms(title)) == stored[(n, "title")]
        assert list(index_terms(text)) == stored[(n, "text")]
    # The stems the query tests rely on.
    assert index_terms("issuers Stablecoins generalization happiest") == (
        "issuer",
        "stablecoin",
        "gener",
        "happiest",
    )


def test_matching_keeps_up_with_ingestion(tmp_path: Path) -> None:
    """Twenty rules of keywords and queries over 300 articles of 800 words: well under the
    time it takes to fetch and tag them (about 50 ms an article)."""
    vocabulary = (REPO / "README.md").read_text(encoding="utf-8").split()
    texts = [" ".join(vocabulary[n : n + 800]) for n in range(0, 300 * 40, 40)]
    rules = "".join(
        f'[[rule]]\nid = "k{n}"\nchannels = ["desk"]\n'
        f'keywords = ["stablecoin", "virtual asset", "穩定幣", "licence{n}"]\n'
        f'[[rule]]\nid = "q{n}"\nchannels = ["desk"]\n'
        f"query = '\"monetary authority\" OR hkma -ensemble{n} issuer'\n"
        for n in range(10)
    )
    path = tmp_path / "alerts.toml"
    path.write_text(rules + CHANNELS, encoding="utf-8")
    loaded = load_alerts(path).rules
    subjects = [subject(title=text[:80], text=text) for text in texts]
    started = time.perf_counter()
    matched = sum(len(matching_rules(loaded, s)) for s in subjects)
    per_article = (time.perf_counter() - started) / len(subjects)
    assert matched > 0
    assert per_article < 0.010, f"{per_article * 1000:.1f} ms an article"


def test_matching_imports_no_database_flow_or_apprise() -> None:
    script = (
        "import sys\n"
        "from pipeline.alerts.rules import MatchSubject, matching_rules\n"
        "from pipeline.alerts.config import AlertRule\n"
        "rule = AlertRule(id='r', channels=('c',), query='hkma', keywords=('HKMA',))\n"
        "s = MatchSubject.of(regulator=True, source_id='x', doc_type='news', language='en',"
        " title='HKMA', text='', tags=())\n"
        "assert matching_rules([rule], s) == [rule]\n"
        "print(sorted(m for m in ('sqlalchemy', 'prefect', 'apprise') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
