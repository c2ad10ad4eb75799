"""Which stored stories a rule would have alerted on: for tuning a rule before it is switched
on. Reads only; nothing is queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.alerts.config import AlertRule
from pipeline.alerts.rules import MatchSubject, rule_matches
from pipeline.store import alert_reads

# Articles a preview reads at most: a year of every source, far past what a rule is tuned on.
MAX_PREVIEW_ARTICLES = 50_000


@dataclass(frozen=True)
class PreviewHit:
    """A story the rule would have alerted on, with the first article that matched."""

    story_id: int | None
    article: alert_reads.StoredArticle
    matched_articles: int


def preview_rule(engine: Engine, rule: AlertRule, *, since: datetime) -> list[PreviewHit]:
    """The stories whose articles since ``since`` match ``rule``, first matched first."""
    with Session(engine) as session:
        articles = alert_reads.articles_seen_since(session, since, MAX_PREVIEW_ARTICLES)
    hits: dict[int | None, list[alert_reads.StoredArticle]] = {}
    for article in articles:
        subject = MatchSubject.of(
            regulator=article.regulator,
            source_id=article.source_id,
            doc_type=article.doc_type,
            language=article.lang,
            title=article.title,
            text=article.text,
            tags=article.tags,
        )
        if rule_matches(rule, subject):
            # Articles with no story yet (a store not regrouped) stand alone.
            story = article.story_id if article.story_id is not None else -article.article_id
            hits.setdefault(story, []).append(article)
    return [
        PreviewHit(
            story_id=found[0].story_id,
            article=found[0],
            matched_articles=len(found),
        )
        for found in hits.values()
    ]
