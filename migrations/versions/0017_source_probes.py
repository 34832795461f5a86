"""source_probes: "Test connection" requests answered by the serve host of the camera (issue 24)

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_probes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("camera_id", sa.Integer(), sa.ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(150), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(200), nullable=True),
        sa.Column("reachable", sa.Boolean(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("fps", sa.Float(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
    )
    op.create_index("ix_source_probes_camera_id", "source_probes", ["camera_id"])
    op.create_index("ix_source_probes_requested_at", "source_probes", ["requested_at"])


def downgrade() -> None:
    op.drop_index("ix_source_probes_requested_at", table_name="source_probes")
    op.drop_index("ix_source_probes_camera_id", table_name="source_probes")
    op.drop_table("source_probes")
