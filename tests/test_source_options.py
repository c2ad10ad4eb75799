"""Per-kind source options: declared by each adapter, checked on load with every problem named;
one source's first problem never hides its others; a binary sources.toml is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import check_sources, load_sources
from pipeline.errors import SourceError
from pipeline.models import Source
from pipeline.sources.registry import adapter_options, assigned_doc_types, required_selectors

HKMA = """
[[source]]
id = "hkma"
name = "HKMA press releases"
kind = "hkma_api"
urls = ["https://api.hkma.gov.hk/public/press-releases"]
"""
SFC = """
[[source]]
id = "sfc"
name = "SFC news"
kind = "sfc_api"
urls = ["https://apps.sfc.hk/edistributionWeb/api/news/search"]
"""


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    sources, problems = check_sources(path)
    assert not (sources and problems) or len(sources) < text.count("[[source]]")
    return [problem.removeprefix(f"{path}: ") for problem in problems]


def test_every_kind_declares_its_options_next_to_its_code() -> None:
    assert {o.name for o in adapter_options("hkma_api")} >= {"api_lang", "pagesize"}
    assert {o.name for o in adapter_options("sfc_api")} >= {"endpoint", "page_size"}
    assert {o.name for o in adapter_options("rss")} >= {"body_url"}
    assert {o.name for o in adapter_options("html_index")} >= {"max_pages"}
    assert {o.name for o in adapter_options("sitemap")} >= {"max_sitemaps", "languages"}
    for kind in ("rss", "hkma_api", "sfc_api", "html_index", "sitemap"):
        names = {o.name for o in adapter_options(kind)}
        assert {"conditional", "min_delay", "time_budget"} <= names, kind
        assert all(o.help for o in adapter_options(kind)), kind
    assert required_selectors("html_index") == ("item", "link")
    assert set(assigned_doc_types()) == {"enforcement", "vatp_circular"}


def test_an_unknown_option_is_named_with_the_closest_known_one(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, HKMA + "[source.options]\npagesze = 50\n")
    assert problem.startswith(
        "source 'hkma': field 'options.pagesze' is not an option of this kind"
    )
    assert problem.endswith("did you mean 'pagesize'?")


def test_an_option_of_another_kind_is_refused(tmp_path: Path) -> None:
    text = HKMA.replace('kind = "hkma_api"', 'kind = "rss"') + "[source.options]\npagesize = 5\n"
    [problem] = problems_of(tmp_path, text)
    assert "field 'options.pagesize' is not an option of this kind" in problem


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("pagesize = 0", "field 'options.pagesize' must be a positive integer"),
        ('pagesize = "100"', "field 'options.pagesize' must be a positive integer"),
        ('api_lang = "fr"', "field 'options.api_lang' is 'fr'; expected one of en, tc, sc"),
        (
            'fallback_urls = "https://x.org/f"',
            "field 'options.fallback_urls' must be a list of URLs",
        ),
        (
            'fallback_urls = ["https://x.org/f", "gopher://x"]',
            "field 'options.fallback_urls[1]' 'gopher://x' is not an http(s) URL",
        ),
        ('conditional = "no"', "field 'options.conditional' must be true or false"),
        ("min_delay = -1", "field 'options.min_delay' must be a number of seconds"),
        ("time_budget = 0", "field 'options.time_budget' must be more than 0 seconds"),
    ],
)
def test_wrong_values_are_named(tmp_path: Path, options: str, expected: str) -> None:
    [problem] = problems_of(tmp_path, HKMA + f"[source.options]\n{options}\n")
    assert problem == f"source 'hkma': {expected}"


def test_sfc_endpoint_is_required_and_from_its_set(tmp_path: Path) -> None:
    assert problems_of(tmp_path, SFC) == [
        "source 'sfc': field 'options.endpoint' is required for this kind"
    ]
    [problem] = problems_of(tmp_path, SFC + '[source.options]\nendpoint = "newz"\n')
    assert problem == (
        "source 'sfc': field 'options.endpoint' is 'newz'; expected one of news, circular,"
        " consultation"
    )


def test_body_url_must_be_a_template_with_the_item_id(tmp_path: Path) -> None:
    rss = HKMA.replace('kind = "hkma_api"', 'kind = "rss"')
    [problem] = problems_of(tmp_path, rss + '[source.options]\nbody_url = "https://x.org/b"\n')
    assert problem == (
        "source 'hkma': field 'options.body_url' must be a URL template with {item_id}"
    )
    [other] = problems_of(
        tmp_path, rss + '[source.options]\nbody_url = "https://x.org/{item_id}/{page}"\n'
    )
    assert "no other {…} field" in other


def test_every_problem_of_one_source_is_reported(tmp_path: Path) -> None:
    text = (
        HKMA.replace('id = "hkma"', 'id = "HKMA!"').replace('kind = "hkma_api"', 'kind = "api"')
        + 'lang = "fr"\nregulator = "yes"\ncolour = "red"\n'
        + "[source.selectors]\ntitle = \"h1[\"\n"
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 6, problems
    joined = "\n".join(problems)
    for field in ("'colour'", "'id'", "'kind'", "'lang'", "'regulator'", "'selectors.title'"):
        assert field in joined


def test_a_repeated_id_is_named_even_when_an_entry_has_problems(tmp_path: Path) -> None:
    broken = HKMA + "[source.options]\npagesize = 0\n"
    problems = problems_of(tmp_path, broken + HKMA)
    assert "source 'hkma': field 'options.pagesize' must be a positive integer" in problems
    assert "source 'hkma': field 'id' repeats entry #1" in problems


def test_a_binary_sources_file_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert check_sources(path)[1] == [f"{path}: not UTF-8 text: invalid byte 0x89 at offset 0"]


def test_problems_print_literally(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('title = "x"\n[[source]]\nid = "[red]a"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["sources", "check", "--sources", str(path)])
    assert result.exit_code == 1
    assert "(expected [[source]])" in result.output
    assert "source '[red]a'" in result.output


def test_an_adapter_refuses_a_bad_value_of_a_source_built_in_code() -> None:
    from pipeline.sources.hkma_api import OPTIONS

    source = Source(
        id="coded", name="Coded", kind="hkma_api", urls=("https://x.org",), options={"pagesize": 0}
    )
    with pytest.raises(SourceError, match=r"coded: options.pagesize must be a positive integer"):
        OPTIONS.value(source, "pagesize")
    assert OPTIONS.value(Source(id="d", name="D", kind="hkma_api", urls=()), "pagesize") == 100


def test_shipped_sources_use_only_declared_options() -> None:
    sources = load_sources(REPO / "sources.toml")
    for source in sources:
        declared = {option.name for option in adapter_options(source.kind)}
        assert set(source.options) <= declared, source.id


def test_the_readme_table_names_every_declared_option() -> None:
    from pipeline.fetch.scope import FETCH_OPTIONS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in readme.splitlines()
        if line.startswith("| `") or line.startswith("| every kind")
    }
    for kind in ("rss", "hkma_api", "sfc_api", "html_index", "sitemap"):
        own = {o.name for o in adapter_options(kind)} - {o.name for o in FETCH_OPTIONS}
        for name in own:
            assert f"`{name}`" in rows[kind], (kind, name)
    for option in FETCH_OPTIONS:
        assert f"`{option.name}`" in rows["every kind"], option.name


def test_credentials_in_a_source_url_are_refused_without_being_shown(tmp_path: Path) -> None:
    text = HKMA.replace("https://api.hkma.gov.hk", "https://reader:s3cret@api.hkma.gov.hk")
    [problem] = problems_of(tmp_path, text)
    assert problem == (
        "source 'hkma': field 'urls[0]' holds a user name or password (user:pass@),"
        " which sources.toml must not keep"
    )
    assert "s3cret" not in problem
