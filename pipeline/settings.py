"""Where newswatch finds things: the one home of every default, and the configuration files.

Defaults live here and nowhere else: the database URL and its variable, the configuration
directory and file names, the schedule of the daily run, the contact and User-Agent sent to
sites. Only the standard library is imported, so every command can read them at no cost.

Configuration files are found per file, first match wins:

1. the file named on the command line (``--sources``, ``--taxonomy``, ``--alerts``);
2. in the configuration directory (``--config DIR``, else ``$NEWSWATCH_CONFIG_DIR``);
3. in the current directory;
4. the defaults shipped inside the package (``pipeline/defaults/``; the files at the
   repository's root are the same files).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

DB_URL_ENV = "NEWSWATCH_DB_URL"
# A file in the current directory: a first run needs no server and no setup.
DEFAULT_DB_URL = "sqlite:///newswatch.db"

CONFIG_DIR_ENV = "NEWSWATCH_CONFIG_DIR"
SOURCES_FILE = "sources.toml"
TAXONOMY_FILE = "taxonomy.toml"
ALERTS_FILE = "alerts.toml"
SHIPPED_CONFIG_DIR = Path(__file__).resolve().parent / "defaults"

# Every time a source, a person or a schedule gives without a zone is Hong Kong time.
HONG_KONG_TZ = "Asia/Hong_Kong"
# 07:00 Hong Kong time: after the regulators' evening releases, before the compliance desk's day.
DAILY_CRON = "0 7 * * *"
# Every five minutes: a digest goes out within five minutes of its hour, and a failed delivery
# is retried soon after its wait ends.
SEND_ALERTS_CRON = "*/5 * * * *"

# Internal hosts and networks the fetcher may reach (see pipeline/fetch/guard.py).
ALLOW_HOSTS_ENV = "NEWSWATCH_ALLOW_HOSTS"

USER_AGENT_ENV = "NEWSWATCH_USER_AGENT"
CONTACT_ENV = "NEWSWATCH_CONTACT"
DEFAULT_CONTACT = "ops@example.org"
USER_AGENT_TEMPLATE = "newswatch/0.1 (+https://example.org/newswatch; {contact})"
DEFAULT_USER_AGENT = USER_AGENT_TEMPLATE.format(contact=DEFAULT_CONTACT)


def user_agent(environ: Mapping[str, str] | None = None) -> str:
    """The User-Agent requests carry: ``$NEWSWATCH_USER_AGENT``, else one naming the contact."""
    env = os.environ if environ is None else environ
    contact = env.get(CONTACT_ENV) or DEFAULT_CONTACT
    return env.get(USER_AGENT_ENV) or USER_AGENT_TEMPLATE.format(contact=contact)


@dataclass(frozen=True)
class ConfigFile:
    """One configuration file a command reads, and why that one."""

    path: Path
    origin: str

    def describe(self, label: str) -> str:
        """A line saying which file is used for ``label`` and where it was found."""
        return f"{label}: {self.path} ({self.origin})"


@dataclass(frozen=True)
class ConfigFiles:
    """The three configuration files a run reads."""

    sources: ConfigFile
    taxonomy: ConfigFile
    alerts: ConfigFile

    def describe(self) -> list[str]:
        """One line per file: which file, and where it was found."""
        return [
            self.sources.describe(SOURCES_FILE),
            self.taxonomy.describe(TAXONOMY_FILE),
            self.alerts.describe(ALERTS_FILE),
        ]


def find_config_files(
    config_dir: str | Path | None = None,
    *,
    sources: str | Path | None = None,
    taxonomy: str | Path | None = None,
    alerts: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ConfigFiles:
    """Which sources, taxonomy and alerts files to read (see the module docstring).

    ``ConfigError`` when a configuration directory is named but is not a directory.
    """
    env = os.environ if environ is None else environ
    here = (cwd or Path.cwd()).resolve()
    directory, origin = _config_dir(config_dir, env, here)
    return ConfigFiles(
        sources=_find(SOURCES_FILE, sources, "--sources", directory, origin, here),
        taxonomy=_find(TAXONOMY_FILE, taxonomy, "--taxonomy", directory, origin, here),
        alerts=_find(ALERTS_FILE, alerts, "--alerts", directory, origin, here),
    )


def _config_dir(
    given: str | Path | None, env: Mapping[str, str], here: Path
) -> tuple[Path | None, str]:
    if given is not None and str(given) != "":
        origin, raw = "--config", str(given)
    elif env.get(CONFIG_DIR_ENV):
        origin, raw = f"${CONFIG_DIR_ENV}", env[CONFIG_DIR_ENV]
    else:
        return None, ""
    directory = (here / Path(raw).expanduser()).resolve()
    if not directory.is_dir():
        raise ConfigError(f"{origin} {raw}: not a directory")
    return directory, f"{origin} {raw}"


def _find(
    name: str,
    explicit: str | Path | None,
    option: str,
    directory: Path | None,
    directory_origin: str,
    here: Path,
) -> ConfigFile:
    if explicit is not None and str(explicit) != "":
        return ConfigFile((here / Path(explicit).expanduser()).resolve(), option)
    if directory is not None and (directory / name).is_file():
        return ConfigFile(directory / name, directory_origin)
    if (here / name).is_file():
        return ConfigFile(here / name, "current directory")
    return ConfigFile(SHIPPED_CONFIG_DIR / name, "shipped default")
