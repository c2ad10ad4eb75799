"""Reading the fields of one ``alerts.toml`` table: each reader returns the value, or None (or
an empty tuple) after adding a problem that names the file, the entry and the field.

Readers never raise, so one pass over the file finds every mistake in it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.alerts.references import TagNames

# How alike an unknown field must be to a known one to be offered as what was meant:
# difflib's own default, which takes "regulater" → "regulator" and "chanels" → "channels".
SUGGESTION_CUTOFF = 0.6
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class Check:
    """One pass over the file: where it is, what was found, and what names are known."""

    path: Path
    problems: list[str] = field(default_factory=list)
    source_ids: tuple[str, ...] | None = None
    tag_names: TagNames | None = None
    # Ids more than one entry of the kind being parsed claims: their labels add the position.
    repeated: set[str] = field(default_factory=set)

    def where(self, what: str, index: int, raw: Mapping) -> str:
        """The file and entry a problem is about: ``rule 'id'``, else ``rule #position``."""
        ident = raw.get("id")
        if not isinstance(ident, str) or not ident:
            return f"{self.path}: {what} #{index + 1}"
        if ident in self.repeated:
            return f"{self.path}: {what} {ident!r} (#{index + 1})"
        return f"{self.path}: {what} {ident!r}"


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the known name closest to ``value``, else nothing."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=SUGGESTION_CUTOFF)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_fields(
    raw: Mapping,
    known: tuple[str, ...],
    where: str,
    problems: list[str],
    *,
    elsewhere: Mapping[str, str] | None = None,
) -> None:
    """A problem for every key of ``raw`` not in ``known``; ``elsewhere`` says where a field
    that belongs to another table goes instead."""
    for key in raw:
        if key in known:
            continue
        if elsewhere and key in elsewhere:
            problems.append(f"{where}: field {key!r} {elsewhere[key]}")
        else:
            hint = did_you_mean(str(key), known)
            problems.append(f"{where}: field {key!r} is not a known field{hint}")


def read_ident(raw: Mapping, where: str, problems: list[str]) -> str | None:
    """The required ``id``: lower-case letters, digits and '-'."""
    if "id" not in raw:
        problems.append(f"{where}: field 'id' is missing")
        return None
    ident = raw["id"]
    if not isinstance(ident, str) or not _ID_RE.match(ident):
        problems.append(f"{where}: field 'id' must be lower-case letters, digits and '-'")
        return None
    return ident


def read_text(
    raw: Mapping, key: str, where: str, problems: list[str], *, non_empty: bool = False
) -> str | None:
    """The string in ``raw[key]``, None when absent or wrong (a problem then says why)."""
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str) or (non_empty and not value.strip()):
        problems.append(f"{where}: field {key!r} must be a {'non-empty ' * non_empty}string")
        return None
    return value


def read_flag(raw: Mapping, key: str, where: str, problems: list[str]) -> bool | None:
    """The boolean in ``raw[key]``, None when absent or not true/false."""
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, bool):
        problems.append(f"{where}: field {key!r} must be true or false")
        return None
    return value


def read_choice(
    raw: Mapping, key: str, choices: tuple[str, ...], where: str, problems: list[str]
) -> str | None:
    """The value of ``raw[key]`` when it is one of ``choices``, None when absent or not."""
    if key not in raw:
        return None
    value = raw[key]
    if value not in choices:
        quoted = [repr(choice) for choice in choices]
        expected = f"{', '.join(quoted[:-1])} or {quoted[-1]}" if len(quoted) > 1 else quoted[0]
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        problems.append(f"{where}: field {key!r} is {value!r}; expected {expected}{hint}")
        return None
    return str(value)


def read_names(
    raw: Mapping, key: str, where: str, problems: list[str], *, non_empty: bool = False
) -> tuple[str, ...]:
    """The list of strings in ``raw[key]``; with ``non_empty`` an empty list is a problem."""
    value = raw.get(key, [])
    if isinstance(value, str):
        problems.append(f'{where}: field {key!r} must be a list of strings (["{value}"] for one)')
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: field {key!r} must be a list of strings")
        return ()
    if non_empty and key in raw and not value:
        problems.append(f"{where}: field {key!r} is an empty list; leave it out to match any")
        return ()
    return tuple(value)


def read_seconds(
    raw: Mapping, key: str, where: str, problems: list[str], *, at_most: float
) -> float | None:
    """The seconds in ``raw[key]``, above 0 and at most ``at_most``; None when absent or wrong."""
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        problems.append(f"{where}: field {key!r} must be a number of seconds")
        return None
    if not 0 < value <= at_most:
        problems.append(
            f"{where}: field {key!r} is {value}; expected seconds above 0, at most {at_most:g}"
        )
        return None
    return float(value)
