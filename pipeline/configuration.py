"""The three configuration files of a run, loaded together and checked against each other.

``sources.toml`` (``pipeline.config``), ``taxonomy.toml`` (``pipeline.taxonomy``) and
``alerts.toml`` (``pipeline.alerts.config``) each check themselves; the alert rules are also
checked against the sources and the taxonomy they name. Every problem of every file is
collected in one pass.

An alert channel that cannot deliver in this environment (an unset variable in its URL, a URL
Apprise cannot read) is a problem ``newswatch sources check`` reports, but not one that stops
a run: the run stores articles and queues alerts, and that channel's alerts fail at sending
while the others go out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.alerts.config import AlertsConfig, channel_problems, load_alerts
from pipeline.config import check_sources
from pipeline.errors import ConfigError
from pipeline.models import Source
from pipeline.settings import ConfigFiles
from pipeline.taxonomy import Taxonomy, load_taxonomy


@dataclass(frozen=True)
class Configuration:
    """What the files held: every valid source, the taxonomy and the alerts, when they loaded.

    ``problems`` is every problem found, channel problems included (``sources check`` prints
    them all); ``channel_problems`` are those of them that concern one alert channel alone.
    """

    files: ConfigFiles
    sources: list[Source]
    taxonomy: Taxonomy | None
    alerts: AlertsConfig | None
    problems: list[str] = field(default_factory=list)
    channel_problems: list[str] = field(default_factory=list)

    @property
    def blocking_problems(self) -> list[str]:
        """The problems that stop a run: all but those of single alert channels."""
        return [problem for problem in self.problems if problem not in self.channel_problems]

    def require(self) -> tuple[list[Source], Taxonomy, AlertsConfig]:
        """Sources, taxonomy and alerts; ``ConfigError`` listing every problem that stops a run
        (a channel that cannot deliver does not: its alerts fail when sent)."""
        blocking = self.blocking_problems
        if blocking or self.taxonomy is None or self.alerts is None:
            raise ConfigError(blocking or ["configuration did not load"])
        return self.sources, self.taxonomy, self.alerts


def check_configuration(files: ConfigFiles) -> Configuration:
    """Load the three files, collecting every problem instead of stopping at the first."""
    sources, problems = check_sources(files.sources.path)
    # A source with a mistake is missing from what loaded; checking the rules against the rest
    # would blame them for naming it, so rules are checked against a clean sources file only.
    known_sources = None if problems else sources
    taxonomy: Taxonomy | None = None
    try:
        taxonomy = load_taxonomy(files.taxonomy.path)
    except ConfigError as exc:
        problems.extend(exc.problems)
    alerts: AlertsConfig | None = None
    channels: list[str] = []
    try:
        alerts = load_alerts(files.alerts.path, sources=known_sources, taxonomy=taxonomy)
    except ConfigError as exc:
        problems.extend(exc.problems)
    else:
        channels = channel_problems(alerts)
        problems.extend(channels)
    return Configuration(files, sources, taxonomy, alerts, problems, channels)


def load_alerts_config(files: ConfigFiles) -> AlertsConfig:
    """``alerts.toml`` alone, checked against the sources and taxonomy when those load (so a
    mistake elsewhere does not stop alerts from being sent); ``ConfigError`` if it is wrong.
    A channel that cannot deliver here is returned with its ``problem`` set, not raised."""
    sources, problems = check_sources(files.sources.path)
    try:
        taxonomy: Taxonomy | None = load_taxonomy(files.taxonomy.path)
    except ConfigError:
        taxonomy = None
    return load_alerts(files.alerts.path, sources=None if problems else sources, taxonomy=taxonomy)
