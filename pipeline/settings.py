"""Where newswatch finds things: the one home of every default, and the configuration files.

Defaults live here and nowhere else: the database URL and its variable, the configuration
directory and file names, the schedules of the deployments, the backoff of failing sources, the
contact and User-Agent sent to sites. Only the standard library is imported, so every command can
read them at no cost.

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
from datetime import timedelta
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
# Every thirty minutes, the regulator sources alone (``regulator = true``): an HKMA or SFC release
# reaches the compliance desk within half an hour of publication, for a dozen light API and feed
# requests a run, well inside what both regulators' sites tolerate. At 07:00 it runs beside the
# daily run; both write by natural keys and claim alerts before sending, so nothing doubles.
REGULATORS_CRON = "*/30 * * * *"

# Backoff of a failing source, so a site that is down is not hammered and the runs stay quick.
# Three failed runs in a row: one or two are the blips every site has (a deploy, a timeout);
# three (1.5 h of regulator runs) mean the site or its format is broken.
BACKOFF_AFTER_FAILURES = 3
# Then the source waits an hour before its next attempt, twice as long after each further
# failure (1 h, 2 h, 4 h …): a short outage costs an hour, a long one few requests.
BACKOFF_FIRST_WAIT = timedelta(hours=1)
# Never longer than a day: a source that came back is read again within a day's news cycle,
# and a run skipping it records why, every time.
BACKOFF_MAX_WAIT = timedelta(hours=24)

# Crashed runs. A run left ``running`` whose process is gone (on the machine that started it)
# is marked ``crashed`` at once; one whose process cannot be checked from here (another
# machine, or a run from before runs recorded their process) once it has written nothing for
# this long. A run writes its heartbeat when it starts and when it records its sources at its
# end. Two hours: a daily run takes minutes; a longer one on another machine (a first run, a
# backfill) shows as crashed until it finishes and records its real status.
RUN_STALE_AFTER = timedelta(hours=2)

# `newswatch health`. A source fails the check after this many failed runs in a row: as many as
# start its backoff, for the same reason (one or two are the blips every site has).
HEALTH_FAILED_RUNS = BACKOFF_AFTER_FAILURES
# The daily run starts every 24 hours (DAILY_CRON); two hours more for a slow run or a late
# start before health says the schedule has stopped.
DAILY_RUN_MAX_AGE = timedelta(hours=26)
# An alert still owed (pending, sending, failed, unknown) this long after it was due: the sender
# runs every five minutes and retries after 5, 10 and 20 minutes, so an hour late means the
# receiver is down, not blipping. A dead alert (out of attempts) fails the check at once.
ALERT_OVERDUE_AFTER = timedelta(hours=1)
# How long a source may bring nothing new (no new article, no copy of one) before health says
# so, by document type: a source's kind says how it is read, not how often it publishes (the
# same RSS kind carries hourly news and yearly consultations). A source overrides it with
# ``expected_every`` in sources.toml.
EXPECTED_NEW_EVERY: Mapping[str, timedelta] = {
    # News outlets publish daily, but many only on working days: Friday evening to Monday
    # morning is 2.6 days.
    "news": timedelta(days=3),
    # HKMA, SFC and government releases come every working day; the longest break is a
    # four-day Easter or Lunar New Year holiday and the evening before it.
    "press_release": timedelta(days=5),
    # A few a month.
    "circular": timedelta(days=30),
    "speech": timedelta(days=30),
    "enforcement": timedelta(days=30),
    # A few a year; LegCo items stop for the summer recess (July to October).
    "guideline": timedelta(days=120),
    "consultation": timedelta(days=120),
    "legco": timedelta(days=120),
}
# A document type not listed above.
EXPECTED_NEW_EVERY_OTHER = timedelta(days=30)

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


def uses_default_contact(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the User-Agent sent to sites names the default contact, not the operator's."""
    return DEFAULT_CONTACT in user_agent(environ)


def default_contact_warning(environ: Mapping[str, str] | None = None) -> str | None:
    """The line a live run prints when sites would see the default contact; else None."""
    if not uses_default_contact(environ):
        return None
    return (
        f"warning: requests name the contact {DEFAULT_CONTACT} in their User-Agent, which every"
        f" site read sees; set {CONTACT_ENV} to an address of yours"
        f" (export {CONTACT_ENV}=news-ops@your-domain)"
    )


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
