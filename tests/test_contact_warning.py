"""A live run whose User-Agent names the default contact says so once, and how to change it.

Sites read by newswatch see the contact in every request's User-Agent; ``ops@example.org`` is
nobody's. The live source here is a tiny feed on a local server, so nothing leaves the machine.
A replayed run reaches no site and stays silent about it (``test_quiet_output.py`` checks that
on its replayed run).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support.cli_process import newswatch
from support.fault_site import FaultSite, answer

from pipeline.settings import (
    CONTACT_ENV,
    DEFAULT_CONTACT,
    USER_AGENT_ENV,
    default_contact_warning,
    uses_default_contact,
)

FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
    b"<title>Local news</title><link>http://127.0.0.1/</link><description>none</description>"
    b"</channel></rss>"
)
OWN_CONTACT = "news-ops@newsroom.test"


def live_ingest(
    site: FaultSite, tmp_path: Path, **environ: str
) -> subprocess.CompletedProcess[str]:
    """``newswatch ingest`` of one feed on ``site``, with ``environ`` over this environment
    less any contact or User-Agent setting."""
    site.set("/feed.xml", answer(FEED, "application/rss+xml"))
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "local-feed"\nname = "Local feed"\nkind = "rss"\n'
        f'urls = ["{site.url}/feed.xml"]\ndoc_type = "news"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in (CONTACT_ENV, USER_AGENT_ENV)}
    env.update(environ)
    db = f"sqlite:///{tmp_path / 'live.db'}"
    return newswatch("ingest", "--sources", str(sources), "--db", db, env=env, cwd=tmp_path)


def test_a_live_run_with_the_default_contact_warns_once(
    fault_site: FaultSite, tmp_path: Path
) -> None:
    result = live_ingest(fault_site, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    [user_agent] = {h["user-agent"] for h in fault_site.headers_of("/feed.xml")}
    assert DEFAULT_CONTACT in user_agent
    warnings = [line for line in result.stderr.splitlines() if DEFAULT_CONTACT in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("warning: ") and f"set {CONTACT_ENV}" in warnings[0]
    assert DEFAULT_CONTACT not in result.stdout


def test_a_live_run_with_the_operators_contact_says_nothing(
    fault_site: FaultSite, tmp_path: Path
) -> None:
    result = live_ingest(fault_site, tmp_path, **{CONTACT_ENV: OWN_CONTACT})

    assert result.returncode == 0, result.stdout + result.stderr
    [user_agent] = {h["user-agent"] for h in fault_site.headers_of("/feed.xml")}
    assert OWN_CONTACT in user_agent
    assert DEFAULT_CONTACT not in result.stdout + result.stderr
    assert CONTACT_ENV not in result.stderr


@pytest.mark.parametrize(
    ("environ", "default"),
    [
        ({}, True),
        ({CONTACT_ENV: ""}, True),
        ({CONTACT_ENV: DEFAULT_CONTACT}, True),
        ({CONTACT_ENV: OWN_CONTACT}, False),
        # A User-Agent of the operator's own replaces the one naming the contact.
        ({USER_AGENT_ENV: f"newsbot/2 (+https://newsroom.test; {OWN_CONTACT})"}, False),
        ({USER_AGENT_ENV: f"newsbot/2 ({DEFAULT_CONTACT})", CONTACT_ENV: OWN_CONTACT}, True),
    ],
)
def test_which_settings_leave_the_default_contact(environ: dict[str, str], default: bool) -> None:
    assert uses_default_contact(environ) is default
    warning = default_contact_warning(environ)
    assert (warning is not None) is default
    if warning is not None:
        assert DEFAULT_CONTACT in warning and CONTACT_ENV in warning
