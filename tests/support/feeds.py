"""Answers a test's local site gives as a news source: an RSS feed listing links, an article
page of generated prose, and a page where a feed should be (a source that fails at once); and
runs over such sources."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from pipeline.ingest import IngestOptions, RunOutcome, run_once
from support import REPO, prose
from support.local_site import Answer

# A page where a feed should be: the source fails at once, with no retry to wait for.
NOT_A_FEED = Answer(b"<html><body>maintenance</body></html>")


def feed(links: list[str]) -> Answer:
    """An RSS feed with one item per link, titled by its link."""
    items = "".join(f"<item><title>{link}</title><link>{link}</link></item>" for link in links)
    return Answer(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
        "</channel></rss>".encode(),
        content_type="application/rss+xml",
    )


def page(seed: str) -> Answer:
    """An article page titled ``seed``, with four sentences of prose drawn from it."""
    body = "".join(f"<p>{sentence}</p>" for sentence in prose.sentences(seed, 4))
    return Answer(f"<html><head><title>{seed}</title></head><body>{body}</body></html>".encode())


def runner(db_url: str, sources: Path, directory: Path) -> Callable[..., RunOutcome]:
    """Runs of ``sources`` into ``db_url`` with no alert rule (an alerts file in
    ``directory``); called with source ids, a run of those alone, as ``--source`` does."""
    alerts = directory / "alerts.toml"
    alerts.write_text("", encoding="utf-8")

    def run_it(*named: str) -> RunOutcome:
        options = IngestOptions(
            db_url=db_url,
            sources_path=sources,
            taxonomy_path=REPO / "taxonomy.toml",
            alerts_path=alerts,
            source_ids=list(named),
        )
        return asyncio.run(run_once(options))

    return run_it
