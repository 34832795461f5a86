"""Posture counts per second and per lesson: heads read up, down and away, and heads not readable (issue 20)

The heads-up share is now a share of the READABLE heads. Summing counts (not per-frame shares) lets any bucket
state its base: "3 of 18 readable heads up; 5 not readable". Rows written before this revision keep their old
per-frame shares (``heads_up_sum``), which readers fall back to when a row has faces but no counts.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COUNTS = ("up_heads", "down_heads", "away_heads", "unknown_heads")


def upgrade() -> None:
    for table in ("session_rollups", "lesson_stats"):
        with op.batch_alter_table(table) as t:
            for name in COUNTS:
                t.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    for table in ("session_rollups", "lesson_stats"):
        with op.batch_alter_table(table) as t:
            for name in reversed(COUNTS):
                t.drop_column(name)
