"""worker_status: supervisor restarts and last error (issue 14)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.add_column(sa.Column("restarts", sa.Integer(), nullable=False, server_default="0"))
        t.add_column(sa.Column("last_error", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_status") as t:
        t.drop_column("last_error")
        t.drop_column("restarts")
