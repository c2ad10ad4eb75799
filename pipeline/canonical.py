"""The canonical form of a page's URL: one spelling per page, whatever link led to it.

Scheme and host lower-cased, a mobile edition's host prefix dropped ("m.", "amp."), default
ports, fragments and tracking parameters removed, AMP renderings mapped to the page itself, the
remaining query parameters sorted. A URL that cannot be parsed is returned as it is (stripped).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track where a click came from; two URLs differing in them are the
# same page.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "s_cid",
        "icid",
        "ncid",
        "sr_share",
        "at_medium",
        "at_campaign",
        "spm",
    }
)
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "ga_", "hsa_")
_AMP_SELECTORS = frozenset({"outputtype", "output", "format", "view"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Host prefixes that only mark a site's mobile edition; dropped when the rest is a real domain.
_MOBILE_PREFIXES: tuple[str, ...] = ("m.", "mobile.", "amp.")
# Second-level labels under which "m.co.uk"-style hosts are registrable domains, not variants.
_SECOND_LEVEL_LABELS = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "ne", "or", "go"})


def canonical_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no tracking, fragment or AMP variant."""
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not scheme or not host:
        return raw
    host = _desktop_host(host)
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = _without_amp(parts.path) or "/"
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _desktop_host(host: str) -> str:
    for prefix in _MOBILE_PREFIXES:
        rest = host[len(prefix) :]
        # "m.example.com" → "example.com", but "m.co.uk" or "amp.dev" are domains of their own.
        if (
            host.startswith(prefix)
            and "." in rest
            and rest.split(".", 1)[0] not in _SECOND_LEVEL_LABELS
        ):
            return rest
    return host


def _without_amp(path: str) -> str:
    if path.endswith("/amp/"):
        return path[: -len("amp/")]
    if path.endswith("/amp"):
        return path[: -len("/amp")]
    if path.endswith(".amp"):
        return path[: -len(".amp")]
    if path.endswith(".amp.html"):
        return path[: -len(".amp.html")] + ".html"
    if path.startswith("/amp/"):
        return path[len("/amp") :]
    return path


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if not _is_tracking(key) and not _selects_amp(key, value)
    ]
    return urlencode(sorted(pairs))


def _selects_amp(key: str, value: str) -> bool:
    # "?outputType=amp", "?output=amp", "?format=amp": the AMP rendering of the same page.
    return key.lower() in _AMP_SELECTORS and value.lower() == "amp"


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    if lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES):
        return True
    # "?amp" and "?amp=1" select the AMP rendering of the same page.
    return lowered == "amp"
