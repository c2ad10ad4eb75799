"""Which module reads each source kind, and what each declares: options, selectors, doc types.

Every adapter module (``rss``, ``hkma_api``, ``sfc_api``, ``html_index``, ``sitemap``) has
``discover`` and ``OPTIONS`` (the ``[source.options]`` it reads); it may declare
``REQUIRED_SELECTORS`` (selectors it cannot work without) and ``ASSIGNED_DOC_TYPES`` (document
types it gives items besides the source's own). Every kind also takes the fetcher's options.
Modules are imported when first asked for, so loading ``sources.toml`` imports only the kinds
it uses.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline.errors import SourceError
from pipeline.fetch.scope import FETCH_OPTIONS
from pipeline.models import SOURCE_KINDS
from pipeline.options import Options


def adapter_module(kind: str) -> ModuleType:
    """The module that reads sources of ``kind``; ``SourceError`` when there is none."""
    if kind not in SOURCE_KINDS:
        raise SourceError(f"unknown source kind {kind!r}")
    module_name = f"pipeline.sources.{kind}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only a missing adapter module means "no adapter"; a missing dependency is a real bug.
        if exc.name != module_name:
            raise
        raise SourceError(f"no adapter for source kind {kind!r}") from exc


def adapter_options(kind: str) -> Options:
    """The options a source of ``kind`` takes: its adapter's and the fetcher's."""
    own: Options = getattr(adapter_module(kind), "OPTIONS", Options())
    return own + FETCH_OPTIONS


def required_selectors(kind: str) -> tuple[str, ...]:
    """The selectors a source of ``kind`` cannot work without."""
    return tuple(getattr(adapter_module(kind), "REQUIRED_SELECTORS", ()))


def assigned_doc_types() -> tuple[str, ...]:
    """Document types adapters give items besides their source's own (e.g. ``enforcement``)."""
    found: dict[str, None] = {}
    for kind in SOURCE_KINDS:
        found.update(dict.fromkeys(getattr(adapter_module(kind), "ASSIGNED_DOC_TYPES", ())))
    return tuple(found)
