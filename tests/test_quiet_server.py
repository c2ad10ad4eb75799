"""The embedded Prefect server's shutdown logging is quietened, unless the operator chose."""

from __future__ import annotations

import logging
import os

import pytest

from flows.quiet import QUIET_PREFECT_ENVIRONMENT, quiet_embedded_server


def test_levels_are_set_for_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in QUIET_PREFECT_ENVIRONMENT:
        # Set first so that the teardown restores the variable's absence too.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    quiet_embedded_server()

    assert os.environ["PREFECT_SERVER_LOGGING_LEVEL"] == "CRITICAL"
    assert os.environ["PREFECT_LOGGING_ROOT_LEVEL"] == "CRITICAL"
    # newswatch's own warnings still reach the console.
    assert logging.getLogger("pipeline.extract").getEffectiveLevel() <= logging.WARNING


def test_a_level_the_operator_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_SERVER_LOGGING_LEVEL", "DEBUG")
    monkeypatch.setenv("PREFECT_LOGGING_ROOT_LEVEL", "WARNING")
    quiet_embedded_server()

    assert os.environ["PREFECT_SERVER_LOGGING_LEVEL"] == "DEBUG"
    assert os.environ["PREFECT_LOGGING_ROOT_LEVEL"] == "WARNING"
