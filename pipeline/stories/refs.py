"""Regulator reference numbers: what ties a release to its translation.

The HKMA publishes each release under one number in every language (``/eng/…/20251120-3/`` and
``/chi/…/20251120-3/``; circulars as ``20251119e1`` and ``20251119c1``), the SFC under one
reference number (``25PR118``) with ``lang=EN`` or ``TC``. A ``RegulatorRef`` names the item
without its language, so the English and Chinese releases share ``key``; ``series`` names the
kind of document, because two different releases of one series (two same-template HKMA
announcements, this week's and last week's reserve figures) are never one story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

_HKMA_LANGS = {"eng": "en", "chi": "zh-hant", "gb_chi": "zh-hans"}
_SFC_LANGS = {"EN": "en", "TC": "zh-hant", "SC": "zh-hans"}
# 20251120-3 (releases, speeches) or 20251119e1 / 20251119c1 (circulars, guidelines).
_HKMA_NUMBER = re.compile(r"^(\d{8})(?:-|[ec])(\d+)$")
# 25PR118: two-digit year, series letters, number.
_SFC_REF = re.compile(r"^\d{2}([A-Z]{1,4})\d+$")


@dataclass(frozen=True)
class RegulatorRef:
    """A regulator's own number for an item, without the item's language."""

    regulator: str
    series: str
    number: str
    lang: str | None

    @property
    def key(self) -> str:
        """The same for every language version of the item."""
        return f"{self.regulator}:{self.series}:{self.number}"


def regulator_ref(url: str, item_id: str | None = None) -> RegulatorRef | None:
    """The HKMA or SFC reference an item's URL (or stable id) carries, if any."""
    lowered = url.lower()
    # Most items are neither regulator's: one look at the text spares parsing their URL.
    if "hkma.gov.hk" not in lowered and "sfc.hk" not in lowered:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "hkma.gov.hk" or host.endswith(".hkma.gov.hk"):
        return _hkma_ref(parts.path)
    if host == "sfc.hk" or host.endswith(".sfc.hk"):
        return _sfc_ref(parts.path, parts.query, item_id)
    return None


def _hkma_ref(path: str) -> RegulatorRef | None:
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) < 3 or segments[0] not in _HKMA_LANGS:
        return None
    number = _HKMA_NUMBER.match(segments[-1])
    if number is None:
        return None
    series = "/".join(segment for segment in segments[1:-1] if not segment.isdigit())
    return RegulatorRef("hkma", series, f"{number[1]}-{number[2]}", _HKMA_LANGS[segments[0]])


def _sfc_ref(path: str, query: str, item_id: str | None) -> RegulatorRef | None:
    values = parse_qs(query)
    ref = next(iter(values.get("refNo", [])), None) or item_id
    if not ref or (match := _SFC_REF.match(ref.upper())) is None:
        return None
    lang = next(iter(values.get("lang", [])), None)
    if lang is None:
        lang = next((seg for seg in path.split("/") if seg.upper() in _SFC_LANGS), None)
    return RegulatorRef("sfc", match[1], ref.upper(), _SFC_LANGS.get((lang or "").upper()))
