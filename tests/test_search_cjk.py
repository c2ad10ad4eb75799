"""Search for Chinese terms on SQLite (trigram FTS5 and LIKE) and Postgres (ILIKE, pg_trgm):
terms of any length, mixed with English, OR, -exclusion, quotes, odd input, index upkeep."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from pipeline.models import Article, Source, TaggedArticle
from pipeline.store import db, repo, schema
from pipeline.store.reader import SessionReader
from pipeline.store.search import (
    count_articles,
    matching_ids_sql,
    search_articles,
    select_matching,
)
from pipeline.store.search_terms import has_cjk, like_pattern

SOURCES = [
    Source(id="hkma-press", name="HKMA", kind="hkma_api", urls=("https://h.example/",)),
    Source(id="hket", name="HKET", kind="rss", urls=("https://e.example/",)),
]

# key, source, title, text
CORPUS = [
    (
        "zh:licence",
        "hkma-press",
        "金管局發出首批穩定幣發行人牌照",
        "香港金融管理局（金管局）今日宣布向兩家機構發出穩定幣發行人牌照，並會持續監管。",
    ),
    (
        "zh:sfc",
        "hket",
        "證監會加強虛擬資產監管",
        "證監會表示，將加強對虛擬資產交易平台的規管，並與金管局合作。",
    ),
    (
        "zh:week",
        "hket",
        "金融科技周開幕",
        "金融科技周今日開幕，吸引逾三萬人參加，多間銀行展示代幣化存款。",
    ),
    (
        "mixed:consult",
        "hket",
        "HKMA consults on stablecoin rules",
        "The HKMA said the 穩定幣 regime would start in August. 業界歡迎。",
    ),
    (
        "mixed:hkma-only",
        "hkma-press",
        "HKMA publishes annual report",
        "The HKMA published its annual report; 金管局 officials answered questions.",
    ),
    (
        "en:tokens",
        "hket",
        "Banks pilot deposit tokens",
        "Tokenised deposits were tested by three banks in Project Ensemble.",
    ),
]


def tagged(source: str, title: str, body: str) -> TaggedArticle:
    url = f"https://{source}.example/{abs(hash(title))}"
    article = Article(url=url, title=title, text=body, canonical_url=url, source_id=source)
    return TaggedArticle(article=article, tags=(), content_hash=title, taxonomy_version="v1")


def store(engine: Engine, corpus: list[tuple[str, str, str, str]]) -> dict[str, int]:
    """Store ``corpus``; the id of each key."""
    ids: dict[str, int] = {}
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, SOURCES)
        for key, source, title, body in corpus:
            ids[key], _ = repo.insert_article(session, tagged(source, title, body), item_key=key)
    return ids


@pytest.fixture(scope="module")
def corpus(module_migrated_db_url: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The corpus stored once per dialect."""
    engine = db.make_engine(module_migrated_db_url)
    yield engine, store(engine, CORPUS)
    engine.dispose()


def found(engine: Engine, ids: dict[str, int], query: str) -> set[str]:
    by_id = {v: k for k, v in ids.items()}
    with Session(engine) as session:
        return {by_id[hit.id] for hit in search_articles(session, query, limit=100)}


def holding(*wanted: str, without: tuple[str, ...] = ()) -> set[str]:
    """Keys of the corpus whose title and text hold every one of ``wanted`` and none of
    ``without``, as substrings."""

    def has(row: tuple[str, str, str, str], term: str) -> bool:
        return term.lower() in f"{row[2]} {row[3]}".lower()

    return {
        row[0]
        for row in CORPUS
        if all(has(row, t) for t in wanted) and not any(has(row, t) for t in without)
    }


@pytest.mark.parametrize(
    "term", ["金", "幣", "監管", "牌照", "穩定幣", "金管局", "證監會", "虛擬資產", "金融科技周"]
)
def test_a_chinese_term_of_any_length_is_found_wherever_it_stands(
    corpus: tuple[Engine, dict[str, int]], term: str
) -> None:
    engine, ids = corpus
    expected = holding(term)
    assert expected  # every term stands somewhere in the corpus
    assert found(engine, ids, term) == expected


