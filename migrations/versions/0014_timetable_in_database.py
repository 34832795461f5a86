"""The timetable in the database: periods, holidays and cancellations edited in the browser (issue 24)

``camera_timetables`` marks a camera whose timetable the database holds (imported from the school TOML once,
or entered in the browser); ``timetable_periods`` are its weekly periods, ``timetable_changes`` its one-off
day changes, ``timetable_holidays`` the school-wide holidays.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_timetables",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("camera_id"),
    )
    op.create_table(
        "timetable_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("label", sa.String(length=150), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timetable_periods_camera_id", "timetable_periods", ["camera_id"])
    op.create_table(
        "timetable_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("start", sa.Time(), nullable=True),
        sa.Column("end", sa.Time(), nullable=True),
        sa.Column("label", sa.String(length=150), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timetable_changes_camera_day", "timetable_changes", ["camera_id", "day"])
    op.create_table(
        "timetable_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first", sa.Date(), nullable=False),
        sa.Column("last", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timetable_holidays_first", "timetable_holidays", ["first"])


def downgrade() -> None:
    op.drop_index("ix_timetable_holidays_first", table_name="timetable_holidays")
    op.drop_table("timetable_holidays")
    op.drop_index("ix_timetable_changes_camera_day", table_name="timetable_changes")
    op.drop_table("timetable_changes")
    op.drop_index("ix_timetable_periods_camera_id", table_name="timetable_periods")
    op.drop_table("timetable_periods")
    op.drop_table("camera_timetables")
