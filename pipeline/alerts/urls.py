"""Apprise URLs: whether Apprise can read one, a form of it that is safe to print, and the
redaction every channel error passes through.

Apprise URLs carry passwords and tokens (``mailtos://user:password@host``,
``json://host/path?token=…``), so no message newswatch writes may quote one as it is, nor any
secret a URL was built from (``redact``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote, urlsplit

if TYPE_CHECKING:
    import apprise

MASK = "***"
# ``scheme://userinfo@``: whatever stands before the "@" of an authority is a login, a password
# or a token (``json://TOKEN@host``), so it is masked whole, wherever a text quotes a URL.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]+@")


def mask_url(url: str) -> str:
    """``url`` with only its scheme and host shown; userinfo, path and query are masked."""
    scheme, separator, _ = url.partition("://")
    if not separator or not scheme.isascii() or not scheme.replace("+", "").isalnum():
        # Without a scheme there is no telling which part is a secret.
        return f"{MASK} (no scheme://)"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        # A port that is not a number is often a token ("bot:token@"): show none of it.
        return f"{scheme}://{MASK}"
    shown = f"{scheme}://"
    if "@" in parts.netloc:
        shown += f"{MASK}@"
    shown += host + (f":{port}" if port is not None else "")
    if parts.path not in ("", "/"):
        shown += f"/{MASK}"
    if parts.query:
        shown += f"?{MASK}"
    return shown


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, as written or URL-quoted, replaced by ``***``, and the
    userinfo of any ``scheme://user:password@`` in it masked."""
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms.update((secret, quote(secret, safe=""), quote(secret), quote_plus(secret)))
            forms.add(unquote(secret))
    # Longest first: a secret that contains another is replaced whole, not piecemeal.
    for form in sorted(forms, key=len, reverse=True):
        if form:
            text = text.replace(form, MASK)
    return _USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", text)


def url_password(url: str) -> str | None:
    """The password in ``url``'s userinfo, unquoted; None when it has none or cannot be read."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


@contextmanager
def _apprise_quiet() -> Iterator[None]:
    """Silence Apprise's logger: it logs a rejected URL in full, password included."""
    logger = logging.getLogger("apprise")
    was_disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was_disabled


def apprise_with(url: str) -> apprise.Apprise | None:
    """An Apprise object set up to notify ``url``, or None when Apprise cannot read the URL."""
    import apprise  # imported here: only configurations with an Apprise channel pay for it

    notifier = apprise.Apprise()
    with _apprise_quiet():
        try:
            accepted = notifier.add(url)
        except (TypeError, ValueError):
            accepted = False
    return notifier if accepted else None


def apprise_accepts(url: str) -> bool:
    """True when Apprise can read ``url`` (it knows the scheme and finds every part it needs)."""
    return apprise_with(url) is not None
