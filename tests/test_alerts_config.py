"""alerts.toml: every mistake named with file, entry and field (nested conditions and the
[delivery] table included), checked against sources.toml and the taxonomy; rules naming taxonomy
nodes by alias matching the articles tagged with them; channel secrets read from the environment,
never written in the file nor shown in a message; and a channel the environment cannot serve
reported without stopping the load."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.alerts.conditions import MAX_CONDITION_DEPTH
from pipeline.alerts.config import (
    AlertRule,
    AlertsConfig,
    DeliverySettings,
    channel_problems,
    load_alerts,
    retry_delay,
)
from pipeline.alerts.references import ARTICLE_DOC_TYPES
from pipeline.alerts.rules import MatchSubject, matching_rules, rule_matches
from pipeline.alerts.urls import mask_url
from pipeline.cli import app
from pipeline.config import load_sources
from pipeline.configuration import check_configuration, load_alerts_config
from pipeline.errors import ConfigError
from pipeline.models import Article, Source, Tag, TaggedArticle
from pipeline.settings import ConfigFile, ConfigFiles
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
        f"{path}: rule 'regulator-new-item': field 'regulater' is not a known field;"
        " did you mean 'regulator'?"
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
        f"{path}: rule 'r1': field 'channels' must be a list of strings ([\"console\"] for one)",
        f"{path}: rule 'r1': field 'regulator' must be true or false",
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


def test_a_password_written_into_a_url_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[channel]]\nid = "mail"\nkind = "apprise"\nurl = "mailtos://ops:hunter2@"\n'
        '[[channel]]\nid = "hook"\nkind = "apprise"\n'
        'url = "json://ops:pre${HOOK_PASSWORD}@example.org/s3cr3t?token=t0k3n"\n',
    )
    problems = problems_of(path, environ={"HOOK_PASSWORD": "x"})
    advice = "holds a password; write it as ${NAME} and set NAME in the environment"
    assert problems == [
        f"{path}: channel 'mail': field 'url' {advice}",
        # Part of the password is written out: that part is a secret in the file too.
        f"{path}: channel 'hook': field 'url' {advice}",
    ]
    for secret in ("hunter2", "pre", "s3cr3t", "t0k3n", "ops"):
        assert secret not in "\n".join(problems)


def test_an_apprise_url_apprise_cannot_read_is_a_problem_of_that_channel_only(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        rule("") + CHANNELS + '[[channel]]\nid = "hook"\nkind = "apprise"\n'
        'url = "pigeon://ops@example.org/s3cr3t?token=t0k3n"\n',
    )
    config = load_alerts(path, environ={})
    assert config.channels["hook"].problem == (
        f"{path}: channel 'hook': field 'url' is not a URL Apprise can read:"
        " pigeon://***@example.org/***?***"
    )
    assert channel_problems(config) == [config.channels["hook"].problem]
    assert config.channels["console"].problem is None
    assert [r.id for r in config.rules] == ["r1"]


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
    path = write(tmp_path, 'rules = []\nchannel = ["console"]\ndelivery = "24h"\n')
    assert problems_of(path) == [
        f"{path}: top-level key 'rules' is not known (expected [[rule]], [[channel]] or"
        " [delivery]); did you mean 'rule'?",
        f"{path}: channel #1 must be a table",
        f"{path}: top-level key 'delivery' must be a [delivery] table",
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
        f"{path}: rule 'R 1': field 'regulater' is not a known field; did you mean 'regulator'?",
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
        f"{path}: top-level key 'rules' is not known (expected [[rule]], [[channel]] or"
        " [delivery]); did you mean 'rule'?" in output
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
    sources = load_sources(REPO / "sources.toml")
    hkma = {s.id for s in sources if s.id.startswith("hkma-") and s.regulator}
    sfc = {s.id for s in sources if s.id.startswith("sfc-") and s.regulator}
    by_id = {rule.id: rule for rule in config.rules}
    assert list(by_id) == [
        "hkma-new-item",
        "sfc-new-item",
        "sfc-enforcement",
        "hkma-sfc-digital-assets",
    ]
    assert len(hkma) == 8 and len(sfc) == 6

    def matched(rule_id: str) -> set[str]:
        # A pattern such as "hkma-*" covers every HKMA source, and one added later.
        rule = by_id[rule_id]
        return {
            s.id
            for s in sources
            if rule_matches(
                rule,
                MatchSubject.of(
                    regulator=s.regulator,
                    source_id=s.id,
                    doc_type="enforcement",
                    language="en",
                    title="",
                    text="",
                    tags=(),
                ),
            )
        }

    assert matched("hkma-new-item") == hkma
    assert matched("sfc-new-item") == sfc
    enforcement = by_id["sfc-enforcement"]
    assert matched("sfc-enforcement") == sfc and enforcement.doc_types == ("enforcement",)
    assert enforcement.severity == "high"
    digital = by_id["hkma-sfc-digital-assets"]
    assert digital.entities == ("hkma", "sfc")
    assert digital.topics == ("stablecoins", "virtual-assets", "tokenisation")
    assert (digital.mode, digital.digest_at, digital.severity) == ("digest", time(18), "low")
    for shipped in config.rules:
        assert shipped.channels == ("console", "jsonl")
        assert shipped.updates is False
    assert {r.id for r in config.rules if r.mode == "immediate"} == {
        "hkma-new-item",
        "sfc-new-item",
        "sfc-enforcement",
    }
    assert set(config.channels) == {"console", "jsonl"}
    assert config.channels["jsonl"].path == "alerts.jsonl"
    assert channel_problems(config) == []
    assert config.delivery == DeliverySettings(timedelta(hours=24), 6, timedelta(minutes=5))
    # The commented-out examples show secrets as ${NAME} and stay commented out, so the
    # shipped file needs nothing from the environment.
    text = (REPO / "alerts.toml").read_text(encoding="utf-8")
    assert '# url = "mailtos://user:${SMTP_PASSWORD}@smtp.example.com?to=desk@example.com"' in text
    assert '# url = "json://' in text
    assert text == (REPO / "pipeline" / "defaults" / "alerts.toml").read_text(encoding="utf-8")


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


# --- Rules: severity, mode, digest, updates, nested conditions ------------------------------


def test_rule_settings_default_and_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule("", "plain")
        + rule('mode = "digest"', "daily")
        + rule('mode = "digest"\ndigest_at = "07:30"\nseverity = "high"\nupdates = true', "early")
        + CHANNELS,
    )
    plain, daily, early = load_alerts(path).rules
    assert (plain.severity, plain.mode, plain.digest_at, plain.updates) == (
        "normal",
        "immediate",
        None,
        False,
    )
    assert (daily.mode, daily.digest_at) == ("digest", time(18, 0))
    assert (early.severity, early.digest_at, early.updates) == ("high", time(7, 30), True)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            'severity = "urgent"',
            "field 'severity' is 'urgent'; expected 'high', 'normal' or 'low'",
        ),
        (
            'mode = "digets"',
            "field 'mode' is 'digets'; expected 'immediate' or 'digest'; did you mean 'digest'?",
        ),
        (
            'mode = "digest"\ndigest_at = "25:00"',
            "field 'digest_at' is '25:00'; expected a Hong Kong time of day as \"HH:MM\","
            ' such as "18:00"',
        ),
        (
            'mode = "digest"\ndigest_at = "6pm"',
            "field 'digest_at' is '6pm'; expected a Hong Kong time of day as \"HH:MM\","
            ' such as "18:00"',
        ),
        ('digest_at = "18:00"', "field 'digest_at' is only for rules with mode = \"digest\""),
        (
            'mode = "immediate"\ndigest_at = "18:00"',
            "field 'digest_at' is only for rules with mode = \"digest\"",
        ),
        ('updates = "yes"', "field 'updates' must be true or false"),
    ],
)
def test_bad_rule_settings_are_named(tmp_path: Path, body: str, problem: str) -> None:
    path = write(tmp_path, rule(body) + CHANNELS)
    assert problems_of(path) == [f"{path}: rule 'r1': {problem}"]


def test_unknown_fields_inside_any_and_all_are_named_with_their_place(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule(
            'any = [{ regulater = true }, { all = [{ topcis = ["x"] }] }]\n'
            '[[rule.all]]\nsources = ["hkma-press"]\nseverity = "high"\n'
        )
        + CHANNELS,
    )
    assert problems_of(path) == [
        f"{path}: rule 'r1': any #1: field 'regulater' is not a known field;"
        " did you mean 'regulator'?",
        f"{path}: rule 'r1': any #2: all #1: field 'topcis' is not a known field;"
        " did you mean 'topics'?",
        f"{path}: rule 'r1': all #1: field 'severity' belongs to the rule, not to a condition"
        " table",
    ]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("any = []", "field 'any' is an empty list; give it one condition table or more"),
        ("all = []", "field 'all' is an empty list; give it one condition table or more"),
        (
            "any = { regulator = true }",
            "field 'any' must be a list of condition tables ([{…}] for one)",
        ),
        ('all = ["hkma"]', "field 'all' must be a list of condition tables"),
        (
            "any = [{}]",
            "any #1: sets no condition, so it would hold for every article",
        ),
        (
            "any = [{ any = [] }]",
            "any #1: field 'any' is an empty list; give it one condition table or more",
        ),
        ("sources = []", "field 'sources' is an empty list; leave it out to match any"),
        ('keywords = ["--"]', "field 'keywords' holds '--', which has no letter or digit"),
        ("keywords = 3", "field 'keywords' must be a list of strings"),
        (
            'languages = ["english"]',
            "field 'languages' names 'english', which is not a language code such as 'en', 'zh'"
            " or 'zh-hk'",
        ),
        ('query = ""', "field 'query' must be a non-empty string"),
        (
            'query = "-stablecoin -token"',
            "field 'query' can match nothing: it only excludes words; add one to look for",
        ),
        ('query = "((( \\" \\""', "field 'query' can match nothing: no word"),
        ('query = "hkma _"', "field 'query' term '_' holds no letter or digit to look for"),
        (
            f'query = "{"stablecoin " * 50}"',
            "field 'query' is refused: search query is 550 characters long; at most 500 are read",
        ),
        (
            f'query = "{" ".join(f"w{n}" for n in range(33))}"',
            "field 'query' is refused: search query has 33 terms; at most 32 are read",
        ),
    ],
)
def test_bad_conditions_are_named(tmp_path: Path, body: str, problem: str) -> None:
    path = write(tmp_path, rule(body) + CHANNELS)
    assert problems_of(path) == [f"{path}: rule 'r1': {problem}"]


def test_conditions_nest_to_a_limit(tmp_path: Path) -> None:
    nested = "{ regulator = true }"
    for _ in range(MAX_CONDITION_DEPTH):
        nested = f"{{ any = [{nested}] }}"
    path = write(tmp_path, rule(f"all = [{nested}]") + CHANNELS)
    [problem] = problems_of(path)
    assert problem.endswith(
        f"field 'any' nests conditions more than {MAX_CONDITION_DEPTH} levels deep"
    )
    assert problem.startswith(f"{path}: rule 'r1': all #1: any #1: any #1:")


def test_nested_conditions_are_loaded_with_names_resolved(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule(
            'keywords = ["  Hong   Kong ", "穩定幣"]\nquery = \'"monetary authority" OR hkma\'\n'
            'languages = ["zh", "en"]\n'
            'any = [{ entities = ["Ant Financial"] }, { all = [{ topics = ["TOKENIZATION"] }] }]'
        )
        + CHANNELS,
    )
    [loaded] = load_alerts(path, taxonomy=taxonomy(tmp_path)).rules
    assert loaded.keywords == ("Hong Kong", "穩定幣")
    assert loaded.query == '"monetary authority" OR hkma'
    assert loaded.languages == ("zh", "en")
    first, second = loaded.any_of
    assert first.entities == ("ant-group",)
    assert second.all_of[0].topics == ("tokenisation",)
    assert loaded.all_of == ()


def test_nested_rule_names_are_checked_against_sources_and_taxonomy(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule('any = [{ sources = ["hkma-pres"] }, { topics = ["xyzzy"] }]') + CHANNELS,
    )
    assert problems_of(path, sources=SOURCES, taxonomy=taxonomy(tmp_path)) == [
        f"{path}: rule 'r1': any #1: field 'sources' names unknown source 'hkma-pres'"
        " (closest: 'hkma-press')",
        f"{path}: rule 'r1': any #2: field 'topics' names 'xyzzy', which is no topic's id, name"
        " or alias in taxonomy.toml; nothing close",
    ]


def test_a_rule_is_found_by_id_and_an_unknown_id_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, rule("", "first") + rule("", "second") + CHANNELS)
    config = load_alerts(path)
    assert config.rule("second").id == "second"
    message = "alert rule 'thrid' is not declared; declared: first, second"
    with pytest.raises(KeyError) as as_key:
        config.rule("thrid")
    assert str(as_key.value) == message
    with pytest.raises(ConfigError) as as_config:
        AlertsConfig().rule("thrid")
    assert as_config.value.problems == ["alert rule 'thrid' is not declared; declared: none"]


# --- [delivery] ----------------------------------------------------------------------------


def test_delivery_defaults_and_durations(tmp_path: Path) -> None:
    assert load_alerts(write(tmp_path, CHANNELS)).delivery == DeliverySettings(
        initial_window=timedelta(hours=24), max_attempts=6, retry_after=timedelta(minutes=5)
    )
    path = write(
        tmp_path,
        CHANNELS + '[delivery]\ninitial_window = "0h"\nmax_attempts = 3\nretry_after = "1h30m"\n',
    )
    delivery = load_alerts(path).delivery
    assert delivery == DeliverySettings(timedelta(0), 3, timedelta(hours=1, minutes=30))
    path = write(tmp_path, CHANNELS + '[delivery]\ninitial_window = "2d"\nretry_after = "90s"\n')
    assert load_alerts(path).delivery.initial_window == timedelta(days=2)
    assert load_alerts(path).delivery.retry_after == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            'initial_window = "24x"',
            'field \'initial_window\' is \'24x\'; expected a duration such as "90m", "24h" or "2d"',
        ),
        (
            'initial_window = "1.5h"',
            "field 'initial_window' is '1.5h'; expected a duration such as \"90m\", \"24h\" or"
            ' "2d"',
        ),
        (
            "initial_window = 24",
            'field \'initial_window\' must be a duration string such as "90m", "24h" or "2d"',
        ),
        ('initial_window = "400d"', "field 'initial_window' is '400d'; expected at most 366 days"),
        ('retry_after = "0m"', "field 'retry_after' is '0m'; expected a wait above 0"),
        (
            'retry_after = "7h"',
            "field 'retry_after' is '7h'; expected at most 6h, the longest wait between two"
            " attempts",
        ),
        ("max_attempts = 0", "field 'max_attempts' is 0; expected 1 to 100"),
        ('max_attempts = "6"', "field 'max_attempts' must be a whole number"),
        ("max_attempts = true", "field 'max_attempts' must be a whole number"),
        (
            'retry_afer = "5m"',
            "field 'retry_afer' is not a known field; did you mean 'retry_after'?",
        ),
    ],
)
def test_bad_delivery_settings_are_named(tmp_path: Path, body: str, problem: str) -> None:
    path = write(tmp_path, CHANNELS + f"[delivery]\n{body}\n")
    assert problems_of(path) == [f"{path}: [delivery]: {problem}"]


def test_retry_delay_doubles_from_retry_after_up_to_six_hours(tmp_path: Path) -> None:
    path = write(tmp_path, CHANNELS + '[delivery]\nretry_after = "5m"\n')
    config = load_alerts(path)
    waits = [retry_delay(config, attempts) for attempts in range(1, 10)]
    assert waits[:7] == [timedelta(minutes=m) for m in (5, 10, 20, 40, 80, 160, 320)]
    assert waits[7:] == [timedelta(hours=6)] * 2
    assert retry_delay(config.delivery, 2) == timedelta(minutes=10)
    assert retry_delay(config, 10_000) == timedelta(hours=6)
    assert retry_delay(DeliverySettings(retry_after=timedelta(hours=4)), 2) == timedelta(hours=6)


# --- Channels: timeout, secrets from the environment ----------------------------------------

WEBHOOK = '[[channel]]\nid = "hook"\nkind = "apprise"\nurl = "{url}"\n'
SENTINEL = "S3NTINEL-d0-not-print"


def test_channel_timeout_defaults_and_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, WEBHOOK.format(url="json://example.org/hook") + "timeout = 5.5\n")
    assert load_alerts(path).channels["hook"].timeout == 5.5
    path = write(tmp_path, WEBHOOK.format(url="json://example.org/hook"))
    assert load_alerts(path).channels["hook"].timeout == 30.0
    path = write(
        tmp_path,
        '[[channel]]\nid = "console"\nkind = "console"\ntimeout = 5\n'
        + WEBHOOK.format(url="json://example.org/hook")
        + "timeout = 0\n"
        + WEBHOOK.format(url="json://example.org/hook").replace("hook", "slow", 1)
        + "timeout = 30000\n"
        + WEBHOOK.format(url="json://example.org/hook").replace("hook", "text", 1)
        + 'timeout = "30"\n',
    )
    assert problems_of(path) == [
        f"{path}: channel 'console': field 'timeout' is only for channels of kind 'apprise'",
        f"{path}: channel 'hook': field 'timeout' is 0; expected seconds above 0, at most 600",
        f"{path}: channel 'slow': field 'timeout' is 30000; expected seconds above 0, at most 600",
        f"{path}: channel 'text': field 'timeout' must be a number of seconds",
    ]


def test_url_variables_are_expanded_from_the_given_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        WEBHOOK.format(url="json://${HOOK_HOST}/hook?token=${HOOK_TOKEN}")
        + '[[channel]]\nid = "mail"\nkind = "apprise"\n'
        'url = "mailtos://desk:${SMTP_PASSWORD}@smtp.example.com?to=desk@example.com"\n',
    )
    environ = {"HOOK_HOST": "hooks.example.org", "HOOK_TOKEN": SENTINEL, "SMTP_PASSWORD": "pw"}
    config = load_alerts(path, environ=environ)
    hook, mail = config.channels["hook"], config.channels["mail"]
    assert hook.url == f"json://hooks.example.org/hook?token={SENTINEL}"
    assert hook.secrets == ("hooks.example.org", SENTINEL)
    assert mail.url == "mailtos://desk:pw@smtp.example.com?to=desk@example.com"
    assert mail.secrets == ("pw",)
    assert (hook.problem, mail.problem) == (None, None)
    assert channel_problems(config) == []
    # A printed configuration shows neither the URLs nor what they hold.
    assert SENTINEL not in repr(config) and "pw@" not in repr(config)


def test_an_unset_variable_is_a_channel_problem_not_a_load_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule("", "r1").replace('["console"]', '["console", "mail"]')
        + CHANNELS
        + '[[channel]]\nid = "mail"\nkind = "apprise"\n'
        'url = "mailtos://desk:${SMTP_PASSWORD}@smtp.example.com?to=${DESK_ADDRESS}"\n'
        + WEBHOOK.format(url="json://example.org/hook?token=${HOOK_TOKEN}")
        + "enabled = false\n",
    )
    config = load_alerts(path, environ={"DESK_ADDRESS": ""})
    mail = config.channels["mail"]
    expected = (
        f"{path}: channel 'mail': field 'url' needs the environment variables"
        " SMTP_PASSWORD (not set), DESK_ADDRESS (set but empty)"
    )
    assert mail.problem == expected
    # The URL stays as written, with nothing substituted into it.
    assert mail.url == "mailtos://desk:${SMTP_PASSWORD}@smtp.example.com?to=${DESK_ADDRESS}"
    assert mail.secrets == ()
    # The disabled channel lacks its variable too, but sends nothing, so stops nothing.
    assert config.channels["hook"].problem is not None
    assert channel_problems(config) == [expected]
    assert config.channels["console"].problem is None
    assert [r.channels for r in config.rules] == [("console", "mail")]


def test_malformed_variable_references_are_errors_of_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        WEBHOOK.format(url="json://example.org/hook?token=${hook_token}")
        + WEBHOOK.format(url="json://example.org/hook?token=${HOOK_TOKEN").replace(
            "hook", "open", 1
        ),
    )
    assert problems_of(path, environ={"hook_token": SENTINEL}) == [
        f"{path}: channel 'hook': field 'url' names ${{hook_token}}; an environment variable's"
        " name is upper-case letters, digits and '_', such as ${SMTP_PASSWORD}",
        f"{path}: channel 'open': field 'url' holds '${{' without a closing '}}'",
    ]


def test_no_problem_message_ever_holds_a_secret(tmp_path: Path) -> None:
    # Apprise cannot read either URL once expanded; the secrets stand in the host, the path,
    # the query and the password, where a careless message would show them.
    path = write(
        tmp_path,
        rule("regulater = true")
        + CHANNELS
        + WEBHOOK.format(url="pigeon://${HOOK_TOKEN}@example.org/${HOOK_TOKEN}?k=${HOOK_TOKEN}")
        + '[[channel]]\nid = "odd"\nkind = "apprise"\nurl = "pigeon://${ODD_HOST}/x"\n'
        + '[[channel]]\nid = "mail"\nkind = "apprise"\n'
        'url = "mailtos://desk:${SMTP_PASSWORD}@"\n',
    )
    environ = {"HOOK_TOKEN": SENTINEL, "ODD_HOST": SENTINEL, "SMTP_PASSWORD": SENTINEL}
    problems = problems_of(path, environ=environ)
    assert problems[0] == (
        f"{path}: rule 'r1': field 'regulater' is not a known field; did you mean 'regulator'?"
    )
    # With a mistake in the file, the channels' own problems are reported in the same pass.
    assert [p.split(": ")[1] for p in problems[1:]] == [
        "channel 'hook'",
        "channel 'odd'",
        "channel 'mail'",
    ]
    assert all("is not a URL Apprise can read" in p for p in problems[1:])
    joined = "\n".join(problems)
    assert SENTINEL not in joined and SENTINEL.casefold() not in joined.casefold()


def test_every_problem_of_the_file_is_collected_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        rule('severity = "urgent"\nany = [{ regulater = true }]')
        + rule('mode = "digest"\ndigest_at = "6pm"', "r2")
        + CHANNELS
        + WEBHOOK.format(url="json://a:b@example.org/")
        + '[delivery]\nmax_attempts = 0\ninitial_window = "1w"\n',
    )
    problems = problems_of(path)
    assert [p.removeprefix(f"{path}: ") for p in problems] == [
        "channel 'hook': field 'url' holds a password; write it as ${NAME} and set NAME in the"
        " environment",
        "rule 'r1': field 'severity' is 'urgent'; expected 'high', 'normal' or 'low'",
        "rule 'r1': any #1: field 'regulater' is not a known field; did you mean 'regulator'?",
        "rule 'r2': field 'digest_at' is '6pm'; expected a Hong Kong time of day as \"HH:MM\","
        ' such as "18:00"',
        "[delivery]: field 'initial_window' is '1w'; expected a duration such as \"90m\","
        ' "24h" or "2d"',
        "[delivery]: field 'max_attempts' is 0; expected 1 to 100",
    ]


# --- Channel problems in `sources check` and in a run's configuration ------------------------


def configuration_files(alerts: Path) -> ConfigFiles:
    return ConfigFiles(
        sources=ConfigFile(REPO / "sources.toml", "test"),
        taxonomy=ConfigFile(REPO / "taxonomy.toml", "test"),
        alerts=ConfigFile(alerts, "test"),
    )


UNSET = "NEWSWATCH_TEST_UNSET_SMTP_PASSWORD"


def test_channel_problems_fail_sources_check_but_not_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    alerts = write(
        tmp_path,
        rule("regulator = true").replace('["console"]', '["console", "mail"]')
        + CHANNELS
        + '[[channel]]\nid = "mail"\nkind = "apprise"\n'
        f'url = "mailtos://desk:${{{UNSET}}}@smtp.example.com?to=desk@example.com"\n',
    )
    problem = (
        f"{alerts}: channel 'mail': field 'url' needs the environment variable {UNSET} (not set)"
    )
    configuration = check_configuration(configuration_files(alerts))
    assert configuration.problems == [problem]
    assert configuration.channel_problems == [problem]
    assert configuration.blocking_problems == []
    # A run goes on: the configuration is usable and the channel carries its problem.
    _, _, loaded = configuration.require()
    assert loaded.channels["mail"].problem == problem
    assert load_alerts_config(configuration_files(alerts)).channels["mail"].problem
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
            str(alerts),
        ],
    )
    output = result.output + result.stderr
    assert result.exit_code == 1
    assert problem in output
    assert "1 problem(s) found" in output
    monkeypatch.setenv(UNSET, SENTINEL)
    assert check_configuration(configuration_files(alerts)).problems == []


def test_a_mistake_beside_a_channel_problem_still_stops_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    alerts = write(
        tmp_path,
        rule("regulater = true") + CHANNELS + '[[channel]]\nid = "mail"\nkind = "apprise"\n'
        f'url = "mailtos://desk:${{{UNSET}}}@smtp.example.com?to=desk@example.com"\n',
    )
    configuration = check_configuration(configuration_files(alerts))
    assert len(configuration.problems) == 2 and configuration.alerts is None
    with pytest.raises(ConfigError) as caught:
        configuration.require()
    assert [p.split(": ")[1] for p in caught.value.problems] == ["rule 'r1'", "channel 'mail'"]
