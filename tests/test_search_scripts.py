"""A Chinese term finds its text in either script: Simplified queries find Traditional articles
and the other way round, on SQLite and Postgres, in search, counts and exclusions alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.models import Article, Source, TaggedArticle
from pipeline.querytext import parse_query
from pipeline.store import db, repo
from pipeline.store.chinese_script import script_variants, with_script_variants
from pipeline.store.search import count_articles, search_articles

SOURCE = Source(id="news", name="News", kind="rss", urls=("https://n.example/",))

# key, title, text
CORPUS = [
    ("traditional", "金管局發出穩定幣發行人牌照", "金融管理局宣布發出穩定幣牌照，並會持續監管。"),
    ("simplified", "香港发出首批稳定币牌照", "金融管理局宣布发出稳定币牌照，并会持续监管。"),
    ("hk-form", "市場消息", "該行在這裏公布新措施，涉及虛擬資產交易平台。"),
    ("english", "HKMA issues stablecoin licences", "The HKMA issued its first licences."),
]


def _tagged(key: str, title: str, body: str) -> TaggedArticle:
    url = f"https://n.example/{key}"
    article = Article(url=url, title=title, text=body, canonical_url=url, source_id="news")
    return TaggedArticle(article=article, tags=(), content_hash=key, taxonomy_version="v1")


@pytest.fixture(scope="module")
def stored(module_migrated_db_url: str) -> Iterator[tuple[Engine, dict[int, str]]]:
    """The corpus stored once per dialect; each id's key."""
    engine = db.make_engine(module_migrated_db_url)
    keys: dict[int, str] = {}
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, [SOURCE])
        for key, title, body in CORPUS:
            article_id, _ = repo.insert_article(session, _tagged(key, title, body), item_key=key)
            keys[article_id] = key
    yield engine, keys
    engine.dispose()


def _found(stored: tuple[Engine, dict[int, str]], query: str) -> list[str]:
    engine, keys = stored
    with Session(engine) as session:
        return [keys[hit.id] for hit in search_articles(session, query, limit=50)]


@pytest.mark.parametrize("query", ["稳定币", "穩定幣", "监管", "監管"])
def test_a_term_finds_both_scripts(stored: tuple[Engine, dict[int, str]], query: str) -> None:
    assert sorted(_found(stored, query)) == ["simplified", "traditional"]


def test_hong_kong_forms_are_found_from_either_script(
    stored: tuple[Engine, dict[int, str]],
) -> None:
    # 裏 is Hong Kong's form of 裡 (Simplified 里); 虛擬資產 is 虚拟资产 in Simplified.
    assert _found(stored, "这里") == ["hk-form"]
    assert _found(stored, "虚拟资产") == ["hk-form"]


def test_the_title_in_the_other_script_still_ranks_first(
    stored: tuple[Engine, dict[int, str]],
) -> None:
    # Both titles hold the term, in their own script; an article holding it only in its text
    # would come after them.
    assert set(_found(stored, "稳定币")[:2]) == {"simplified", "traditional"}
    assert _found(stored, "发行人") == ["traditional"]


def test_exclusion_leaves_out_both_scripts(stored: tuple[Engine, dict[int, str]]) -> None:
    assert sorted(_found(stored, "金融管理局 -稳定币")) == []
    assert _found(stored, "牌照 -发行人") == ["simplified"]


def test_counts_agree_with_the_hits(stored: tuple[Engine, dict[int, str]]) -> None:
    engine, _ = stored
    with Session(engine) as session:
        assert count_articles(session, "稳定币") == 2
        assert count_articles(session, "stablecoin 稳定币") == 0


def test_english_and_mixed_queries_are_unchanged(stored: tuple[Engine, dict[int, str]]) -> None:
    assert _found(stored, "stablecoin") == ["english"]
    assert _found(stored, "HKMA") == ["english"]


def test_variants_of_a_term() -> None:
    assert script_variants("稳定币") == ("稳定币", "穩定幣")
    assert script_variants("金管局") == ("金管局",)  # the same in every script
    assert script_variants("stable*") == ("stable*",)
    assert "這裏" in script_variants("这里")


def test_a_parsed_query_gains_alternatives_not_groups() -> None:
    parsed = with_script_variants(parse_query('稳定币 OR stablecoin "virtual asset" -监管'))
    assert parsed.groups == (("稳定币", "穩定幣", "stablecoin"), ("virtual asset",))
    assert parsed.excluded == ("监管", "監管")


def test_the_command_highlights_the_term_in_each_script() -> None:
    from pipeline.cli.query import parse_words

    assert parse_words("稳定币 HKMA") == ["稳定币", "穩定幣", "HKMA"]
