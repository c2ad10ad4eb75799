"""Stable item ids: the key that makes the same release one article, whichever way it arrived.

A regulator's release reached through its API and through its RSS feed must get the same id (the
sources share an ``id_namespace``), and the id must not change when a title or description is
edited, so it comes from the link or guid (``id_pattern``) or from the API's own reference number.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.errors import SourceError
from pipeline.models import Source

# Ids are keys in the store and in alert messages; anything longer is not an id but a mismatch.
MAX_ITEM_ID_CHARS = 200


def stable_item_id(
    source: Source,
    link: str | None,
    guid: str | None,
    own_id: str | None = None,
) -> str | None:
    """``id_pattern`` on the link, then on the guid; else the adapter's own id; else None."""
    if source.id_pattern:
        try:
            pattern = _compiled(source.id_pattern)
        except re.error as exc:
            raise SourceError(
                f"{source.id}: id_pattern {source.id_pattern!r} is not a valid regex ({exc})"
            ) from exc
        for candidate in (link, guid):
            found = _first_group(pattern, candidate)
            if found:
                return found
    own = own_id.strip() if isinstance(own_id, str) else None
    return own[:MAX_ITEM_ID_CHARS] if own else None


def _first_group(pattern: re.Pattern[str], text: str | None) -> str | None:
    if not text:
        return None
    match = pattern.search(text.strip())
    if match is None:
        return None
    # A pattern without a group (the config refuses those) still yields its whole match.
    value = match.group(1) if pattern.groups else match.group(0)
    return value[:MAX_ITEM_ID_CHARS] if value else None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
