"""What one run spends on a source is bounded: a feed is read up to ``max_items``, a stored
text up to ``MAX_TEXT_CHARS``, each with a note on the run; a source whose items mostly fail
is not ``ok``. Real servers on 127.0.0.1, a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support import REPO, prose
from support.local_site import Answer, LocalSite

from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.ingest.prepare import MAX_TEXT_CHARS
from pipeline.sources.rss import trim_feed
from pipeline.store import db, repo, schema

PARAGRAPH = (
    "The Hong Kong Monetary Authority said on {n} that licensed stablecoin issuers must keep "
    "reserve assets of high quality and liquidity, segregated from their own funds."
)


def page(n: int, paragraphs: int = 3) -> Answer:
    # Prose of its own per item: items alike but for a number would be near-duplicates.
    own = prose.sentences(f"item {n}", paragraphs)
    body = "".join(
        f"<p>{PARAGRAPH.format(n=n)} {own[k]} Paragraph {k}.</p>" for k in range(paragraphs)
    )
    html = f"<html><head><title>Item {n}</title></head><body><article>{body}</article>"
    return Answer((html + "</body></html>").encode())


def feed(links: list[str]) -> Answer:
    items = "".join(f"<item><title>{link}</title><link>{link}</link></item>" for link in links)
    return Answer(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
        "</channel></rss>".encode(),
        content_type="application/rss+xml",
    )


Runner = Callable[[str], RunOutcome]


@pytest.fixture
def run_with(local_site: LocalSite, migrated_db_url: str, tmp_path: Path) -> Runner:
    """Run once over a feed source ``/feed.xml`` (with the given options) and a plain one."""
    local_site.set("/calm.xml", feed([f"{local_site.url}/calm.html"]))
    local_site.set("/calm.html", page(9_999))

    def run(options: str) -> RunOutcome:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nid = "big"\nname = "Big"\nkind = "rss"\n'
            f'urls = ["{local_site.url}/feed.xml"]\n[source.options]\n{options}\n'
            f'[[source]]\nid = "calm"\nname = "Calm"\nkind = "rss"\n'
            f'urls = ["{local_site.url}/calm.xml"]\n',
            encoding="utf-8",
        )
        options_ = IngestOptions(
            db_url=migrated_db_url,
            sources_path=sources,
            taxonomy_path=REPO / "taxonomy.toml",
            alerts_path=REPO / "alerts.toml",
        )
        return asyncio.run(run_once(options_))

    return run


def test_a_feed_is_read_up_to_max_items_with_a_note(
    local_site: LocalSite, run_with: Runner
) -> None:
    links = [f"{local_site.url}/a/{n}.html" for n in range(2_000)]
    for n in range(25):
        local_site.set(f"/a/{n}.html", page(n))
    local_site.set("/feed.xml", feed(links))
    outcome = run_with("max_items = 25")
    big = outcome.reports["big"]
    assert (big.found, big.new, big.errors) == (25, 25, 0)
    assert big.notes == [
        f"{local_site.url}/feed.xml listed 2,000 items; the first 25 were read"
        " (options.max_items)"
    ]
    # Only the first items were fetched, none past the limit.
    assert sorted(local_site.asked(prefix="/a/")) == sorted(f"/a/{n}.html" for n in range(25))
    assert outcome.reports["calm"].new == 1 and outcome.reports["calm"].status == "ok"
    assert outcome.status == "completed_with_errors"


def test_trim_feed_cuts_before_the_first_item_past_the_limit() -> None:
    body = feed([f"https://x.example/{n}" for n in range(10)]).body
    cut, listed = trim_feed(body, 4)
    assert listed == 10 and cut.count(b"<item>") == 4
    assert trim_feed(body, 10) == (body, None)
    atom = b"<feed><entry><id>1</id></entry><entry><id>2</id></entry></feed>"
    assert trim_feed(atom, 1)[0] == b"<feed><entry><id>1</id></entry>"


def test_a_long_text_is_cut_with_a_note(
    local_site: LocalSite, run_with: Runner, migrated_db_url: str
) -> None:
    # A 5 MB page: paragraphs of one article repeated far past any real article.
    local_site.set("/feed.xml", feed([f"{local_site.url}/long.html"]))
    local_site.set("/long.html", page(1, paragraphs=30_000))
    outcome = run_with("")
    big = outcome.reports["big"]
    assert big.new == 1
    [note] = big.notes
    assert note.startswith(f"1 text(s) cut to {MAX_TEXT_CHARS:,} characters: {local_site.url}")
    engine = db.make_engine(migrated_db_url)
    try:
        with Session(engine) as session:
            longest = session.scalar(select(func.max(func.length(schema.Article.text))))
            [record] = repo.latest_runs(session, limit=1)
    finally:
        engine.dispose()
    assert longest is not None and MAX_TEXT_CHARS * 0.9 <= longest <= MAX_TEXT_CHARS
    recorded = {source.source_id: source for source in record.sources}
    assert "cut to 200,000 characters" in (recorded["big"].error or "")


@pytest.mark.parametrize(
    ("working", "broken", "status"),
    [(4, 0, "ok"), (3, 1, "partial"), (1, 3, "failed")],
)
def test_a_source_whose_items_mostly_fail_is_not_ok(
    local_site: LocalSite, run_with: Runner, working: int, broken: int, status: str
) -> None:
    links = [f"{local_site.url}/w/{n}.html" for n in range(working)]
    links += [f"{local_site.url}/gone/{n}.html" for n in range(broken)]
    for n in range(working):
        local_site.set(f"/w/{n}.html", page(100 + n))
    local_site.set("/feed.xml", feed(links))
    outcome = run_with("")
    big = outcome.reports["big"]
    assert (big.new, big.errors, big.status) == (working, broken, status)
    assert outcome.as_dict()["sources"]["big"]["status"] == status
    assert outcome.reports["calm"].status == "ok"
