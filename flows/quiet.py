"""Keep the embedded Prefect API server's shutdown chatter off the operator's terminal.

A command-line run without ``PREFECT_API_URL`` starts a temporary API server in a child
process. When the command ends right after its flow, that server's event recorder and its
SQLite pool are cancelled mid-flush and log tracebacks at ERROR level. They concern Prefect's
own scratch database, not the run: the run's outcome is stored in newswatch's database and
printed. The child reads its logging levels from the environment when it starts, so they are
set here, before Prefect is imported; a value the operator set is kept.
"""

from __future__ import annotations

import logging
import os

QUIET_PREFECT_ENVIRONMENT = {
    # The ``prefect.server`` and ``uvicorn`` loggers of the temporary server.
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    # Unconfigured libraries in the server (its SQLAlchemy pool) log through the root logger.
    "PREFECT_LOGGING_ROOT_LEVEL": "CRITICAL",
}
# newswatch's own loggers keep their warnings even though the root logger is quieter.
OWN_LOGGERS = ("pipeline", "flows")


def quiet_embedded_server() -> None:
    """Set the embedded server's log levels (unless already set); call before importing flows."""
    for name, value in QUIET_PREFECT_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for name in OWN_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
