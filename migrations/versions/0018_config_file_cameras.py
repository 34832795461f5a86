"""Cameras a serve runs from its config file, recorded by that serve; the source each connection test tested

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as t:
        t.add_column(sa.Column("file_source", sa.String(1000), nullable=True))
        t.add_column(sa.Column("file_host", sa.String(200), nullable=True))
        t.add_column(sa.Column("file_recorded_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("source_probes") as t:
        t.add_column(sa.Column("tested_source", sa.String(1000), nullable=True))
        t.add_column(sa.Column("tested_from_file", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_probes") as t:
        t.drop_column("tested_from_file")
        t.drop_column("tested_source")
    with op.batch_alter_table("cameras") as t:
        t.drop_column("file_recorded_at")
        t.drop_column("file_host")
        t.drop_column("file_source")
