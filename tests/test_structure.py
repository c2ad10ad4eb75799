"""The shape of the code, kept without anyone remembering it: small modules and functions, a
docstring on everything public, every production function used by production code, and one home
for each default. The import contracts are in ``.importlinter`` (``lint-imports``, run by
``make test``), the types are checked by mypy there too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import REPO

# A module past this many lines does more than one job: split it along the flow.
MAX_MODULE_LINES = 400
# A function whose body (docstring aside) passes this many lines is several steps in one.
MAX_FUNCTION_LINES = 60
LIBRARY = ("pipeline", "flows")
# Migration scripts are named by revision and describe a schema at a moment; they are not
# modules anyone reads for the flow.
MIGRATION_SCRIPTS = REPO / "pipeline" / "store" / "migrations" / "versions"
# Methods a framework calls by name (SQLAlchemy's TypeDecorator, httpcore's network backend,
# logging's Handler).
FRAMEWORK_HOOKS = frozenset(
    {"process_bind_param", "process_result_value", "connect_unix_socket", "emit"}
)


def modules(*roots: str) -> Iterator[Path]:
    """The Python files under ``roots`` but the migration scripts."""
    for root in roots:
        for path in sorted((REPO / root).rglob("*.py")):
            if MIGRATION_SCRIPTS not in path.parents:
                yield path


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's body, its docstring left out."""
    body = function.body
    if ast.get_docstring(function) is not None and len(body) > 1:
        body = body[1:]
    return (function.end_lineno or body[-1].lineno) - body[0].lineno + 1


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_no_module_passes_the_line_limit() -> None:
    long = {
        relative(path): lines
        for path in modules(*LIBRARY)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_passes_the_line_limit() -> None:
    long = {
        f"{relative(path)}:{function.name}": lines
        for path in modules(*LIBRARY)
        for function in functions(parsed(path))
        if (lines := body_lines(function)) > MAX_FUNCTION_LINES
    }
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def public_definitions(tree: ast.Module) -> Iterator[ast.AST]:
    """Top-level functions and classes, and the methods of those classes (not nested helpers)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node
        if isinstance(node, ast.ClassDef):
            yield from (
                item
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )


def test_every_public_module_class_and_function_has_a_docstring() -> None:
    missing: list[str] = []
    for path in modules(*LIBRARY):
        tree = parsed(path)
        if ast.get_docstring(tree) is None and path.stat().st_size:
            missing.append(relative(path))
        for node in public_definitions(tree):
            assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if node.name.startswith("_") or node.name in FRAMEWORK_HOOKS:
                continue
            if ast.get_docstring(node) is None:
                missing.append(f"{relative(path)}:{node.lineno} {node.name}")
    assert not missing, "no docstring: " + ", ".join(missing)


@dataclass(frozen=True)
class Uses:
    """The names a set of modules refers to (calls, attributes, imports under another name)."""

    names: frozenset[str]

    @classmethod
    def of(cls, *roots: str) -> Uses:
        names: set[str] = set()
        for path in modules(*roots):
            for node in ast.walk(parsed(path)):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.ImportFrom):
                    # ``import x as y``: a use of ``y`` is a use of ``x``.
                    names.update(alias.name for alias in node.names if alias.asname)
        return cls(frozenset(names))


def test_no_production_function_is_called_only_by_tests() -> None:
    production = Uses.of(*LIBRARY, "bench")
    unused: list[str] = []
    for path in modules(*LIBRARY):
        for function in functions(parsed(path)):
            name = function.name
            # Decorated functions are registered by their decorator (CLI commands, flows).
            if name.startswith("_") or function.decorator_list or name in FRAMEWORK_HOOKS:
                continue
            if name not in production.names:
                unused.append(f"{relative(path)}:{name}")
    assert not unused, f"defined but used by no production code: {unused}"


@pytest.mark.parametrize(
    "literal",
    [
        '"sqlite:///newswatch.db"',
        '"Asia/Hong_Kong"',
        '"0 7 * * *"',
        '"sources.toml"',
        '"taxonomy.toml"',
        '"alerts.toml"',
        '"NEWSWATCH_DB_URL"',
        '"NEWSWATCH_CONFIG_DIR"',
    ],
)
def test_each_default_has_one_home(literal: str) -> None:
    homes = [
        relative(path)
        for path in modules(*LIBRARY)
        if literal in path.read_text(encoding="utf-8")
    ]
    assert homes == ["pipeline/settings.py"], homes
