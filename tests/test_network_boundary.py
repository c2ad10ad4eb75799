"""The network boundary: no request to an internal host, by link, redirect, scheme or DNS.

A real server on 127.0.0.1 (allowed, as NEWSWATCH_ALLOW_HOSTS says in the conftest) stands for
the outside world; a second one on 127.0.0.2 (not allowed) stands for an internal host holding
a secret. Nothing may ever reach the second one, and the run goes on around the refusals.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import REPO
from support.local_site import Answer, LocalSite, redirect

from pipeline.errors import ForbiddenAddress
from pipeline.fetch import Fetcher, FetchPolicy, build_client
from pipeline.fetch.guard import AddressGuard, AllowList, blocked_reason
from pipeline.ingest import IngestOptions, RunOutcome, run_once
from pipeline.store import db, repo, schema

SECRET = "INTERNAL-SECRET-PAGE"
ARTICLE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    "<p>{title}: the Hong Kong Monetary Authority published a circular on stablecoin issuers"
    " today, setting out the licensing regime and the reserve requirements issuers must meet."
    "</p><p>Market participants welcomed the clarity and said applications would follow soon."
    "</p></article></body></html>"
)
FAST_RETRIES = FetchPolicy(backoff_base=0.001, backoff_cap=0.01)


@pytest.fixture
def internal() -> Iterator[LocalSite]:
    """The internal host: a server on 127.0.0.2 with a secret, which must never be asked."""
    site = LocalSite(host="127.0.0.2").start()
    site.set("/latest/meta-data/", Answer(f"<html><title>{SECRET}</title></html>".encode()))
    site.set("/direct.html", Answer(f"<html><title>{SECRET}</title></html>".encode()))
    try:
        yield site
    finally:
        site.stop()


def feed(site: LocalSite, links: list[str]) -> Answer:
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><guid>{link}</guid></item>"
        for n, link in enumerate(links)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
    return Answer((body + "</channel></rss>").encode(), content_type="application/rss+xml")


def sources_toml(site: LocalSite) -> str:
    return "".join(
        f'[[source]]\nid = "{ident}"\nname = "{ident}"\nkind = "rss"\n'
        f'urls = ["{site.url}/{ident}.xml"]\n'
        for ident in ("outside", "other")
    )


@pytest.fixture
def hostile_run(
    local_site: LocalSite, internal: LocalSite, migrated_db_url: str, tmp_path: Path
) -> RunOutcome:
    """One live run over a feed whose items point inside, and a plain feed beside it."""
    local_site.set("/a/ok.html", Answer(ARTICLE.format(title="A plain article").encode()))
    local_site.set("/a/moved.html", redirect(f"{internal.url}/latest/meta-data/"))
    local_site.set("/a/other.html", Answer(ARTICLE.format(title="Another article").encode()))
    local_site.set("/a/to-file.html", redirect("file:///etc/passwd"))
    local_site.set("/a/to-gopher.html", redirect("gopher://127.0.0.1:70/1"))
    local_site.set(
        "/outside.xml",
        feed(
            local_site,
            [
                f"{local_site.url}/a/ok.html",
                f"{local_site.url}/a/moved.html",
                f"{internal.url}/direct.html",
                "http://169.254.169.254/latest/meta-data/",
                f"{local_site.url}/a/to-file.html",
                f"{local_site.url}/a/to-gopher.html",
            ],
        ),
    )
    local_site.set("/other.xml", feed(local_site, [f"{local_site.url}/a/other.html"]))
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(local_site), encoding="utf-8")
    options = IngestOptions(
        db_url=migrated_db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
    )
    return asyncio.run(run_once(options, fetch_policy=FAST_RETRIES))


def test_no_request_reaches_an_internal_host(hostile_run: RunOutcome, internal: LocalSite) -> None:
    assert internal.requests == []
    outside = hostile_run.reports["outside"]
    assert (outside.found, outside.new, outside.errors) == (6, 1, 5)
    joined = "\n".join(outside.item_errors)
    assert f"{internal.url}/latest/meta-data/" in joined
    assert "127.0.0.2 is a loopback address" in joined
    assert "169.254.169.254 is a link-local address" in joined
    assert "scheme 'file' is not requested" in joined
    assert "scheme 'gopher' is not requested" in joined
    assert SECRET not in joined
    # The other source is untouched by the refusals.
    assert hostile_run.reports["other"].new == 1 and hostile_run.reports["other"].error is None


def test_nothing_internal_is_stored_or_recorded(
    hostile_run: RunOutcome, migrated_db_url: str
) -> None:
    engine = db.make_engine(migrated_db_url)
    try:
        with Session(engine) as session:
            titles = list(session.scalars(select(schema.Article.title)))
            [run] = repo.latest_runs(session, limit=1)
    finally:
        engine.dispose()
    assert sorted(titles) == ["A plain article", "Another article"]
    recorded = " ".join(str(source.error) for source in run.sources)
    assert SECRET not in recorded and "loopback address" in recorded


async def test_dns_that_turns_internal_after_the_check_is_refused_on_connect(
    local_site: LocalSite, internal: LocalSite
) -> None:
    answers = iter([["127.0.0.1"], ["127.0.0.2"], ["127.0.0.2"]])

    async def rebinding(host: str, port: int) -> list[str]:
        # A public-looking answer for the check, the internal one when connecting.
        return next(answers)

    guard = AddressGuard(AllowList.parse("127.0.0.1"), resolve=rebinding)
    async with build_client(guard=guard) as client:
        fetcher = Fetcher(client, guard=guard, polite=False)
        fetcher.policy = FAST_RETRIES
        with pytest.raises(ForbiddenAddress, match=r"rebind\.test resolves to 127\.0\.0\.2"):
            await fetcher.get(f"http://rebind.test:{internal.port}/direct.html")
    assert internal.requests == []


async def test_an_allowed_internal_host_is_reached(internal: LocalSite) -> None:
    guard = AddressGuard(AllowList.parse("127.0.0.2/32"))
    async with build_client(guard=guard) as client:
        page = await Fetcher(client, guard=guard, polite=False).get(f"{internal.url}/direct.html")
    assert SECRET.encode() in page.body
    assert internal.asked(prefix="/direct.html") == ["/direct.html"]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.2", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_classes(address: str, reason: str | None) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


def test_the_allow_list_takes_names_addresses_and_networks() -> None:
    allow = AllowList.parse(" 127.0.0.1, Intranet.Example., 10.20.0.0/16 ,[::1]")
    assert allow.allows_host("intranet.example") and not allow.allows_host("example")
    assert allow.allows_address(ipaddress.ip_address("10.20.3.4"))
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert not allow.allows_address(ipaddress.ip_address("10.21.0.1"))


def test_a_source_on_an_internal_host_fails_alone(
    local_site: LocalSite, internal: LocalSite, migrated_db_url: str, tmp_path: Path
) -> None:
    internal.set("/feed.xml", feed(internal, [f"{internal.url}/direct.html"]))
    local_site.set("/other.xml", feed(local_site, [f"{local_site.url}/a/fine.html"]))
    local_site.set("/a/fine.html", Answer(ARTICLE.format(title="Fine").encode()))
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "inside"\nname = "Inside"\nkind = "rss"\n'
        f'urls = ["{internal.url}/feed.xml"]\n'
        f'[[source]]\nid = "other"\nname = "Other"\nkind = "rss"\n'
        f'urls = ["{local_site.url}/other.xml"]\n',
        encoding="utf-8",
    )
    options = IngestOptions(
        db_url=migrated_db_url,
        sources_path=sources,
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=REPO / "alerts.toml",
    )
    outcome = asyncio.run(run_once(options, fetch_policy=FAST_RETRIES))
    inside = outcome.reports["inside"]
    assert inside.status == "failed"
    assert inside.error is not None and "ForbiddenAddress" in inside.error
    assert f"{internal.url}/feed.xml" in inside.error and "loopback address" in inside.error
    assert outcome.reports["other"].new == 1
    assert internal.requests == []
