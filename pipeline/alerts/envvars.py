"""Secrets of channel URLs, kept out of ``alerts.toml``: ``${NAME}`` is replaced by the
environment variable NAME when the file is loaded.

A password written into a URL's ``user:password@`` is refused, so the file can be committed
and shown. The values substituted are returned with the URL, so whatever prints a message
about the channel can take them out of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# ``${NAME}``: what the braces hold is checked apart, so a lower-case name is reported rather
# than sent to Apprise as it is.
_REFERENCE_RE = re.compile(r"\$\{([^{}]*)\}")
_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Where the authority (``user:password@host:port``) ends.
_AUTHORITY_END_RE = re.compile(r"[/?#]")


@dataclass(frozen=True)
class Expanded:
    """A URL with its ``${NAME}`` references replaced, and what the environment lacked."""

    text: str
    secrets: tuple[str, ...] = ()
    unset: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()


def reference_problems(template: str) -> list[str]:
    """What is wrong with the ``${…}`` references of ``template`` (never a value of one)."""
    problems: list[str] = []
    for name in _REFERENCE_RE.findall(template):
        if not _NAME_RE.match(name):
            problems.append(
                f"names ${{{name}}}; an environment variable's name is upper-case letters,"
                " digits and '_', such as ${SMTP_PASSWORD}"
            )
    if "${" in _REFERENCE_RE.sub("", template):
        problems.append("holds '${' without a closing '}'")
    return problems


def has_literal_password(template: str) -> bool:
    """True when ``template``'s ``user:password@`` holds a password not given as ``${NAME}``."""
    _, separator, rest = template.partition("://")
    if not separator:
        return False
    authority = _AUTHORITY_END_RE.split(rest, maxsplit=1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return False
    password = userinfo.split(":", 1)[1]
    return bool(_REFERENCE_RE.sub("", password))


def expand(template: str, environ: Mapping[str, str]) -> Expanded:
    """``template`` with every ``${NAME}`` replaced from ``environ``; names not set, or set
    empty, are listed and left as written."""
    secrets: list[str] = []
    unset: list[str] = []
    empty: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = environ.get(name)
        if found is None:
            unset.append(name)
            return match.group(0)
        if not found:
            empty.append(name)
            return match.group(0)
        secrets.append(found)
        return found

    text = _REFERENCE_RE.sub(value, template)
    return Expanded(
        text,
        tuple(dict.fromkeys(secrets)),
        tuple(dict.fromkeys(unset)),
        tuple(dict.fromkeys(empty)),
    )
