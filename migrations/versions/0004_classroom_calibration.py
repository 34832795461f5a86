"""class size, calibration, ROI, people counts (issue 10)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ROLLUP_SUMS = ("heads_up_sum", "heads_down_sum", "turned_away_sum")


def upgrade() -> None:
    with op.batch_alter_table("cameras") as t:
        t.add_column(sa.Column("class_size", sa.Integer(), nullable=True))
        t.add_column(sa.Column("mounting", sa.String(10), nullable=False, server_default="front"))
        t.add_column(sa.Column("board_mode", sa.String(10), nullable=False, server_default="auto"))
        t.add_column(sa.Column("board_yaw", sa.Float(), nullable=True))
        t.add_column(sa.Column("board_pitch", sa.Float(), nullable=True))
        t.add_column(sa.Column("roi", sa.Text(), nullable=True))
    with op.batch_alter_table("class_sessions") as t:
        t.add_column(sa.Column("attention_basis", sa.String(20), nullable=True))
        t.add_column(sa.Column("class_size", sa.Integer(), nullable=True))
    with op.batch_alter_table("observations") as t:
        t.add_column(sa.Column("posture", sa.String(10), nullable=True))
    with op.batch_alter_table("session_rollups") as t:
        for name in _ROLLUP_SUMS:
            t.add_column(sa.Column(name, sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("session_rollups") as t:
        for name in _ROLLUP_SUMS:
            t.drop_column(name)
    with op.batch_alter_table("observations") as t:
        t.drop_column("posture")
    with op.batch_alter_table("class_sessions") as t:
        t.drop_column("class_size")
        t.drop_column("attention_basis")
    with op.batch_alter_table("cameras") as t:
        for name in ("roi", "board_pitch", "board_yaw", "board_mode", "mounting", "class_size"):
            t.drop_column(name)
