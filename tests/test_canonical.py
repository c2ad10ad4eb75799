"""The canonical form of a page's URL (pipeline/canonical.py)."""

from __future__ import annotations

import pytest

from pipeline.canonical import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM/News/Item", "https://www.example.com/News/Item"),
        ("https://example.com/a#comments", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&id=7&fbclid=x&gclid=y",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/a?mc_cid=1&mc_eid=2&ref=rss&cmpid=3", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1&c=3", "https://example.com/a?a=1&b=2&c=3"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/news/item/amp", "https://example.com/news/item"),
        ("https://example.com/news/item/amp/", "https://example.com/news/item/"),
        ("https://example.com/news/item?amp", "https://example.com/news/item"),
        ("https://example.com/news/item?amp=1&id=2", "https://example.com/news/item?id=2"),
        ("https://m.example.com/news/item", "https://example.com/news/item"),
        ("https://mobile.example.com/news/item", "https://example.com/news/item"),
        ("https://amp.example.com/news/item", "https://example.com/news/item"),
        ("https://example.com/amp/news/item", "https://example.com/news/item"),
        ("https://example.com/news/item.amp", "https://example.com/news/item"),
        ("https://example.com/news/item.amp.html", "https://example.com/news/item.html"),
        ("https://example.com/news/item?outputType=amp", "https://example.com/news/item"),
        ("https://example.com/news/item?format=amp&id=2", "https://example.com/news/item?id=2"),
        ("https://example.com/news/item?format=json", "https://example.com/news/item?format=json"),
        ("https://m.co.uk/news", "https://m.co.uk/news"),
        ("https://amp.dev/about", "https://amp.dev/about"),
        ("https://example.com/a/", "https://example.com/a/"),
        ("https://example.com/a", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        (
            "https://apps.sfc.hk/edistributionWeb/gateway/EN/news-and-announcements/news/doc"
            "?refNo=26PR27",
            "https://apps.sfc.hk/edistributionWeb/gateway/EN/news-and-announcements/news/doc"
            "?refNo=26PR27",
        ),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected


@pytest.mark.parametrize("url", ["not a url", "", "mailto:desk@example.com", "http://[::1"])
def test_canonical_url_leaves_what_is_not_a_web_url(url: str) -> None:
    assert canonical_url(url) == url.strip()
