"""taxonomy.toml loads and validates; every mistake is named with file, node and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.tag import Tagger, load_taxonomy

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "taxonomy.toml"

BASE = """
[[node]]
id = "hkma"
kind = "entity"
type = "regulator"
name = "Hong Kong Monetary Authority"
aliases = ["HKMA", "金管局"]
case_sensitive = ["HKMA"]
regulator = true

[[node]]
id = "ai"
kind = "topic"
type = "topic"
name = "Artificial intelligence"
aliases = ["AI"]
case_sensitive = ["AI"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(path)
    for problem in caught.value.problems:
        assert str(path) in problem, problem
    return caught.value.problems


def one_problem(tmp_path: Path, text: str) -> str:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    return problems[0]


def test_shipped_taxonomy_loads_with_unique_ids_and_the_two_regulators() -> None:
    taxonomy = load_taxonomy(SHIPPED)
    ids = [node.id for node in taxonomy]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 80
    assert {node.id for node in taxonomy if node.regulator} == {"hkma", "sfc"}
    assert {node.kind for node in taxonomy} == {"entity", "topic"}
    for node in taxonomy:
        if node.parent is not None:
            assert taxonomy.node(node.parent).kind == node.kind, node.id


@pytest.mark.parametrize(
    ("node_id", "names"),
    [
        ("hkma", {"HKMA", "香港金融管理局", "金管局"}),
        (
            "sfc",
            {"SFC", "證券及期貨事務監察委員會", "證監會", "证券及期货事务监察委员会", "证监会"},
        ),
        ("ant-group", {"螞蟻集團", "蚂蚁集团"}),
        ("alipay", {"支付寶", "支付宝"}),
        ("cyberport", {"數碼港", "数码港"}),
        ("hsbc", {"滙豐", "汇丰"}),
        ("standard-chartered", {"渣打"}),
        ("stablecoins", {"穩定幣", "稳定币", "stablecoin"}),
        ("tokenisation", {"tokenization", "代幣化", "代币化"}),
    ],
)
def test_shipped_taxonomy_carries_official_and_chinese_names(node_id: str, names: set[str]) -> None:
    node = load_taxonomy(SHIPPED).node(node_id)
    assert names <= set(node.terms), names - set(node.terms)


def test_shipped_hierarchy_links_affiliates_and_subtopics() -> None:
    taxonomy = load_taxonomy(SHIPPED)
    assert [n.id for n in taxonomy.ancestors("alipayhk")] == ["alipay", "ant-group"]
    assert [n.id for n in taxonomy.ancestors("ant-international")] == ["ant-group"]
    assert taxonomy.node("ai-agents").parent == "ai"
    assert taxonomy.node("genai").parent == "ai"


def test_version_is_a_hash_of_the_parsed_content(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    first = load_taxonomy(path).version
    assert len(first) == 16 and Tagger.from_path(path).version == first
    # comments, blank lines and key order are not content
    reordered = BASE.replace('kind = "topic"\ntype = "topic"', 'type = "topic"\nkind = "topic"')
    assert reordered != BASE
    path.write_text("# a comment\n" + reordered + "\n\n# another\n", encoding="utf-8")
    assert load_taxonomy(path).version == first
    # any change to a node is
    path.write_text(BASE.replace('aliases = ["AI"]', 'aliases = ["AI", "A.I."]'), encoding="utf-8")
    changed = load_taxonomy(path).version
    path.write_text(BASE + '\n[[node]]\nid = "x"\nkind = "topic"\ntype = "topic"\nname = "X"\n')
    added = load_taxonomy(path).version
    assert len({first, changed, added}) == 3


def test_node_info_has_the_declared_fields(tmp_path: Path) -> None:
    tagger = Tagger.from_path(write(tmp_path, BASE))
    node = tagger.node("hkma")
    assert (node.name, node.kind, node.type, node.parent, node.regulator) == (
        "Hong Kong Monetary Authority",
        "entity",
        "regulator",
        None,
        True,
    )
    assert node.case_sensitive == ("HKMA",)
    assert [n.id for n in tagger.nodes] == ["hkma", "ai"]
    with pytest.raises(KeyError, match="no-such-node"):
        tagger.node("no-such-node")


def test_duplicate_id_is_named(tmp_path: Path) -> None:
    text = BASE + '\n[[node]]\nid = "hkma"\nkind = "entity"\ntype = "company"\nname = "Other"\n'
    problem = one_problem(tmp_path, text)
    assert "node 'hkma'" in problem and "field 'id'" in problem and "claimed by both" in problem
    assert "node #1 ('Hong Kong Monetary Authority')" in problem
    assert "node #3 ('Other')" in problem


def test_alias_claimed_by_two_nodes_names_both(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "hk-gov"\nkind = "entity"\ntype = "government"\n'
        'name = "Hong Kong Government"\naliases = ["hkma"]\n'
    )
    problem = one_problem(tmp_path, text)
    assert "'hkma'" in problem and "'hk-gov'" in problem and "field 'aliases'" in problem
    assert "claimed by both" in problem


def test_hyphen_and_space_spellings_are_one_term(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "xb"\nkind = "topic"\ntype = "topic"\n'
        'name = "Cross-border payments"\naliases = ["cross border payments"]\n'
    )
    problem = one_problem(tmp_path, text)
    assert "node 'xb'" in problem and "field 'aliases'" in problem and "repeats" in problem


def test_short_forms_may_shadow_other_nodes_but_not_repeat(tmp_path: Path) -> None:
    person = '\n[[node]]\nid = "{id}"\nkind = "entity"\ntype = "person"\nname = "{name}"\n'
    shadowing = BASE + (
        '\n[[node]]\nid = "ais"\nkind = "topic"\ntype = "topic"\n'
        'name = "Authorized institutions"\nshort_forms = ["AI"]\n'
    )
    assert [n.id for n in load_taxonomy(write(tmp_path, shadowing))] == ["hkma", "ai", "ais"]
    clash = (
        BASE
        + person.format(id="paul-chan", name="Paul Chan")
        + 'short_forms = ["Chan"]\n'
        + person.format(id="fred-chan", name="Fred Chan")
        + 'short_forms = ["Chan"]\n'
    )
    problem = one_problem(tmp_path, clash)
    assert "'paul-chan'" in problem and "'fred-chan'" in problem
    assert "field 'short_forms'" in problem


def test_unknown_parent_is_named(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "ai-agents"\nkind = "topic"\ntype = "topic"\n'
        'name = "AI agents"\nparent = "artificial-intelligence"\n'
    )
    problem = one_problem(tmp_path, text)
    assert "node 'ai-agents'" in problem and "field 'parent'" in problem
    assert "'artificial-intelligence'" in problem


def test_parent_of_another_kind_and_cycles_are_refused(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "sandbox"\nkind = "entity"\ntype = "programme"\n'
        'name = "GenAI Sandbox"\nparent = "ai"\n'
        '\n[[node]]\nid = "a"\nkind = "topic"\ntype = "topic"\nname = "Alpha"\nparent = "b"\n'
        '\n[[node]]\nid = "b"\nkind = "topic"\ntype = "topic"\nname = "Beta"\nparent = "a"\n'
    )
    problems = problems_of(tmp_path, text)
    assert any("node 'sandbox'" in p and "'ai' is a topic" in p for p in problems), problems
    assert any("node 'a'" in p and "cycle" in p for p in problems), problems


def test_bad_kind_and_type_are_named(tmp_path: Path) -> None:
    text = BASE + '\n[[node]]\nid = "x"\nkind = "organisation"\ntype = "company"\nname = "X"\n'
    problem = one_problem(tmp_path, text)
    assert "node 'x'" in problem and "field 'kind'" in problem and "'organisation'" in problem
    text = BASE + '\n[[node]]\nid = "x"\nkind = "topic"\ntype = "company"\nname = "X"\n'
    problem = one_problem(tmp_path, text)
    assert "node 'x'" in problem and "field 'type'" in problem and "'company'" in problem


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    text = '[[node]]\nid = "hkma"\nkind = entity\n'
    problem = one_problem(tmp_path, text)
    assert "line 3" in problem and "column" in problem


def test_missing_unknown_and_misplaced_fields_are_all_reported(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "x"\nkind = "entity"\ntype = "company"\n'
        'keywords = ["y"]\nmin_count = 2\ncolour = "red"\nregulator = true\n'
    )
    problems = problems_of(tmp_path, text)
    joined = "\n".join(problems)
    for expected in (
        "field 'name' is missing",
        "field 'colour' is not a known field",
        "field 'keywords' is only for topics",
        "field 'min_count' is only for topics",
        "field 'regulator' is true but type is 'company'",
    ):
        assert expected in joined, (expected, problems)
    assert all("node 'x'" in p for p in problems)


def test_wrongly_typed_values_are_named(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "x"\nkind = "topic"\ntype = "topic"\nname = "X"\n'
        'aliases = "not a list"\nmin_count = 0\nseed = "zero"\n'
    )
    joined = "\n".join(problems_of(tmp_path, text))
    for field in ("aliases", "min_count", "seed"):
        assert f"field '{field}'" in joined, (field, joined)


def test_case_sensitive_terms_must_be_the_nodes_own(tmp_path: Path) -> None:
    text = BASE.replace('case_sensitive = ["HKMA"]', 'case_sensitive = ["HKMA", "SFC"]')
    problem = one_problem(tmp_path, text)
    assert "node 'hkma'" in problem and "field 'case_sensitive'" in problem and "'SFC'" in problem


def test_missing_file_and_empty_file_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_taxonomy(tmp_path / "missing.toml")
    problem = one_problem(tmp_path, "# nothing here\n")
    assert "no [[node]] tables" in problem


def test_a_chinese_term_with_a_space_matches_as_written(tmp_path: Path) -> None:
    tagger = Tagger.from_path(write(tmp_path, BASE.replace('"金管局"', '"金管 局"')))
    assert [t.id for t in tagger.tag("今日金管 局宣布")] == ["hkma"]
    assert tagger.tag("今日金管局宣布") == []


def test_every_problem_of_a_node_is_reported(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "x"\nkind = "topic"\ntype = "topic"\nname = "X"\n'
        'min_count = 0\ncolour = "red"\ncase_sensitive = ["Y"]\n'
    )
    path = tmp_path / "taxonomy.toml"
    assert problems_of(tmp_path, text) == [
        f"{path}: node 'x': field 'colour' is not a known field",
        f"{path}: node 'x': field 'min_count' must be a whole number ≥ 1",
        f"{path}: node 'x': field 'case_sensitive' lists 'Y', which is not the node's name, an"
        " alias or a keyword",
    ]


def test_a_node_of_unknown_type_still_has_its_terms_checked(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[node]]\nid = "x"\nkind = "entity"\ntype = "compnay"\nname = "X"\naliases = ["HKMA"]\n'
    )
    path = tmp_path / "taxonomy.toml"
    assert problems_of(tmp_path, text) == [
        f"{path}: node 'x': field 'type' is 'compnay'; an entity takes one of regulator,"
        " government, company, person, programme, product, platform, event, place, institution,"
        " organisation, policy, media, publication",
        f"{path}: node 'x': field 'aliases' term 'HKMA' is claimed by both 'hkma' and 'x'",
    ]


@pytest.mark.parametrize(
    ("mistake", "problem"),
    [
        ("min_count = 0", "field 'min_count' must be a whole number ≥ 1"),
        ('type = "topik"', "field 'type' is 'topik'; a topic takes one of topic"),
        ('aliases = "not a list"', "field 'aliases' must be a list of non-empty strings"),
        ('id = "Bad Id"', "field 'id' must be lower-case letters, digits and '-'"),
    ],
)
def test_a_child_is_not_blamed_for_its_parents_problem(
    tmp_path: Path, mistake: str, problem: str
) -> None:
    key = mistake.split(" = ")[0]
    parent_id = "Bad Id" if key == "id" else "payments"
    lines = {"id": '"payments"', "kind": '"topic"', "type": '"topic"', "name": '"Payments"'}
    lines[key] = mistake.split(" = ", 1)[1]
    parent = "".join(f"{field} = {value}\n" for field, value in lines.items())
    child = (
        'id = "faster-payments"\nkind = "topic"\ntype = "topic"\nname = "Faster payments"\n'
        f'parent = "{parent_id}"\n'
    )
    text = BASE + "\n[[node]]\n" + parent + "\n[[node]]\n" + child
    path = tmp_path / "taxonomy.toml"
    assert problems_of(tmp_path, text) == [f"{path}: node '{parent_id}': {problem}"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text: invalid byte 0x89 at offset 0"),
        (b'id = "caf\xe9"\n', "not UTF-8 text: invalid byte 0xe9 at offset 9"),
        ("[[node]]\n".encode("utf-16-le"), "not a text file: NUL byte at offset 1"),
    ],
)
def test_a_binary_file_is_named_with_the_offset(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(path)
    assert caught.value.problems == [f"{path}: {problem}"]


def test_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(tmp_path)
    assert caught.value.problems == [f"{tmp_path}: is a directory, not the taxonomy file"]


RESOLVABLE = BASE + (
    '\n[[node]]\nid = "sandbox"\nkind = "entity"\ntype = "programme"\n'
    'name = "GenAI Sandbox"\naliases = ["Generative AI Sandbox", "生成式人工智能沙盒"]\n'
    '\n[[node]]\nid = "regulatory-sandboxes"\nkind = "topic"\ntype = "topic"\n'
    'name = "Cross-border sandboxes"\naliases = ["Sandbox"]\n'
)


@pytest.mark.parametrize(
    ("name", "kind", "node_id"),
    [
        ("hkma", None, "hkma"),  # id
        ("regulatory-sandboxes", None, "regulatory-sandboxes"),  # id
        ("  hong kong MONETARY authority ", None, "hkma"),  # name
        ("cross border sandboxes", None, "regulatory-sandboxes"),  # name, hyphen as a space
        ("generative ai sandbox", None, "sandbox"),  # English alias
        ("ＧＥＮＥＲＡＴＩＶＥ AI Sandbox", "entity", "sandbox"),  # full-width, NFKC
        ("金管局", None, "hkma"),  # Chinese alias
        ("生成式人工智能沙盒", "entity", "sandbox"),  # Chinese alias
        ("Sandbox", None, "sandbox"),  # one node's id wins over another's alias
        ("Sandbox", "topic", "regulatory-sandboxes"),  # ... unless the kind rules it out
        ("hkma", "topic", None),  # wrong kind
        ("Artificial intelligence", "entity", None),  # wrong kind
        ("Monetary Authority", None, None),  # part of a name
        ("nothing", None, None),
    ],
)
def test_resolve_finds_a_node_by_id_name_or_alias(
    tmp_path: Path, name: str, kind: str | None, node_id: str | None
) -> None:
    taxonomy = load_taxonomy(write(tmp_path, RESOLVABLE))
    found = taxonomy.resolve(name, kind)
    assert (found.id if found else None) == node_id


def test_closest_suggests_known_ids_and_names(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(write(tmp_path, RESOLVABLE))
    assert taxonomy.closest("hkmaa") == ["hkma"]
    assert taxonomy.closest("artifical inteligence") == ["Artificial intelligence"]
    # best first, ids and names alike
    assert taxonomy.closest("sandboxes") == ["sandbox", "GenAI Sandbox", "regulatory-sandboxes"]
    assert taxonomy.closest("sandboxes", n=1) == ["sandbox"]
    assert taxonomy.closest("sandboxes", kind="topic") == ["regulatory-sandboxes"]
    assert taxonomy.closest("hkmaa", kind="topic") == []
    assert taxonomy.closest("zzzz") == []
    assert taxonomy.closest("hkma", n=0) == []
