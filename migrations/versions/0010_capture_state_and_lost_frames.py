"""worker_status: the camera's capture state (why, since when) and frames the database refused (issue 21)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.add_column(sa.Column("capture_state", sa.String(20), nullable=True))
        t.add_column(sa.Column("capture_detail", sa.String(500), nullable=True))
        t.add_column(sa.Column("capture_since", sa.DateTime(timezone=True), nullable=True))
        t.add_column(sa.Column("frames_lost", sa.Integer(), nullable=False, server_default="0"))
        t.add_column(sa.Column("store_error", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.drop_column("store_error")
        t.drop_column("frames_lost")
        t.drop_column("capture_since")
        t.drop_column("capture_detail")
        t.drop_column("capture_state")
