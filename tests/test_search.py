"""Search on SQLite (FTS5) and Postgres (tsvector): text, tags, source, dates, duplicates, speed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.orm import Session
from support.store import count_articles

from pipeline.errors import QueryError
from pipeline.models import Article, Source, Tag, TaggedArticle
from pipeline.store import db, repo, schema
from pipeline.store.search import fts5_query, make_snippet, parse_query, search_articles

SOURCES = [
    Source(id="hkma-press", name="HKMA", kind="hkma_api", urls=("https://h.example/",)),
    Source(id="fintechnews-hk", name="Fintech News", kind="rss", urls=("https://f.example/",)),
]
ANT = Tag(
    id="ant-group",
    name="Ant Group",
    kind="entity",
    type="company",
    count=2,
    evidence=("Chairman of Ant Group",),
)
HKMA = Tag(id="hkma", name="HKMA", kind="entity", type="regulator", count=1)
STABLECOINS = Tag(id="stablecoins", name="Stablecoins", kind="topic", type="topic", count=3)
TOKENISATION = Tag(id="tokenisation", name="Tokenisation", kind="topic", type="topic", count=1)

FILLER = "Officials met industry representatives in Central to discuss the year ahead. "


def day(n: int) -> datetime:
    return datetime(2025, 11, n, 2, 0, tzinfo=UTC)


# key, source, title, text, published, tags
CORPUS = [
    (
        "hkma-press:1",
        "hkma-press",
        "HKMA grants first stablecoin issuer licences",
        "The Hong Kong Monetary Authority granted licences to two stablecoin issuers. " + FILLER,
        day(3),
        (HKMA, STABLECOINS),
    ),
    (
        "url:https://f.example/ant",
        "fintechnews-hk",
        "Ant Group doubles down on Hong Kong",
        "Eric Jing, Chairman of Ant Group, reaffirmed the company's commitment. " + FILLER,
        day(4),
        (ANT,),
    ),
    (
        "url:https://f.example/tokens",
        "fintechnews-hk",
        "Banks pilot deposit tokens",
        "Tokenised deposits were tested by three banks with the HKMA in Project Ensemble. "
        + FILLER,
        day(1),
        (HKMA, TOKENISATION),
    ),
    (
        "url:https://f.example/undated",
        "fintechnews-hk",
        "Payments roundup",
        "A weekly roundup of payments news: wallets, QR codes and cross-border remittance. "
        + FILLER,
        None,
        (),
    ),
]
DUPLICATE_KEY = "url:https://f.example/copy"


def tagged(source: str, title: str, body: str, published: datetime | None, tags: tuple[Tag, ...]):
    article = Article(
        url=f"https://{source}.example/{abs(hash(title))}",
        title=title,
        text=body,
        published_at=published,
        canonical_url=f"https://{source}.example/{abs(hash(title))}",
        source_id=source,
    )
    return TaggedArticle(article=article, tags=tags, content_hash=title, taxonomy_version="v1")


@pytest.fixture(scope="module")
def corpus(module_migrated_db_url: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The corpus stored once per dialect, plus a syndicated copy of the HKMA release."""
    engine = db.make_engine(module_migrated_db_url)
    ids: dict[str, int] = {}
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, SOURCES)
        for key, source, title, body, published, tags in CORPUS:
            ids[key], _ = repo.insert_article(
                session, tagged(source, title, body, published, tags), item_key=key
            )
        copy = tagged("fintechnews-hk", CORPUS[0][2], CORPUS[0][3], day(3), (STABLECOINS,))
        ids[DUPLICATE_KEY], _ = repo.insert_article(
            session, copy, item_key=DUPLICATE_KEY, duplicate_of_key="hkma-press:1"
        )
    yield engine, ids
    engine.dispose()


def keys(hits: list, ids: dict[str, int]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[hit.id] for hit in hits]


