"""The three configuration files of a run, loaded together and checked against each other.

``sources.toml`` (``pipeline.config``), ``taxonomy.toml`` (``pipeline.taxonomy``) and
``alerts.toml`` (``pipeline.alerts.config``) each check themselves; the alert rules are also
checked against the sources and the taxonomy they name. Every problem of every file is
collected in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.alerts.config import AlertsConfig, load_alerts
from pipeline.config import check_sources
from pipeline.errors import ConfigError
from pipeline.models import Source
from pipeline.settings import ConfigFiles
from pipeline.taxonomy import Taxonomy, load_taxonomy


@dataclass(frozen=True)
class Configuration:
    """What the files held: every valid source, the taxonomy and the alerts, when they loaded."""

    files: ConfigFiles
    sources: list[Source]
    taxonomy: Taxonomy | None
    alerts: AlertsConfig | None
    problems: list[str] = field(default_factory=list)

    def require(self) -> tuple[list[Source], Taxonomy, AlertsConfig]:
        """Sources, taxonomy and alerts; ``ConfigError`` listing every problem if any."""
        if self.problems or self.taxonomy is None or self.alerts is None:
            raise ConfigError(self.problems or ["configuration did not load"])
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
    try:
        alerts = load_alerts(files.alerts.path, sources=known_sources, taxonomy=taxonomy)
    except ConfigError as exc:
        problems.extend(exc.problems)
    return Configuration(files, sources, taxonomy, alerts, problems)


def load_alerts_config(files: ConfigFiles) -> AlertsConfig:
    """``alerts.toml`` alone, checked against the sources and taxonomy when those load (so a
    mistake elsewhere does not stop alerts from being sent); ``ConfigError`` if it is wrong."""
    sources, problems = check_sources(files.sources.path)
    try:
        taxonomy: Taxonomy | None = load_taxonomy(files.taxonomy.path)
    except ConfigError:
        taxonomy = None
    return load_alerts(
        files.alerts.path, sources=None if problems else sources, taxonomy=taxonomy
    )
