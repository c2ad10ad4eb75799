"""What a search shows beside each hit: its tags with their evidence, and its story's size,
outlets and languages, read for the page's articles only."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pipeline.store.reader import Reader, bind_list, json_value

# A tag as a hit shows it: id, name, kind, how often the article names it, the evidence.
TagInfo = tuple[str, str, str, int, tuple[str, ...]]


def stories_for(reader: Reader, story_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each story's size, outlets and languages."""
    if not story_ids:
        return {}
    params: dict[str, Any] = {}
    sql = (
        "SELECT id, article_count, outlets, languages FROM stories"
        f" WHERE id IN ({bind_list('story', dict.fromkeys(story_ids), params)})"
    )
    return {row["id"]: row for row in reader.rows(sql, params)}


def tags_for(reader: Reader, article_ids: list[int]) -> dict[int, list[TagInfo]]:
    """The tags of each article, most frequent first."""
    found: dict[int, list[TagInfo]] = defaultdict(list)
    if not article_ids:
        return found
    params: dict[str, Any] = {}
    sql = (
        "SELECT article_tags.article_id, tags.id AS tag_id, tags.name, tags.kind,"
        " article_tags.count, article_tags.evidence"
        " FROM article_tags JOIN tags ON tags.id = article_tags.tag_id"
        f" WHERE article_tags.article_id IN ({bind_list('article', article_ids, params)})"
        " ORDER BY article_tags.article_id, article_tags.count DESC, tags.name"
    )
    for row in reader.rows(sql, params):
        evidence = tuple(json_value(row["evidence"]) or ())
        found[row["article_id"]].append(
            (row["tag_id"], row["name"], row["kind"], row["count"], evidence)
        )
    return found
