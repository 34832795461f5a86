"""camera leases, session mode history (issue 11)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_modes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["class_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("session_modes") as batch:
        batch.create_index("ix_session_modes_session_id", ["session_id"], unique=False)
    with op.batch_alter_table("worker_status") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_status") as batch:
        batch.drop_column("lease_owner")
    with op.batch_alter_table("session_modes") as batch:
        batch.drop_index("ix_session_modes_session_id")
    op.drop_table("session_modes")
