"""Articles keep the source's own change marker (SFC ``modificationTime``).

Revision ID: 0003
Revises: 0001
Create Date: 2025-11-21

A stored item is fetched again only when its source reports a newer marker than this one; the
stored row is then updated in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``articles.source_modified``."""
    # A plain ALTER on both dialects: a batch copy would drop SQLite's full-text triggers.
    op.add_column("articles", sa.Column("source_modified", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop ``articles.source_modified``."""
    op.drop_column("articles", "source_modified")
