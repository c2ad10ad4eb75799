"""The suite writes nothing in the working tree: every file a test makes is in its own tmp dir.

``conftest.py`` snapshots the tree when the session starts and runs this test last.
"""

from __future__ import annotations

import pytest
from support import REPO
from support.worktree import SESSION_START, changes, snapshot


def test_the_working_tree_is_as_the_session_found_it(request: pytest.FixtureRequest) -> None:
    found = changes(request.config.stash[SESSION_START], snapshot(REPO))
    assert not found, f"the tests wrote in the working tree {REPO}:\n" + "\n".join(found)
