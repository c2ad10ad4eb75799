"""Which configuration files a command reads: named on the command line, in ``--config DIR`` or
``NEWSWATCH_CONFIG_DIR``, in the current directory, else the defaults shipped in the package."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import ConfigError
from pipeline.settings import CONFIG_DIR_ENV, SHIPPED_CONFIG_DIR, find_config_files

NAMES = ("sources.toml", "taxonomy.toml", "alerts.toml")


def test_the_repository_root_files_are_the_shipped_defaults() -> None:
    for name in NAMES:
        assert (REPO / name).resolve() == (SHIPPED_CONFIG_DIR / name).resolve()
        assert (SHIPPED_CONFIG_DIR / name).is_file()


def test_shipped_defaults_are_used_when_nothing_else_is_found(tmp_path: Path) -> None:
    files = find_config_files(environ={}, cwd=tmp_path)
    assert files.sources.path == SHIPPED_CONFIG_DIR / "sources.toml"
    assert {f.origin for f in (files.sources, files.taxonomy, files.alerts)} == {
        "shipped default"
    }


def test_current_directory_comes_before_the_shipped_defaults(tmp_path: Path) -> None:
    (tmp_path / "alerts.toml").write_text("", encoding="utf-8")
    files = find_config_files(environ={}, cwd=tmp_path)
    assert files.alerts.path == tmp_path / "alerts.toml"
    assert files.alerts.origin == "current directory"
    assert files.sources.origin == "shipped default"


def test_config_dir_comes_before_the_current_directory(tmp_path: Path) -> None:
    mine, here = tmp_path / "mine", tmp_path / "here"
    mine.mkdir()
    here.mkdir()
    for folder in (mine, here):
        (folder / "taxonomy.toml").write_text("", encoding="utf-8")
    files = find_config_files(mine, environ={}, cwd=here)
    assert files.taxonomy.path == mine / "taxonomy.toml"
    assert files.taxonomy.origin == f"--config {mine}"
    # A file the directory lacks is found further down the chain.
    assert files.sources.origin == "shipped default"


def test_environment_names_the_config_dir_and_the_option_wins(tmp_path: Path) -> None:
    from_env, from_option = tmp_path / "env", tmp_path / "option"
    for folder in (from_env, from_option):
        folder.mkdir()
        (folder / "sources.toml").write_text("", encoding="utf-8")
    environ = {CONFIG_DIR_ENV: str(from_env)}
    assert find_config_files(environ=environ, cwd=tmp_path).sources.path == (
        from_env / "sources.toml"
    )
    chosen = find_config_files(from_option, environ=environ, cwd=tmp_path).sources
    assert chosen.path == from_option / "sources.toml"


def test_a_file_named_on_the_command_line_wins_even_if_missing(tmp_path: Path) -> None:
    files = find_config_files(sources="my-sources.toml", environ={}, cwd=tmp_path)
    assert files.sources.path == tmp_path / "my-sources.toml"
    assert files.sources.origin == "--sources"


def test_a_config_dir_that_is_not_a_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--config .*nowhere: not a directory"):
        find_config_files(tmp_path / "nowhere", environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=rf"\${CONFIG_DIR_ENV} .*: not a directory"):
        find_config_files(environ={CONFIG_DIR_ENV: str(tmp_path / "gone")}, cwd=tmp_path)


def test_sources_check_says_which_files_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_DIR_ENV, raising=False)
    (tmp_path / "alerts.toml").write_bytes((SHIPPED_CONFIG_DIR / "alerts.toml").read_bytes())
    result = CliRunner().invoke(app, ["sources", "check"])
    assert result.exit_code == 0, result.output
    assert f"alerts.toml: {tmp_path / 'alerts.toml'} (current directory)" in result.output
    assert f"sources.toml: {SHIPPED_CONFIG_DIR / 'sources.toml'} (shipped default)" in (
        result.output
    )


def test_verbose_names_the_files_and_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_DIR_ENV, raising=False)
    result = CliRunner().invoke(
        app, ["sources", "list", "--verbose", "--config", str(SHIPPED_CONFIG_DIR)]
    )
    assert result.exit_code == 0, result.output
    assert f"sources.toml: {SHIPPED_CONFIG_DIR / 'sources.toml'} (--config" in result.output
    quiet = CliRunner().invoke(app, ["sources", "list"])
    assert "(shipped default)" not in quiet.output


def test_a_missing_config_dir_is_one_line_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sources", "check", "--config", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: --config {tmp_path / 'nope'}: not a directory"
