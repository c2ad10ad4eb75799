"""What the tests share besides fixtures: local HTTP servers, and where the repository and the
data folder beside it are.

Test modules import from here as ``support`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

from pathlib import Path

# Tests run in a temporary working directory, so every repository file is named from here.
REPO = Path(__file__).resolve().parents[2]
