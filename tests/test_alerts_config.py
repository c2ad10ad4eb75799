"""alerts.toml: every mistake named with file, entry and field, checked against sources.toml and
the taxonomy, and rules naming taxonomy nodes by alias matching the articles tagged with them."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.alerts.config import AlertRule, load_alerts
from pipeline.alerts.references import ARTICLE_DOC_TYPES
from pipeline.alerts.rules import matching_rules
from pipeline.alerts.urls import mask_url
from pipeline.cli import app
from pipeline.config import load_sources
from pipeline.errors import ConfigError
from pipeline.models import Article, Source, Tag, TaggedArticle
from pipeline.taxonomy import Taxonomy, load_taxonomy

REPO = Path(__file__).resolve().parents[1]

CHANNELS = '[[channel]]\nid = "console"\nkind = "console"\n'
TAXONOMY = """
[[node]]
id = "ant-group"
kind = "entity"
type = "company"
name = "Ant Group"
aliases = ["Ant Financial"]

[[node]]
id = "hkma"
kind = "entity"
type = "regulator"
name = "Hong Kong Monetary Authority"
aliases = ["HKMA"]
regulator = true

[[node]]
id = "tokenisation"
kind = "topic"
type = "topic"
name = "Tokenisation"
aliases = ["tokenization"]

