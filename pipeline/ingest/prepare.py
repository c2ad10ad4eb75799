"""Stage 4a, prepare a batch without the database: build, tag and fingerprint its new items.

Each step runs over the whole batch before the next one starts (build every article, then tag
every article, then fingerprint every article), rather than taking one item through every step:
a step's code and tables then stay in the processor's caches, which made the three steps about
a fifth faster than item by item (bench/pipeline.py). A text longer than ``MAX_TEXT_CHARS`` is
cut, and the cut recorded; an item that cannot be built keeps its error. Nothing given changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.clean import clip_text
from pipeline.dedupe import content_hash
from pipeline.errors import NewswatchError
from pipeline.ingest.build import build_article
from pipeline.ingest.records import Action, Fetched, StageClock
from pipeline.models import Article, TaggedArticle
from pipeline.store import repo
from pipeline.stories.features import Fingerprint, article_fingerprint
from pipeline.tag import Tagger

# The longest text stored: about 40,000 words, far past any news article or regulator release,
# while a 5 MB page of one line stays 5 MB no more.
MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class Prepared:
    """A fetched item with its tagged article, ready to store (or why there is none)."""

    item: Fetched
    tagged: TaggedArticle | None = None
    error: str | None = None
    # The length of the text before it was cut to ``MAX_TEXT_CHARS``, when it was.
    clipped_from: int | None = None
    print: Fingerprint | None = None


@dataclass(frozen=True)
class _Built:
    """An item's article, built and cut to size, waiting for its tags."""

    index: int
    article: Article
    clipped_from: int | None


def prepare_batch(items: Sequence[Fetched], tagger: Tagger, clock: StageClock) -> list[Prepared]:
    """Each item with its tagged article and fingerprint, where it needs one (no database)."""
    prepared = [Prepared(item) for item in items]
    with clock.stage("extract"):
        built = [_build(index, item, prepared) for index, item in enumerate(items)]
    ready = [entry for entry in built if entry is not None]
    with clock.stage("tag"):
        tags = [tuple(tagger.tag_article(entry.article)) for entry in ready]
    # An undated article is placed in time by when it was first seen, as the store dates it.
    now = repo.utc_now()
    with clock.stage("fingerprint"):
        for entry, article_tags in zip(ready, tags, strict=True):
            article = entry.article
            # Hash and fingerprint one after the other: both read the text's folded form, which
            # is kept for the last few texts only.
            hashed = content_hash(article.text)
            tagged = TaggedArticle(article, article_tags, hashed, tagger.version)
            item = items[entry.index]
            print_ = article_fingerprint(
                article,
                key=item.planned.key,
                content_hash=hashed,
                tags=[tag.id for tag in article_tags],
            )
            prepared[entry.index] = Prepared(
                item, tagged, clipped_from=entry.clipped_from, print=repo.with_time(print_, now)
            )
    return prepared


def _build(index: int, item: Fetched, prepared: list[Prepared]) -> _Built | None:
    """The item's article cut to size, or None when it needs none or cannot be built (then its
    error is put in ``prepared``)."""
    action = item.planned.action
    if action in (Action.known, Action.claimed) or item.skipped or item.error:
        return None
    try:
        article = build_article(item)
    except NewswatchError as exc:
        prepared[index] = Prepared(item, error=str(exc))
        return None
    clipped_from = None
    if len(article.text) > MAX_TEXT_CHARS:
        clipped_from = len(article.text)
        article = dataclasses.replace(article, text=clip_text(article.text, MAX_TEXT_CHARS))
    return _Built(index, article, clipped_from)
