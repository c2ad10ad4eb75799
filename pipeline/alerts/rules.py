"""Which alert rules a tagged article satisfies."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.config import AlertRule
from pipeline.models import TaggedArticle


def _matches_any(wanted: tuple[str, ...], have: set[str]) -> bool:
    return not wanted or any(w.casefold() in have for w in wanted)


def rule_matches(rule: AlertRule, tagged: TaggedArticle) -> bool:
    """True when every condition ``rule`` sets holds for ``tagged``."""
    article = tagged.article
    if rule.regulator is not None and article.regulator != rule.regulator:
        return False
    if rule.sources and article.source_id not in rule.sources:
        return False
    if rule.doc_types and article.doc_type not in rule.doc_types:
        return False
    entities = {n.casefold() for t in tagged.tags if t.kind == "entity" for n in (t.id, t.name)}
    topics = {n.casefold() for t in tagged.tags if t.kind == "topic" for n in (t.id, t.name)}
    return _matches_any(rule.entities, entities) and _matches_any(rule.topics, topics)


def matching_rules(rules: Iterable[AlertRule], tagged: TaggedArticle) -> list[AlertRule]:
    """The rules ``tagged`` satisfies, in declaration order."""
    return [rule for rule in rules if rule_matches(rule, tagged)]