def test_query_finds_words_in_text_and_title(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        # "remittance" only in a body, "doubles" only in a title.
        assert keys(search_articles(session, "remittance"), ids) == [
            "url:https://f.example/undated"
        ]
        assert keys(search_articles(session, "doubles"), ids) == ["url:https://f.example/ant"]
        # Stemming: the plural finds the singular and the other way round.
        assert keys(search_articles(session, "issuer"), ids) == ["hkma-press:1"]
        assert keys(search_articles(session, "Stablecoins"), ids) == ["hkma-press:1"]
        assert search_articles(session, "nonexistentword") == []


def test_query_operators(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        both = keys(search_articles(session, "HKMA tokenised"), ids)
        assert both == ["url:https://f.example/tokens"]
        either = set(keys(search_articles(session, "remittance OR doubles"), ids))
        assert either == {"url:https://f.example/undated", "url:https://f.example/ant"}
        phrase = keys(search_articles(session, '"Monetary Authority"'), ids)
        assert phrase == ["hkma-press:1"]
        assert search_articles(session, '"Authority Monetary"') == []
        without = set(keys(search_articles(session, "HKMA -tokenised"), ids))
        assert without == {"hkma-press:1"}


@pytest.mark.parametrize(
    "hostile",
    [
        '"AND OR (',
        "AND",
        "OR OR",
        "NEAR(a b",
        "title:stablecoin",
        "stable*",
        "^hkma",
        "'; DROP TABLE articles; --",
        '"""',
        "((((",
        "-",
        "a - b",
        "hkma AND NOT",
        "\\",
        "  ",
    ],
)
def test_any_user_string_is_safe(corpus: tuple[Engine, dict[str, int]], hostile: str) -> None:
    engine, _ = corpus
    with Session(engine) as session:
        hits = search_articles(session, hostile)
        assert isinstance(hits, list)
        assert count_articles(session) == len(CORPUS) + 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("stablecoin " * 10_000, "search query is 110,000 characters long; at most 500 are read"),
        (" ".join(f"w{n}" for n in range(40)), "search query has 40 terms; at most 32 are read"),
        (
            " OR ".join(f"w{n}" for n in range(20)) + " -x -y -z -a -b -c -d -e -f -g -h -i -j",
            "search query has 33 terms; at most 32 are read",
        ),
    ],
)
def test_a_query_past_its_limits_is_refused_before_it_runs(
    corpus: tuple[Engine, dict[str, int]], query: str, message: str
) -> None:
    engine, _ = corpus
    with Session(engine) as session, pytest.raises(QueryError) as caught:
        search_articles(session, query)
    assert str(caught.value) == message


def test_the_cli_says_a_query_is_too_long_in_one_line(module_migrated_db_url: str) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["search", "x" * 600, "--db", module_migrated_db_url])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: search query is 600 characters long; at most 500 are read"
    )