[[node]]
id = "stablecoins"
kind = "topic"
type = "topic"
name = "Stablecoins"
aliases = ["stablecoin"]
"""
SOURCES = [
    Source(id="hkma-press", name="HKMA", kind="hkma_api", urls=("https://x.example/",)),
    Source(id="sfc-news", name="SFC", kind="sfc_api", urls=("https://y.example/",)),
]


def write(tmp_path: Path, text: str, name: str = "alerts.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def taxonomy(tmp_path: Path) -> Taxonomy:
    return load_taxonomy(write(tmp_path, TAXONOMY, "taxonomy.toml"))


def problems_of(path: Path, **known: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_alerts(path, **known)  # type: ignore[arg-type]
    return caught.value.problems


def rule(body: str, ident: str = "r1") -> str:
    return f'[[rule]]\nid = "{ident}"\nchannels = ["console"]\n{body}\n'


def test_unknown_field_regulater_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, rule("regulater = true", "regulator-new-item") + CHANNELS)
    assert problems_of(path) == [
        f"{path}: rule 'regulator-new-item': field 'regulater' is not a known field"
    ]


def test_duplicate_rule_ids_name_both_entries(tmp_path: Path) -> None:
    path = write(tmp_path, rule("", "r1") + rule("", "r2") + rule("", "r1") + CHANNELS)
    assert problems_of(path) == [
        f"{path}: rule 'r1': field 'id' is claimed by both rule #1 and rule #3"
    ]


def test_duplicate_channel_ids_name_both_entries(tmp_path: Path) -> None:
    path = write(tmp_path, CHANNELS + CHANNELS)
    assert problems_of(path) == [
        f"{path}: channel 'console': field 'id' is claimed by both channel #1 and channel #2"
    ]


def test_rule_naming_an_unknown_channel_lists_the_declared_ones(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rule]]\nid = "r1"\nchannels = ["console", "pager"]\n' + CHANNELS)
    assert problems_of(path) == [
        f"{path}: rule 'r1': field 'channels' names unknown channel 'pager'; declared: console"
    ]


def test_rule_naming_an_unknown_source_suggests_the_closest_ids(tmp_path: Path) -> None:
    path = write(tmp_path, rule('sources = ["hkma-pres", "sfc-news"]') + CHANNELS)
    assert problems_of(path, sources=SOURCES) == [
        f"{path}: rule 'r1': field 'sources' names unknown source 'hkma-pres'"
        " (closest: 'hkma-press')"
    ]
    # Without the sources, a rule's source ids cannot be checked and are taken as written.
    [loaded] = load_alerts(path).rules
    assert loaded.sources == ("hkma-pres", "sfc-news")


def test_unknown_doc_type_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, rule('doc_types = ["press", "vatp_circular", "enforcement"]') + CHANNELS)
    assert problems_of(path) == [
        f"{path}: rule 'r1': field 'doc_types' names unknown doc type 'press'; expected one of"
        " press_release, circular, consultation, speech, guideline, legco, news, enforcement,"
        " vatp_circular"
    ]
    assert {"vatp_circular", "enforcement", "press_release"} <= set(ARTICLE_DOC_TYPES)


def test_unknown_entity_lists_the_closest_names(tmp_path: Path) -> None:
    path = write(tmp_path, rule('entities = ["Ant Grup", "Stablecoins"]') + CHANNELS)
    assert problems_of(path, taxonomy=taxonomy(tmp_path)) == [
        f"{path}: rule 'r1': field 'entities' names 'Ant Grup', which is no entity's id, name or"
        " alias in taxonomy.toml; closest: 'Ant Group'",
        f"{path}: rule 'r1': field 'entities' names 'Stablecoins', which is the topic"
        " 'stablecoins' in taxonomy.toml, not an entity",
    ]


def test_unknown_topic_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, rule('topics = ["stablecoinz", "xyzzy", "HKMA"]') + CHANNELS)
    assert problems_of(path, taxonomy=taxonomy(tmp_path)) == [
        f"{path}: rule 'r1': field 'topics' names 'stablecoinz', which is no topic's id, name or"
        " alias in taxonomy.toml; closest: 'stablecoin', 'Stablecoins'",
        f"{path}: rule 'r1': field 'topics' names 'xyzzy', which is no topic's id, name or alias"
        " in taxonomy.toml; nothing close",
        f"{path}: rule 'r1': field 'topics' names 'HKMA', which is the entity 'hkma' in"
        " taxonomy.toml, not a topic",
    ]


def test_names_and_aliases_are_stored_as_node_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule(
            'entities = ["Ant Financial", "hong kong monetary authority", "ce:Foo Securities"]\n'
            'topics = ["TOKENIZATION", "category:regulation", "stablecoins"]'
        )
        + CHANNELS,
    )
    [loaded] = load_alerts(path, taxonomy=taxonomy(tmp_path)).rules
    assert loaded.entities == ("ant-group", "hkma", "ce:Foo Securities")
    assert loaded.topics == ("tokenisation", "category:regulation", "stablecoins")


def test_rule_naming_a_topic_by_alias_matches_an_article_tagged_with_it(tmp_path: Path) -> None:
    path = write(tmp_path, rule('topics = ["tokenization"]') + CHANNELS)
    [loaded] = load_alerts(path, taxonomy=taxonomy(tmp_path)).rules
    article = Article(
        url="https://example.org/1",
        title="Tokenised deposits pilot",
        text="The pilot tokenises deposits. " * 10,
        canonical_url="https://example.org/1",
        published_at=datetime(2025, 11, 3, tzinfo=UTC),
        source_id="scmp-business",
    )
    tag = Tag(id="tokenisation", name="Tokenisation", kind="topic", type="topic", count=2)
    tagged = TaggedArticle(article=article, tags=(tag,), content_hash="h")
    assert matching_rules([loaded], tagged) == [loaded]
    assert matching_rules([loaded], TaggedArticle(article=article, tags=(), content_hash="h")) == []
    # Loaded without the taxonomy, a rule naming a node by its name still matches.
    by_name = AlertRule(id="n", channels=("console",), topics=("tokenisation",))
    assert matching_rules([by_name], tagged) == [by_name]


def test_wrong_types_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rule]]\nid = "r1"\nchannels = "console"\nregulator = "yes"\nsources = [1]\n'
        "description = 3\n"
        '[[channel]]\nid = "console"\nkind = "console"\nenabled = "no"\ndescription = false\n',
    )
    assert problems_of(path) == [
        f"{path}: channel 'console': field 'enabled' must be true or false",
        f"{path}: channel 'console': field 'description' must be a string",
        f"{path}: rule 'r1': field 'description' must be a string",
        f"{path}: rule 'r1': field 'regulator' must be true or false",
        f"{path}: rule 'r1': field 'channels' must be a list of strings ([\"console\"] for one)",
        f"{path}: rule 'r1': field 'sources' must be a list of strings",
    ]


def test_missing_required_fields_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[rule]]\ndescription = "no id"\n[[rule]]\nid = "r2"\nchannels = []\n'
        '[[channel]]\nid = "file"\nkind = "jsonl"\n[[channel]]\nid = "hook"\nkind = "apprise"\n'
        '[[channel]]\nid = "nokind"\n',
    )
    assert problems_of(path) == [
        f"{path}: channel 'file': field 'path' is required for a channel of kind 'jsonl'",
        f"{path}: channel 'hook': field 'url' is required for a channel of kind 'apprise'",
        f"{path}: channel 'nokind': field 'kind' is missing",
        f"{path}: rule #1: field 'id' is missing",
        f"{path}: rule #1: field 'channels' is missing",
        f"{path}: rule 'r2': field 'channels' must name at least one channel",
    ]


def test_unparsable_apprise_url_is_named_without_its_password(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[channel]]\nid = "mail"\nkind = "apprise"\nurl = "mailtos://ops:hunter2@"\n'
        '[[channel]]\nid = "hook"\nkind = "apprise"\n'
        'url = "pigeon://ops:hunter2@example.org/s3cr3t?token=t0k3n"\n',
    )
    problems = problems_of(path)
    assert problems == [
        f"{path}: channel 'mail': field 'url' is not a URL Apprise can read: mailtos://***@",
        f"{path}: channel 'hook': field 'url' is not a URL Apprise can read:"
        " pigeon://***@example.org/***?***",
    ]
    for secret in ("hunter2", "s3cr3t", "t0k3n", "ops"):
        assert secret not in "\n".join(problems)


def test_mask_url_shows_scheme_and_host_at_most() -> None:
    assert mask_url("json://127.0.0.1:8080/hook?key=abc") == "json://127.0.0.1:8080/***?***"
    assert mask_url("tgram://123456:ABCDEF/chat") == "tgram://***"
    assert mask_url("user:password") == "*** (no scheme://)"


def test_binary_file_names_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_bytes(b"# alerts\n\x89PNG\r\n\x1a\n\x00\x00")
    assert problems_of(path) == [f"{path}: not UTF-8 text: invalid byte 0x89 at offset 9"]
    path.write_bytes("# alerts\n".encode("utf-16-le"))
    assert problems_of(path) == [f"{path}: not a text file: NUL byte at offset 1"]
    [problem] = problems_of(tmp_path)
    assert problem == f"{tmp_path}: is a directory, not the alerts file"


def test_invalid_toml_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rule]]\nid = r1\nchannels = ["console"]\n')
    assert problems_of(path) == [f"{path}: not valid TOML at line 2, column 6: Invalid value"]


def test_missing_file_and_unknown_top_level_keys(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "absent.toml") == [f"{tmp_path / 'absent.toml'}: file not found"]
    path = write(tmp_path, 'rules = []\nchannel = ["console"]\n')
    assert problems_of(path) == [
        f"{path}: top-level key 'rules' is not known (expected [[rule]] or [[channel]])",
        f"{path}: channel #1 must be a table",
    ]


def test_every_problem_of_one_entry_is_reported_together(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[channel]]\nid = "Pager!"\nkind = "pigeon"\nurl = 3\ncolour = "red"\nenabled = 1\n'
        '[[rule]]\nid = "R 1"\nchannels = ["nowhere"]\ndoc_types = ["memo"]\nregulater = true\n',
    )
    assert problems_of(path) == [
        f"{path}: channel 'Pager!': field 'colour' is not a known field",
        f"{path}: channel 'Pager!': field 'id' must be lower-case letters, digits and '-'",
        f"{path}: channel 'Pager!': field 'kind' is 'pigeon'; expected one of console, jsonl,"
        " apprise",
        f"{path}: channel 'Pager!': field 'url' must be a non-empty string",
        f"{path}: channel 'Pager!': field 'enabled' must be true or false",
        f"{path}: rule 'R 1': field 'regulater' is not a known field",
        f"{path}: rule 'R 1': field 'id' must be lower-case letters, digits and '-'",
        f"{path}: rule 'R 1': field 'channels' names unknown channel 'nowhere'; declared: Pager!",
        f"{path}: rule 'R 1': field 'doc_types' names unknown doc type 'memo'; expected one of "
        + ", ".join(ARTICLE_DOC_TYPES),
    ]


def test_sources_check_prints_problems_literally(tmp_path: Path) -> None:
    path = write(tmp_path, 'rules = []\n[[rule]]\nid = "r1"\nchannels = ["console"]\n"[red]" = 1\n')
    result = CliRunner().invoke(
        app,
        [
            "sources",
            "check",
            "--sources",
            str(REPO / "sources.toml"),
            "--taxonomy",
            str(REPO / "taxonomy.toml"),
            "--alerts",
            str(path),
        ],
    )
    assert result.exit_code == 1
    output = result.output + result.stderr
    assert (
        f"{path}: top-level key 'rules' is not known (expected [[rule]] or [[channel]])" in output
    )
    assert f"{path}: rule 'r1': field '[red]' is not a known field" in output
    assert "channel 'console'" in output  # the rule names a channel the file does not declare
    assert "3 problem(s) found" in output


def test_sources_check_checks_rules_against_sources_and_taxonomy(tmp_path: Path) -> None:
    path = write(tmp_path, rule('sources = ["hkma-pres"]\nentities = ["Ant Grup"]') + CHANNELS)
    result = CliRunner().invoke(
        app,
        [
            "sources",
            "check",
            "--sources",
            str(REPO / "sources.toml"),
            "--taxonomy",
            str(REPO / "taxonomy.toml"),
            "--alerts",
            str(path),
        ],
    )
    output = result.output + result.stderr
    assert result.exit_code == 1
    assert f"{path}: rule 'r1': field 'sources' names unknown source 'hkma-pres'" in output
    assert f"{path}: rule 'r1': field 'entities' names 'Ant Grup'" in output
    assert "2 problem(s) found" in output


def test_shipped_alerts_load_against_shipped_sources_and_taxonomy() -> None:
    config = load_alerts(
        REPO / "alerts.toml",
        sources=load_sources(REPO / "sources.toml"),
        taxonomy=load_taxonomy(REPO / "taxonomy.toml"),
    )
    [regulator_rule] = config.rules
    assert regulator_rule.regulator is True
    assert (regulator_rule.sources, regulator_rule.entities, regulator_rule.topics) == ((), (), ())
    assert set(regulator_rule.channels) == {"console", "jsonl"} == set(config.channels)
    assert config.channels["jsonl"].path == "alerts.jsonl"


def test_loading_alerts_config_imports_no_database_flow_or_apprise() -> None:
    script = (
        "import sys\n"
        "from pipeline.alerts.config import load_alerts\n"
        f"load_alerts({str(REPO / 'alerts.toml')!r})\n"
        "print(sorted(m for m in ('sqlalchemy', 'prefect', 'apprise') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
