"""Exact deduplication: same item, same canonical URL, same text under another URL."""

from __future__ import annotations

import pytest

from pipeline.dedupe import (
    MIN_TEXT_FOR_HASH,
    Deduper,
    article_key,
    content_hash,
    item_key,
    normalise_for_hash,
)
from pipeline.models import Article

# An article of some length, with the curly quotes and line breaks real bodies have.
BODY = """The Hong Kong Monetary Authority (HKMA) today announced the second cohort of its
Generative Artificial Intelligence Sandbox, in which banks test AI models against the HKMA’s
risk-management expectations before they reach customers.

“The sandbox lets banks try new ideas safely,” said an HKMA spokesperson. Participants will
work with Cyberport on computing resources, and the results will inform supervisory guidance
on the use of AI in banking, including fraud detection and customer service."""


@pytest.fixture(scope="module")
def seed_text() -> str:
    """A text long enough to have a content hash."""
    assert len(normalise_for_hash(BODY)) >= MIN_TEXT_FOR_HASH
    return BODY


def article(url: str, text: str, *, source: str = "src", item_id: str | None = None) -> Article:
    return Article(
        url=url, title="t", text=text, canonical_url=url, source_id=source, item_id=item_id
    )


def test_hash_ignores_case_whitespace_and_punctuation(seed_text: str) -> None:
    reflowed = "  ".join(seed_text.upper().split()).replace("’", "'")
    assert content_hash(seed_text) == content_hash(reflowed)
    assert content_hash(seed_text) != content_hash(seed_text + " One more sentence.")


def test_short_bodies_get_no_hash() -> None:
    short = "word " * (MIN_TEXT_FOR_HASH // 10)
    assert len(normalise_for_hash(short)) < MIN_TEXT_FOR_HASH
    assert content_hash(short) == ""


def test_item_key_prefers_the_stable_id() -> None:
    assert item_key("hkma-press", "20251103-4", "https://x/") == "hkma-press:20251103-4"
    assert item_key("cointelegraph", None, "https://x/a") == "url:https://x/a"
    with pytest.raises(ValueError):
        item_key("src", None, None)


def test_verdicts_in_order(seed_text: str) -> None:
    deduper = Deduper()
    first = article("https://a.example/story", seed_text, item_id="1")
    assert deduper.check(first).kind == "new"
    deduper.add(first)

    again = article("https://a.example/story?page=2", seed_text + " x", item_id="1")
    verdict = deduper.check(again)
    assert (verdict.kind, verdict.of) == ("same_item", "https://a.example/story")

    same_url = article("https://a.example/story", "different text " * 30, source="other")
    assert deduper.check(same_url).kind == "duplicate"

    syndicated = article("https://b.example/copy", seed_text, source="other")
    verdict = deduper.check(syndicated)
    assert (verdict.kind, verdict.of) == ("duplicate", "https://a.example/story")
    assert verdict.of_key == article_key(first)

    unrelated = article("https://c.example/other", "unrelated words " * 30, source="other")
    assert deduper.check(unrelated).kind == "new"


def test_shared_namespace_makes_api_and_rss_one_item(seed_text: str) -> None:
    deduper = Deduper()
    api = article("https://www.hkma.gov.hk/eng/x/20251103-4/", seed_text, source="hkma-press")
    key = item_key("hkma-press", "20251103-4", api.canonical_url)
    deduper.add(api, key=key)
    rss = article("https://www.hkma.gov.hk/eng/x/20251103-4/", seed_text, source="hkma-rss-press")
    assert deduper.check(rss, key=item_key("hkma-press", "20251103-4", None)).kind == "same_item"
    assert len(deduper) == 1


def test_empty_texts_do_not_collide() -> None:
    deduper = Deduper()
    deduper.add(article("https://a.example/1", ""))
    assert deduper.check(article("https://a.example/2", "")).kind == "new"
