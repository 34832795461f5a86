"""Alerts and weekly digests sent by mail, each recorded once per episode (issue 24)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as t:
        t.add_column(sa.Column("email", sa.String(320), nullable=True))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
    )
    op.create_index("ix_alerts_kind_camera", "alerts", ["kind", "camera_id"])
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
    )
    op.create_index("ix_digests_week_user", "digests", ["week", "user_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_digests_week_user", table_name="digests")
    op.drop_table("digests")
    op.drop_index("ix_alerts_kind_camera", table_name="alerts")
    op.drop_table("alerts")
    with op.batch_alter_table("users") as t:
        t.drop_column("email")
