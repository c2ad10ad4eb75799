"""The ``[[channel]]`` tables of ``alerts.toml``: where alerts go.

A mistake in the file (an unknown field, a wrong kind, a literal password) is a problem of the
file. What depends on the environment (a variable that is not set, a URL Apprise cannot read
once expanded) is recorded on the channel as ``problem`` instead: that channel cannot deliver,
and the others, and ingestion, go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pipeline.alerts.envvars import expand, has_literal_password, reference_problems
from pipeline.alerts.fields import (
    Check,
    read_flag,
    read_ident,
    read_seconds,
    read_text,
    unknown_fields,
)
from pipeline.alerts.urls import apprise_accepts, mask_url, redact

CHANNEL_KINDS: tuple[str, ...] = ("console", "jsonl", "apprise")
CHANNEL_FIELDS: tuple[str, ...] = (
    "id",
    "kind",
    "description",
    "enabled",
    "path",
    "url",
    "timeout",
)
# The fields only one kind takes, and whether that kind needs them.
_KIND_FIELDS: dict[str, tuple[str, bool]] = {
    "path": ("jsonl", True),
    "url": ("apprise", True),
    "timeout": ("apprise", False),
}
# Seconds a delivery may wait for a slow receiver before it counts as failed and is retried
# later: time for a busy mail server's greeting or a webhook's cold start, short enough that a
# receiver that is down does not hold the run for long.
DEFAULT_TIMEOUT = 30.0
# Ten minutes: a longer wait holds up every alert behind it; 30000 is milliseconds by mistake.
MAX_TIMEOUT = 600.0


@dataclass(frozen=True)
class AlertChannel:
    """Where alerts go: the console, a JSONL file, or any Apprise URL.

    ``url`` is the URL with its ``${NAME}`` references expanded, ``secrets`` the values put in
    (for taking them out of any message), ``problem`` why the channel cannot deliver in this
    environment, or None. ``repr`` shows neither the URL nor the secrets.
    """

    id: str
    kind: str
    path: str | None = None
    url: str | None = field(default=None, repr=False)
    enabled: bool = True
    description: str = ""
    timeout: float = DEFAULT_TIMEOUT
    secrets: tuple[str, ...] = field(default=(), repr=False)
    problem: str | None = None


def parse_channel(
    index: int, raw: Mapping, check: Check, environ: Mapping[str, str]
) -> AlertChannel | None:
    """The channel ``raw`` declares, or None when it has a mistake (added to ``check``)."""
    problems = check.problems
    where = check.where("channel", index, raw)
    before = len(problems)
    unknown_fields(raw, CHANNEL_FIELDS, where, problems)
    ident = read_ident(raw, where, problems)
    kind = _kind(raw, where, problems)
    path = read_text(raw, "path", where, problems, non_empty=True)
    template = read_text(raw, "url", where, problems, non_empty=True)
    enabled = read_flag(raw, "enabled", where, problems)
    description = read_text(raw, "description", where, problems)
    timeout = read_seconds(raw, "timeout", where, problems, at_most=MAX_TIMEOUT)
    for key, (only_kind, required) in _KIND_FIELDS.items():
        if kind == only_kind and required and key not in raw:
            problems.append(f"{where}: field {key!r} is required for a channel of kind {kind!r}")
        elif kind is not None and kind != only_kind and key in raw:
            problems.append(f"{where}: field {key!r} is only for channels of kind {only_kind!r}")
    if template is not None:
        problems.extend(f"{where}: field 'url' {reason}" for reason in reference_problems(template))
        if has_literal_password(template):
            problems.append(
                f"{where}: field 'url' holds a password; write it as ${{NAME}} and set NAME in"
                " the environment"
            )
    if len(problems) > before or ident is None or kind is None:
        return None
    channel = AlertChannel(
        id=ident,
        kind=kind,
        path=path,
        enabled=True if enabled is None else enabled,
        description=description or "",
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
    )
    return channel if template is None else _with_url(channel, template, where, environ)


def _kind(raw: Mapping, where: str, problems: list[str]) -> str | None:
    if "kind" not in raw:
        problems.append(f"{where}: field 'kind' is missing")
        return None
    kind = raw["kind"]
    if kind not in CHANNEL_KINDS:
        problems.append(
            f"{where}: field 'kind' is {kind!r}; expected one of {', '.join(CHANNEL_KINDS)}"
        )
        return None
    return str(kind)


def _with_url(
    channel: AlertChannel, template: str, where: str, environ: Mapping[str, str]
) -> AlertChannel:
    """``channel`` with its URL expanded, or with the reason it cannot be in this environment.

    Messages show the URL as written (``${NAME}`` where a secret goes), masked, and have every
    substituted value taken out again: Apprise URLs carry secrets outside the password too.
    """
    expanded = expand(template, environ)
    missing = [f"{name} (not set)" for name in expanded.unset]
    missing += [f"{name} (set but empty)" for name in expanded.empty]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        needs = f"{where}: field 'url' needs the environment variable{plural} {', '.join(missing)}"
        return replace(channel, url=template, problem=needs)
    problem: str | None = None
    if not apprise_accepts(expanded.text):
        problem = redact(
            f"{where}: field 'url' is not a URL Apprise can read: {mask_url(template)}",
            expanded.secrets,
        )
    return replace(channel, url=expanded.text, secrets=expanded.secrets, problem=problem)