def test_operator_words_inside_text_are_searched_as_words(
    corpus: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        hits = keys(search_articles(session, "stablecoin NEAR(licences"), ids)
    # SQLite searches "near" as a word too, Postgres keeps it: either way no error and no match
    # outside the HKMA release.
    assert set(hits) <= {"hkma-press:1"}


def test_results_rank_best_first(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = corpus
    with Session(engine) as session:
        hits = search_articles(session, "HKMA")
    assert len(hits) == 2
    assert all(hit.rank > 0 for hit in hits)
    assert [hit.rank for hit in hits] == sorted((hit.rank for hit in hits), reverse=True)


def test_entity_and_topic_match_id_or_name(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        for value in ("Ant Group", "ant group", "ant-group", "ANT-GROUP"):
            assert keys(search_articles(session, entity=value), ids) == [
                "url:https://f.example/ant"
            ]
        assert search_articles(session, entity="Ant") == []
        assert keys(search_articles(session, topic="tokenisation"), ids) == [
            "url:https://f.example/tokens"
        ]
        # A topic is not an entity.
        assert search_articles(session, entity="Stablecoins") == []
        newest_first = keys(search_articles(session, entity="hkma"), ids)
        assert newest_first == ["hkma-press:1", "url:https://f.example/tokens"]
        assert keys(
            search_articles(session, "tokenised", entity="HKMA", topic="Tokenisation"), ids
        ) == ["url:https://f.example/tokens"]


def test_source_and_date_filters(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        assert keys(search_articles(session, source="hkma-press"), ids) == ["hkma-press:1"]
        assert search_articles(session, source="nowhere") == []
        window = keys(search_articles(session, since=day(2), until=day(4)), ids)
        assert window == ["hkma-press:1"]
        # 09:00 in Hong Kong is 01:00 UTC: the Ant article (02:00 UTC) is after it.
        hong_kong_morning = datetime(2025, 11, 4, 9, 0, tzinfo=ZoneInfo("Asia/Hong_Kong"))
        assert keys(search_articles(session, since=hong_kong_morning), ids) == [
            "url:https://f.example/undated",
            "url:https://f.example/ant",
        ]
        assert keys(search_articles(session, until=hong_kong_morning, since=day(3)), ids) == [
            "hkma-press:1"
        ]
        # An undated article counts from when it was first seen (now): after every dated one.
        recent = keys(search_articles(session, since=day(5)), ids)
        assert recent == ["url:https://f.example/undated"]
        everything = keys(search_articles(session, limit=100), ids)
        assert everything == [
            "url:https://f.example/undated",
            "url:https://f.example/ant",
            "hkma-press:1",
            "url:https://f.example/tokens",
        ]
        assert len(search_articles(session, limit=2)) == 2


def test_duplicates_are_left_out_unless_asked(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = corpus
    with Session(engine) as session:
        default = keys(search_articles(session, "licences"), ids)
        assert default == ["hkma-press:1"]
        with_copies = set(keys(search_articles(session, "licences", include_duplicates=True), ids))
        assert with_copies == {"hkma-press:1", DUPLICATE_KEY}


def test_hits_carry_tags_snippet_and_fields(corpus: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = corpus
    with Session(engine) as session:
        [hit] = search_articles(session, "reaffirmed")
    assert hit.title == "Ant Group doubles down on Hong Kong"
    assert hit.source_id == "fintechnews-hk" and hit.published_at == day(4)
    assert hit.published_at is not None and hit.published_at.tzinfo is not None
    assert hit.tags == (("ant-group", "Ant Group", "entity", 2, ("Chairman of Ant Group",)),)
    assert "reaffirmed" in hit.snippet
    assert hit.text.startswith("Eric Jing") and hit.canonical_url == hit.url


def test_index_follows_updates_and_deletes(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, SOURCES)
        article_id, _ = repo.insert_article(
            session,
            tagged("hkma-press", "Original headline", "Body about quokkas.", day(1), ()),
            item_key="k",
        )
    with Session(engine) as session, session.begin():
        assert [h.id for h in search_articles(session, "quokkas")] == [article_id]
        session.execute(
            update(schema.Article)
            .where(schema.Article.id == article_id)
            .values(title="Corrected headline", text="Body about wombats.")
        )
        assert search_articles(session, "quokkas") == []
        assert [h.id for h in search_articles(session, "wombats corrected")] == [article_id]
        session.execute(delete(schema.Article).where(schema.Article.id == article_id))
        assert search_articles(session, "wombats") == []


def test_search_answers_in_milliseconds_on_thousands_of_rows(engine: Engine) -> None:
    rows = 3000
    words = ["stablecoin", "tokenisation", "payments", "custody", "insurance", "wealth"]
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        repo.sync_sources(session, SOURCES)
        repo.upsert_tags(session, [ANT, STABLECOINS])
        session.execute(
            insert(schema.Article),
            [
                {
                    "item_key": f"bench:{n}",
                    "source_id": SOURCES[n % 2].id,
                    "url": f"https://x.example/{n}",
                    "canonical_url": f"https://x.example/{n}",
                    "title": f"Item {n} on {words[n % len(words)]}",
                    "text": f"{FILLER * 10} Number {n} mentions {words[(n * 7) % len(words)]}.",
                    "doc_type": "news",
                    "regulator": False,
                    "published_at": now - timedelta(minutes=n),
                    "first_seen_at": now,
                    "content_hash": str(n),
                    "taxonomy_version": "v1",
                    "categories": [],
                    "entities": [],
                }
                for n in range(rows)
            ],
        )
    with Session(engine) as session, session.begin():
        ids = list(range(1, rows + 1, 3))
        session.execute(
            insert(schema.ArticleTag),
            [
                {
                    "article_id": article_id,
                    "tag_id": "stablecoins",
                    "count": 1,
                    "in_title": False,
                    "in_lead": False,
                    "evidence": ["stablecoin"],
                    "taxonomy_version": "v1",
                }
                for article_id in ids
            ],
        )
    queries = [
        {"query": "stablecoin"},
        {"query": "officials industry", "source": "hkma-press"},
        {"topic": "Stablecoins"},
        {"since": now - timedelta(days=1), "until": now - timedelta(hours=1)},
        {"query": "custody OR wealth", "topic": "stablecoins", "since": now - timedelta(days=2)},
    ]
    with Session(engine) as session:
        for kwargs in queries:
            search_articles(session, **kwargs)  # warm caches and statement compilation
            started = time.perf_counter()
            hits = search_articles(session, **kwargs)
            elapsed = time.perf_counter() - started
            assert len(hits) == 20, kwargs
            # Generous for a shared 2-core CI machine; measured at a few milliseconds.
            assert elapsed < 0.25, (kwargs, elapsed)


def test_query_translation() -> None:
    assert fts5_query("hkma stablecoin") == '("hkma") AND ("stablecoin")'
    assert fts5_query('"monetary authority" OR hkma -ensemble') == (
        '(("monetary authority" OR "hkma")) NOT ("ensemble")'
    )
    assert fts5_query("hong-kong") == '("hong kong")'
    assert fts5_query('"AND OR (') == '("AND OR")'
    assert fts5_query("((( -") is None
    assert parse_query("OR a").groups == (("a",),)
    assert make_snippet("x " * 200 + "needle here", ["needle"]).startswith("…")
    assert "needle" in make_snippet("x " * 200 + "needle here", ["NEEDLE"])
    assert make_snippet("short body", []) == "short body"
