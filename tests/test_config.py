"""sources.toml loads; every mistake is named with file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import check_sources, load_sources, select_sources
from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]

VALID_ENTRY = """
[[source]]
id = "example-feed"
name = "Example feed"
kind = "rss"
urls = ["https://example.org/feed.xml"]
"""


def write(tmp_path: Path, text: str, name: str = "sources.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_sources_load_and_cover_every_reference_source() -> None:
    sources = load_sources(REPO / "sources.toml")
    by_id = {s.id: s for s in sources}
    assert len(by_id) == len(sources)
    kinds = {s.kind for s in sources}
    assert {"rss", "hkma_api", "sfc_api", "html_index"} <= kinds
    # The HKMA API in both languages, each with the RSS feed it falls back to.
    for source_id, lang in (("hkma-press", "en"), ("hkma-press-tc", "tc")):
        assert by_id[source_id].options["api_lang"] == lang
        assert by_id[source_id].options["fallback_urls"]
    hosts = " ".join(url for s in sources for url in s.urls)
    for expected in (
        "api.hkma.gov.hk/public/press-releases",
        "rss_press-release.xml",
        "rss_circulars.xml",
        "apps.sfc.hk/edistributionWeb/api/news/search",
        "apps.sfc.hk/edistributionWeb/api/circular/search",
        "apps.sfc.hk/edistributionWeb/api/consultation/search",
        "sfc.hk/en/RSS-Feeds/Press-releases",
        "fintechnews.hk/feed/",
        "cointelegraph.com/rss/tag/regulation",
        "coinpedia.org/feed/",
        "scmp.com/rss/92/feed",
        "theblock.co/rss.xml",
        "coindesk.com/arc/outboundfeeds/rss/",
        "regulationasia.com/feed/",
        "finextra.com/rss/headlines.aspx",
        "info.gov.hk/gia/rss/general_en.xml",
        "ainvest.com",
    ):
        assert expected in hosts, expected
    regulators = {s.id for s in sources if s.regulator}
    assert all(i.startswith(("hkma-", "sfc-")) for i in regulators)
    assert by_id["hkma-press"].namespace == by_id["hkma-rss-press"].namespace


def test_a_valid_minimal_entry_gets_defaults(tmp_path: Path) -> None:
    [source] = load_sources(write(tmp_path, VALID_ENTRY))
    assert source.lang == "en"
    assert source.enabled and not source.regulator
    assert source.doc_type == "news"
    assert source.namespace == "example-feed"


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ('id = "Bad Id"', "'id'"),
        ('kind = "telepathy"', "'kind'"),
        ('urls = ["ftp://example.org/x"]', "'urls[0]'"),
        ("urls = []", "'urls'"),
        ('lang = "klingon"', "'lang'"),
        ('doc_type = "gossip"', "'doc_type'"),
        ('regulator = "yes"', "'regulator'"),
        ("id_pattern = '(unclosed'", "'id_pattern'"),
        ("id_pattern = 'no-group'", "'id_pattern'"),
        ('colour = "blue"', "'colour'"),
        ('selectors = { body = "div[[" }', "'selectors.body' is not valid CSS"),
        ('options = { conditional = "no" }', "'options.conditional' must be true or false"),
        ('options = { min_delay = "1s" }', "'options.min_delay' must be a number of seconds"),
        ("options = { min_delay = -1 }", "'options.min_delay' must be a number of seconds"),
        ("options = { time_budget = 0 }", "'options.time_budget' must be more than 0"),
    ],
)
def test_each_mistake_names_file_entry_and_field(tmp_path: Path, entry: str, field: str) -> None:
    key = entry.split("=")[0].strip()
    lines = [line for line in VALID_ENTRY.splitlines() if not line.startswith(f"{key} ")]
    path = write(tmp_path, "\n".join([*lines, entry]))
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    message = str(caught.value)
    assert str(path) in message
    assert field in message
    assert "source" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        VALID_ENTRY
        + '\n[[source]]\nid = "broken-one"\nname = ""\nkind = "rss"\nurls = ["nope"]\n'
        + '\n[[source]]\nid = "broken-two"\nname = "Two"\nkind = "html_index"\n'
        + 'urls = ["https://example.org/"]\n'
        + VALID_ENTRY
    )
    sources, problems = check_sources(write(tmp_path, text))
    assert [s.id for s in sources] == ["example-feed"]
    joined = "\n".join(problems)
    assert "'broken-one': field 'name'" in joined
    assert "'broken-one': field 'urls[0]'" in joined
    assert "'broken-two': field 'selectors.item' is required" in joined
    assert "'example-feed': field 'id' repeats entry #1" in joined
    assert len(problems) == 5


def test_toml_syntax_error_names_the_file_and_position(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_ENTRY + "\n[[source]\nid = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    assert str(path) in str(caught.value)
    assert "line" in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_sources(tmp_path / "absent.toml")


def test_select_sources_by_id_and_unknown_ids(tmp_path: Path) -> None:
    sources = load_sources(REPO / "sources.toml")
    chosen = select_sources(sources, ["hkma-press", "ainvest"])
    assert [s.id for s in chosen] == ["hkma-press", "ainvest"]
    assert select_sources(sources, None) == [s for s in sources if s.enabled]
    with pytest.raises(ConfigError, match="no-such-source"):
        select_sources(sources, ["hkma-press", "no-such-source"])


def test_sitemap_is_a_source_kind(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_ENTRY.replace('kind = "rss"', 'kind = "sitemap"'))
    [source] = load_sources(path)
    assert source.kind == "sitemap"
