"""Which alert rules a tagged article satisfies."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.alerts.config import AlertRule
from pipeline.models import TaggedArticle


def _names_any(wanted: tuple[str, ...], have: set[str]) -> bool:
    return any(w.casefold() in have for w in wanted)


def _tag_keys(tagged: TaggedArticle, kind: str) -> set[str]:
    """What a rule's entity or topic is compared with: the tag ids, which a rule loaded with
    the taxonomy holds (its names and aliases resolved), and the tag names, for a rule loaded
    without it that names a node as written."""
    return {n.casefold() for t in tagged.tags if t.kind == kind for n in (t.id, t.name)}


def rule_matches(rule: AlertRule, tagged: TaggedArticle) -> bool:
    """True when every condition ``rule`` sets holds for ``tagged``."""
    article = tagged.article
    if rule.regulator is not None and article.regulator != rule.regulator:
        return False
    if rule.sources and article.source_id not in rule.sources:
        return False
    if rule.doc_types and article.doc_type not in rule.doc_types:
        return False
    if rule.entities and not _names_any(rule.entities, _tag_keys(tagged, "entity")):
        return False
    return not rule.topics or _names_any(rule.topics, _tag_keys(tagged, "topic"))


def matching_rules(rules: Iterable[AlertRule], tagged: TaggedArticle) -> list[AlertRule]:
    """The rules ``tagged`` satisfies, in declaration order."""
    return [rule for rule in rules if rule_matches(rule, tagged)]
