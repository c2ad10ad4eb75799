"""Which alert rules an article satisfies: decided in memory, for every new article.

Each rule's conditions are compiled once (keyword patterns, the query's indexed terms) and
kept; an article's indexed terms are computed only when a rule with a ``query`` asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache

from pipeline.alerts.conditions import Condition
from pipeline.alerts.config import AlertRule
from pipeline.alerts.references import is_source_pattern
from pipeline.alerts.textmatch import CompiledQuery, IndexedText, Keywords, language_matches
from pipeline.models import TaggedArticle
from pipeline.querytext import parse_query

# Compiled conditions kept: one per rule (and per nested condition) of the loaded files, with
# room for a reload or two in a long-running process.
COMPILED_CACHE_SIZE = 1024
TAG_KINDS: tuple[str, ...] = ("entity", "topic")

Predicate = Callable[["MatchSubject"], bool]


@dataclass(frozen=True)
class MatchSubject:
    """What a rule is matched against: an article's source facts, its words and its tags.

    ``tags`` are (kind, id, name); ``tag_keys`` maps "entity" and "topic" to their case-folded
    ids and names, so a rule loaded with the taxonomy (node ids) and one loaded without it
    (names) both match.
    """

    regulator: bool
    source_id: str
    doc_type: str
    language: str | None
    title: str
    text: str
    tags: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def of(
        cls,
        *,
        regulator: bool,
        source_id: str,
        doc_type: str,
        language: str | None,
        title: str,
        text: str,
        tags: Iterable[tuple[str, str, str]] = (),
    ) -> MatchSubject:
        """A subject from plain values; ``tags`` as (kind, id, name)."""
        return cls(
            regulator=regulator,
            source_id=source_id,
            doc_type=doc_type,
            language=language,
            title=title,
            text=text,
            tags=tuple(tags),
        )

    @classmethod
    def from_tagged(cls, tagged: TaggedArticle) -> MatchSubject:
        """The subject of a tagged article about to be stored."""
        article = tagged.article
        return cls.of(
            regulator=article.regulator,
            source_id=article.source_id,
            doc_type=article.doc_type,
            language=article.lang,
            title=article.title,
            text=article.text,
            tags=((tag.kind, tag.id, tag.name) for tag in tagged.tags),
        )

    @cached_property
    def tag_keys(self) -> Mapping[str, frozenset[str]]:
        """The case-folded ids and names of the tags, by kind (computed on first use: most
        articles fail a rule's cheaper checks first, and an article may carry fifty tags)."""
        keys: dict[str, set[str]] = {kind: set() for kind in TAG_KINDS}
        for kind, tag_id, name in self.tags:
            keys.setdefault(kind, set()).update((tag_id.casefold(), name.casefold()))
        return {kind: frozenset(found) for kind, found in keys.items()}

    @cached_property
    def indexed(self) -> IndexedText:
        """The title and text as the search index holds them (computed on first use)."""
        return IndexedText(self.title, self.text)

    @cached_property
    def folded(self) -> tuple[str, str]:
        """The title and text case-folded, for keywords (computed on first use)."""
        return self.title.casefold(), self.text.casefold()


def rule_matches(rule: AlertRule, subject: MatchSubject | TaggedArticle) -> bool:
    """True when every condition ``rule`` sets holds for ``subject``."""
    if isinstance(subject, TaggedArticle):
        subject = MatchSubject.from_tagged(subject)
    return _compiled(rule)(subject)


def matching_rules(
    rules: Iterable[AlertRule], subject: MatchSubject | TaggedArticle
) -> list[AlertRule]:
    """The rules ``subject`` satisfies, in declaration order (a ``TaggedArticle`` is read as
    ``MatchSubject.from_tagged``)."""
    if isinstance(subject, TaggedArticle):
        subject = MatchSubject.from_tagged(subject)
    return [rule for rule in rules if rule_matches(rule, subject)]


@lru_cache(maxsize=COMPILED_CACHE_SIZE)
def _compiled(condition: Condition) -> Predicate:
    """One function deciding ``condition``: its checks, cheapest first."""
    checks = _fact_checks(condition) + _text_checks(condition)
    checks += [_compiled(nested) for nested in condition.all_of]
    if condition.any_of:
        alternatives = [_compiled(nested) for nested in condition.any_of]
        checks.append(lambda subject: any(check(subject) for check in alternatives))
    return lambda subject: all(check(subject) for check in checks)


def _fact_checks(condition: Condition) -> list[Predicate]:
    """Checks on what the source says of the article and on its tags."""
    checks: list[Predicate] = []
    if condition.regulator is not None:
        regulator = condition.regulator
        checks.append(lambda subject: subject.regulator == regulator)
    if condition.sources:
        sources = frozenset(s for s in condition.sources if not is_source_pattern(s))
        patterns = tuple(s for s in condition.sources if is_source_pattern(s))
        checks.append(
            lambda subject: subject.source_id in sources
            or any(fnmatchcase(subject.source_id, p) for p in patterns)
        )
    if condition.doc_types:
        doc_types = frozenset(condition.doc_types)
        checks.append(lambda subject: subject.doc_type in doc_types)
    if condition.languages:
        languages = condition.languages
        checks.append(lambda subject: language_matches(languages, subject.language))
    for kind, wanted in (("entity", condition.entities), ("topic", condition.topics)):
        if wanted:
            checks.append(_tag_check(kind, frozenset(name.casefold() for name in wanted)))
    return checks


def _tag_check(kind: str, wanted: frozenset[str]) -> Predicate:
    return lambda subject: not wanted.isdisjoint(subject.tag_keys.get(kind, ()))


def _text_checks(condition: Condition) -> list[Predicate]:
    """Checks on the words of the title and text: keywords, then the query."""
    checks: list[Predicate] = []
    if condition.keywords:
        keywords = Keywords(condition.keywords)
        checks.append(lambda subject: any(map(keywords.found_in, subject.folded)))
    if condition.query is not None:
        query = CompiledQuery.of(parse_query(condition.query))
        checks.append(lambda subject: query.matches(subject.indexed))
    return checks