def test_the_reported_terms_are_found_in_running_text(
    corpus: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = corpus
    # Inside a clause, with no space either side: the word index never saw these as words.
    assert found(engine, ids, "金管局") == {"zh:licence", "zh:sfc", "mixed:hkma-only"}
    assert found(engine, ids, "穩定幣") == {"zh:licence", "mixed:consult"}
    assert found(engine, ids, "監管") == {"zh:licence", "zh:sfc"}


def test_a_mixed_query_matches_each_term_by_its_own_method(
    corpus: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = corpus
    assert found(engine, ids, "HKMA 穩定幣") == {"mixed:consult"}
    # English keeps its stemming: "stablecoins" finds "stablecoin".
    assert found(engine, ids, "stablecoins 穩定幣") == {"mixed:consult"}
    assert found(engine, ids, "HKMA 金管局") == {"mixed:hkma-only"}


def test_or_between_chinese_and_english_terms(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    assert found(engine, ids, "穩定幣 OR 監管") == holding("穩定幣") | holding("監管")
    assert found(engine, ids, "tokens OR 科技") == {"en:tokens", "zh:week"}
    assert found(engine, ids, "金 (幣 OR annual)") == {"zh:licence", "zh:week", "mixed:hkma-only"}


def test_excluded_chinese_terms_leave_their_articles_out(
    corpus: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = corpus
    assert found(engine, ids, "金管局 -穩定幣") == holding("金管局", without=("穩定幣",))
    assert found(engine, ids, "金 -金管局") == {"zh:week"}
    assert found(engine, ids, "監管 -證監") == {"zh:licence"}
    # An English term excluded from a Chinese query, and the other way round.
    assert found(engine, ids, "金管局 -HKMA") == {"zh:licence", "zh:sfc"}
    assert found(engine, ids, "HKMA -金管局") == {"mixed:consult"}


def test_a_quoted_chinese_phrase_is_a_substring(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    assert found(engine, ids, '"發行人牌照"') == {"zh:licence"}
    assert found(engine, ids, '"金管局合作"') == {"zh:sfc"}
    assert found(engine, ids, '"金管局 合作"') == set()


def test_title_matches_rank_first(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        hits = search_articles(session, "金管局", limit=10)
    assert hits[0].id == ids["zh:licence"]
    assert "金管局" in hits[0].snippet


@pytest.mark.parametrize(
    "query",
    ['"', "*", "金", "-金", "OR 金", "金 OR", '"金', "金_", "金%", "%", "_", "金 -", "-HKMA 金"],
)
def test_odd_input_never_raises(corpus: tuple[Engine, dict[str, int]], query: str) -> None:
    engine, _ = corpus
    with Session(engine) as session:
        hits = search_articles(session, query, limit=100)
        assert count_articles(session, query) == len(hits)


def test_like_wildcards_are_taken_literally(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    assert like_pattern("金_%\\") == "%金\\_\\%\\\\%"
    assert found(engine, ids, "金_") == set()


def test_the_matching_ids_read_chinese_as_search_does(
    corpus: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        reader = SessionReader(session)
        for query in ("監管", "HKMA 穩定幣", "金管局 -穩定幣", "tokens"):
            selection = select_matching(reader, query)
            assert selection is not None
            matched = reader.rows(matching_ids_sql(selection), selection.params)
            assert {row["id"] for row in matched} == {ids[k] for k in found(engine, ids, query)}


def test_has_cjk() -> None:
    assert has_cjk("金管局") and has_cjk("HKMA金") and has_cjk("ステーブル") and has_cjk("한국")
    assert not has_cjk("HKMA") and not has_cjk("café")


def test_only_rows_with_chinese_characters_are_in_the_substring_index(
    corpus: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ = corpus
    with Session(engine) as session:
        rows = session.execute(
            select(schema.Article.id, schema.Article.title, schema.Article.text)
        ).all()
        marked = set(session.scalars(select(schema.Article.id).where(schema.Article.has_cjk)))
        if engine.dialect.name == "sqlite":
            # The trigram table's own record of the rows it indexed.
            indexed = set(session.scalars(text("SELECT id FROM articles_fts_trigram_docsize")))
        else:
            indexed = marked
    chinese = {row.id for row in rows if has_cjk(row.title) or has_cjk(row.text)}
    assert marked == chinese == indexed
    assert 0 < len(chinese) < len(rows)


def test_the_index_follows_updates_and_deletes(migrated_db_url: str) -> None:
    engine = db.make_engine(migrated_db_url)
    try:
        ids = store(engine, CORPUS[:2])
        first = ids["zh:licence"]
        search: Callable[[str], set[str]] = lambda q: found(engine, ids, q)  # noqa: E731
        with Session(engine) as session, session.begin():
            session.execute(
                update(schema.Article)
                .where(schema.Article.id == first)
                .values(text="數碼港元試驗進入第二階段。")
            )
        assert search("數碼港元") == {"zh:licence"}
        assert search("港元") == {"zh:licence"}
        # The title still holds 穩定幣; the text no longer holds 持續監管.
        assert search("穩定幣") == {"zh:licence"}
        assert search("持續監管") == set()
        with Session(engine) as session, session.begin():
            session.execute(delete(schema.Article).where(schema.Article.id == first))
        assert search("數碼港元") == set()
        assert search("監管") == {"zh:sfc"}
    finally:
        engine.dispose()


def test_articles_stored_before_the_migration_are_found(db_url: str) -> None:
    # Rows stored, then the schema taken back to before Chinese search: what an older
    # database holds when it is upgraded.
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        ids = store(engine, CORPUS)
        engine.dispose()
        command.downgrade(db.alembic_config(db_url), "0007")
        db.upgrade(db_url)
        assert found(engine, ids, "穩定幣") == holding("穩定幣")
        assert found(engine, ids, "虛擬資產") == holding("虛擬資產")
        # Migration 0012 marks the rows with Chinese characters as the store would.
        with Session(engine) as session:
            flags = session.execute(select(schema.Article.id, schema.Article.has_cjk))
            marked = {article_id: bool(flag) for article_id, flag in flags}
            rows = session.execute(
                select(schema.Article.id, schema.Article.title, schema.Article.text)
            )
            expected = {row.id: has_cjk(row.title) or has_cjk(row.text) for row in rows}
        assert marked == expected and any(expected.values()) and not all(expected.values())
    finally:
        engine.dispose()
