"""Story-term keys filed in their fortnight's range of the key space.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

A story term's key (``article_keys``, 0005) was the term's hash mixed with its fortnight's
number, so each fortnight's keys lay all over the index. They now hold the fortnight in their
high bits and the term's hash in their low ones (``pipeline.stories.features``), so one
fortnight's keys lie together and a batch touches a few pages of the index, not one per key.

A new article looks up the story terms of its own fortnight and the nearer one only, so the
articles of the latest weeks are the ones whose terms must be found in the new form: each key
of every article dated within ``LOOKBACK_DAYS`` is also filed in the new form. The old mixing
was invertible (an odd multiplier modulo 2⁶⁴), so a term's hash comes back from its key and its
article's date. A key that was a signature band or a reference, not a term, gives a key that
nothing looks up; ``newswatch stories rebuild`` files every article afresh. Bands need nothing:
the eight looked up now are the first eight of the sixteen filed before.

Downgrade: nothing to undo. The old keys were kept, and 0013's code never looks up the new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision. A lookup reads its own fortnight and the nearer one (up to 21 days
# back), and a run may store an article dated a little in the past: three fortnights back.
LOOKBACK_DAYS = 42
PERIOD_DAYS = 14
# The old form: ((term ^ (period * GOLDEN)) * MIX) modulo 2**64, as a signed 64-bit integer.
GOLDEN = 0x9E3779B97F4A7C15
MIX = 0xBF58476D1CE4E5B9
LOW_64 = (1 << 64) - 1
MIX_INVERSE = pow(MIX, -1, 1 << 64)
# The new form: the period above bit 43, the term's low 43 bits below it.
PERIOD_SHIFT = 43
TERM_MASK = (1 << PERIOD_SHIFT) - 1
PERIOD_MASK = (1 << (63 - PERIOD_SHIFT)) - 1
BATCH = 5_000

# An article's day as ``date.toordinal()`` counts it, from its UTC time (published, else first
# seen), in each dialect's own date arithmetic.
ORDINAL_DAY = {
    "sqlite": "CAST(julianday(date(COALESCE(a.published_at, a.first_seen_at))) - 1721424.5"
    " AS INTEGER)",
    # The UTC day, whatever the session's time zone.
    "postgresql": "(CAST(COALESCE(a.published_at, a.first_seen_at) AT TIME ZONE 'UTC' AS DATE)"
    " - DATE '0001-01-01') + 1",
}
INSERT = {
    "sqlite": "INSERT OR IGNORE INTO article_keys (key, article_id) VALUES (:key, :article_id)",
    "postgresql": "INSERT INTO article_keys (key, article_id) VALUES (:key, :article_id)"
    " ON CONFLICT DO NOTHING",
}


def new_form(key: int, period: int) -> int:
    """The key a term filed as ``key`` in ``period`` has now."""
    term = ((key & LOW_64) * MIX_INVERSE & LOW_64) ^ (period * GOLDEN & LOW_64)
    return ((period & PERIOD_MASK) << PERIOD_SHIFT) | (term & TERM_MASK)


def upgrade() -> None:
    """File the latest weeks' articles' story terms in the new form too."""
    bind = op.get_bind()
    dialect = bind.dialect.name
    since = datetime.now(UTC) - timedelta(days=LOOKBACK_DAYS)
    # SQLite holds UTC times as text, which compares as text; Postgres compares instants.
    bound: object = since.strftime("%Y-%m-%d %H:%M:%S") if dialect == "sqlite" else since
    rows = bind.execute(
        sa.text(
            f"SELECT k.key, k.article_id, {ORDINAL_DAY[dialect]} AS day"
            " FROM article_keys AS k JOIN articles AS a ON a.id = k.article_id"
            " WHERE COALESCE(a.published_at, a.first_seen_at) >= :since"
        ),
        {"since": bound},
    ).all()
    added = [
        {"key": new_form(key, day // PERIOD_DAYS), "article_id": article_id}
        for key, article_id, day in rows
    ]
    for start in range(0, len(added), BATCH):
        bind.execute(sa.text(INSERT[dialect]), added[start : start + BATCH])


def downgrade() -> None:
    """Nothing to undo: the old keys are still filed."""
