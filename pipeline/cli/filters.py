"""The filters ``search`` and ``export`` share: the options, each repeatable, and how a name an
analyst types (an id, a name or an alias, in English or Chinese) becomes the tag it means.

Entities and topics are resolved against the taxonomy, so ``--entity 金管局`` and ``--topic
tokenization`` find what they mean; a name that is none is an error listing the closest ones,
never an empty result. Tags a source attaches (``ce:…``, ``category:…``) are taken as written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli.common import fail, parse_when

if TYPE_CHECKING:
    from pipeline.store.search import Filters
    from pipeline.taxonomy import Taxonomy

EntityOption = Annotated[
    list[str] | None,
    typer.Option(
        "--entity",
        help="Tagged with this entity: an id, name or alias, any language (repeatable: all).",
    ),
]
TopicOption = Annotated[
    list[str] | None,
    typer.Option("--topic", help="Tagged with this topic: an id, name or alias (repeatable: all)."),
]
SourceOption = Annotated[
    list[str] | None, typer.Option("--source", help="From this source id (repeatable: any).")
]
DocTypeOption = Annotated[
    list[str] | None,
    typer.Option("--doc-type", help="Of this document type (repeatable: any)."),
]
LangOption = Annotated[
    list[str] | None,
    typer.Option("--lang", help="In this language; zh takes zh-hant and zh-hk (repeatable: any)."),
]
RegulatorOption = Annotated[
    bool | None,
    typer.Option(
        "--regulator/--not-regulator", help="Only regulators' own items, or only the others."
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Published on or after: a date, a time, 7d, today."),
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Published on or before (a date: all of it).")
]
TaxonomyPathOption = Annotated[
    Path | None,
    typer.Option(
        "--taxonomy", help="The taxonomy names are resolved in (found as ingest finds it)."
    ),
]


def build_filters(
    *,
    entity: list[str] | None,
    topic: list[str] | None,
    source: list[str] | None,
    doc_type: list[str] | None,
    lang: list[str] | None,
    regulator: bool | None,
    since: str | None,
    until: str | None,
    taxonomy_path: Path | None = None,
    include_duplicates: bool = False,
) -> Filters:
    """The filters the options give; ends the command naming a bad value."""
    from pipeline.store.search import Filters

    taxonomy = _taxonomy(taxonomy_path) if entity or topic else None
    return Filters(
        entities=tuple(_tag_ids("entity", entity or [], taxonomy)),
        topics=tuple(_tag_ids("topic", topic or [], taxonomy)),
        sources=tuple(source or ()),
        doc_types=tuple(doc_type or ()),
        langs=tuple(lang or ()),
        regulator=regulator,
        since=parse_when(since, "--since"),
        until=_until(until),
        include_duplicates=include_duplicates,
    )


def _until(value: str | None) -> datetime | None:
    return parse_when(value, "--until", end=True)


def _taxonomy(path: Path | None) -> Taxonomy:
    from pipeline.errors import ConfigError
    from pipeline.settings import find_config_files
    from pipeline.taxonomy import load_taxonomy

    found = path or find_config_files(None).taxonomy.path
    try:
        return load_taxonomy(found)
    except ConfigError as exc:
        fail(f"--taxonomy {found}: {exc}")


def _tag_ids(kind: str, names: list[str], taxonomy: Taxonomy | None) -> list[str]:
    """The tag id each name means; ends the command at a name that means none."""
    if not names:
        return []
    from pipeline.taxonomy import ATTACHED_TAG_PREFIXES

    ids = []
    for name in names:
        if name.strip().casefold().startswith(ATTACHED_TAG_PREFIXES):
            ids.append(name.strip())
            continue
        node = taxonomy.resolve(name, kind) if taxonomy is not None else None
        if node is None:
            closest = taxonomy.closest(name, kind) if taxonomy is not None else []
            hint = f"; closest: {', '.join(closest)}" if closest else ""
            fail(f"--{kind}: {name!r} is no {kind}'s id, name or alias{hint}")
        ids.append(node.id)
    return ids
