"""worker_status: frames dropped by the capture queue and capture-to-store latency (issue 14)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.add_column(sa.Column("frames_dropped", sa.Integer(), nullable=False, server_default="0"))
        t.add_column(sa.Column("latency_p50_ms", sa.Float(), nullable=True))
        t.add_column(sa.Column("latency_p95_ms", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.drop_column("latency_p95_ms")
        t.drop_column("latency_p50_ms")
        t.drop_column("frames_dropped")
