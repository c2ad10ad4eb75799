"""Per-kind source options: each adapter declares the ``[source.options]`` it reads.

An ``Option`` names one key, says what values it takes and its default; an ``Options`` set is
what one module reads (an adapter's own, and the fetcher's, which every kind has). The same
check runs when ``sources.toml`` loads (every problem, with file, source and field) and when an
adapter reads a value (a ``Source`` built in code gets a clear ``SourceError``), so a value is
validated in one place only, next to the code that reads it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from pipeline.errors import SourceError
from pipeline.models import Source

# Why a value is wrong, as the end of "field 'options.X' …", or None when it is right.
Check = Callable[[object], str | None]


@dataclass(frozen=True)
class Option:
    """One option a source kind reads: its name, its check, its default and what it is for."""

    name: str
    check: Check
    help: str
    default: Any = None
    required: bool = False


class Options:
    """The options one module reads, looked up by name."""

    def __init__(self, *options: Option) -> None:
        self.by_name = {option.name: option for option in options}

    def __add__(self, other: Options) -> Options:
        return Options(*self.by_name.values(), *other.by_name.values())

    def __iter__(self) -> Iterator[Option]:
        return iter(self.by_name.values())

    def problems(self, raw: Mapping[str, object], where: str) -> list[str]:
        """Every problem of a ``[source.options]`` table: unknown keys, missing, wrong values."""
        found: list[str] = []
        for key, value in raw.items():
            option = self.by_name.get(key)
            if option is None:
                hint = _suggestion(key, self.by_name)
                found.append(f"{where}: field 'options.{key}' is not an option of this kind{hint}")
            elif (reason := option.check(value)) is not None:
                found.append(f"{where}: field {_field(key, reason)}")
        for option in self.by_name.values():
            if option.required and option.name not in raw:
                found.append(f"{where}: field 'options.{option.name}' is required for this kind")
        return found

    def value(self, source: Source, name: str) -> Any:
        """The source's value of option ``name``, else its default; ``SourceError`` if wrong."""
        option = self.by_name[name]
        if name not in source.options:
            if option.required:
                raise SourceError(f"{source.id}: options.{name} is required")
            return option.default
        value = source.options[name]
        reason = option.check(value)
        if reason is not None:
            raise SourceError(f"{source.id}: options.{name} {reason} ({value!r})")
        return value


def _field(key: str, reason: str) -> str:
    """``'options.key' reason``; a reason about one list item ("[2] …") names the item."""
    if reason.startswith("[") and "] " in reason:
        position, rest = reason.split("] ", 1)
        return f"'options.{key}{position}]' {rest}"
    return f"'options.{key}' {reason}"


def _suggestion(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    names = ", ".join(sorted(known)) or "none"
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f" (known: {names}){hint}"


# --- checks ------------------------------------------------------------------------------------


def boolean(value: object) -> str | None:
    """True or false."""
    return None if isinstance(value, bool) else "must be true or false"


def positive_int(value: object) -> str | None:
    """A whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be a positive integer"
    return None


def seconds(value: object) -> str | None:
    """A number of seconds, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return "must be a number of seconds"
    return None


def positive_seconds(value: object) -> str | None:
    """A number of seconds above 0."""
    if (reason := seconds(value)) is not None:
        return reason
    return "must be more than 0 seconds" if value == 0 else None


def one_of(*allowed: str) -> Check:
    """One of ``allowed``, exactly as written."""

    def check(value: object) -> str | None:
        if value in allowed:
            return None
        return f"is {value!r}; expected one of {', '.join(allowed)}"

    return check


def url_problem(value: object) -> str | None:
    """Why ``value`` is not an http(s) URL, or None."""
    if not isinstance(value, str):
        return "must be a string URL"
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        return f"is not a URL ({exc})"
    if url.scheme not in ("http", "https") or not url.host:
        return f"{value!r} is not an http(s) URL"
    if url.userinfo:
        # The file is tracked and its URLs are printed in summaries and errors.
        return "holds a user name or password (user:pass@), which sources.toml must not keep"
    return None


def url_list(value: object) -> str | None:
    """A list of http(s) URLs; the first bad one is named by position."""
    if not isinstance(value, list):
        return "must be a list of URLs"
    for position, url in enumerate(value):
        if (reason := url_problem(url)) is not None:
            return f"[{position}] {reason}"
    return None


def url_template(placeholder: str) -> Check:
    """An http(s) URL holding ``placeholder`` (e.g. ``{item_id}``) and no other field."""

    def check(value: object) -> str | None:
        if not isinstance(value, str) or placeholder not in value:
            return f"must be a URL template with {placeholder}"
        try:
            filled = value.format(**{placeholder.strip("{}"): "X"})
        except (KeyError, IndexError, ValueError):
            return f"must be a URL template with {placeholder} and no other {{…}} field"
        return url_problem(filled)

    return check


def string_list(what: str) -> Check:
    """A list of non-empty strings (``what`` names them in the message)."""

    def check(value: object) -> str | None:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return f"must be a list of {what}"
        return None

    return check
