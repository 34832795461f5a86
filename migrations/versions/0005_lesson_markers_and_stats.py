"""lesson markers and cached per-lesson figures (issue 13)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lesson_markers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["class_sessions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lesson_markers", schema=None) as batch_op:
        batch_op.create_index("ix_lesson_markers_session_at", ["session_id", "at"], unique=False)
    op.create_table(
        "lesson_stats",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("attention_sum", sa.Float(), nullable=False),
        sa.Column("engagement_sum", sa.Float(), nullable=False),
        sa.Column("heads_up_sum", sa.Float(), nullable=False),
        sa.Column("people_typical", sa.Float(), nullable=True),
        sa.Column("people_peak", sa.Float(), nullable=True),
        sa.Column("sparkline", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["class_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id"),
    )


def downgrade() -> None:
    op.drop_table("lesson_stats")
    with op.batch_alter_table("lesson_markers", schema=None) as batch_op:
        batch_op.drop_index("ix_lesson_markers_session_at")
    op.drop_table("lesson_markers")
