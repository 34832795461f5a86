"""Camera sources set in the browser: credentials kept apart, encrypted; the hosts that serve it (issue 24)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as t:
        t.add_column(sa.Column("configured_source", sa.String(1000), nullable=True))
        t.add_column(sa.Column("source_credentials", sa.Text(), nullable=True))
        t.add_column(sa.Column("serve_hosts", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as t:
        t.drop_column("serve_hosts")
        t.drop_column("source_credentials")
        t.drop_column("configured_source")
