"""worker_status: what reading the camera costs, CPU ms per frame read, frames sample_fps skipped (issue 25)

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.add_column(sa.Column("decode_ms_per_frame", sa.Float(), nullable=True))
        t.add_column(sa.Column("frames_skipped", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.drop_column("frames_skipped")
        t.drop_column("decode_ms_per_frame")
