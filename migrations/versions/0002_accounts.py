"""user sessions, disabled accounts, case-free unique user names (issue 11)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
    keys = sa.table("users", sa.column("id", sa.Integer), sa.column("username_key", sa.String))
    conn = op.get_bind()
    seen: dict[str, str] = {}
    for uid, name in conn.execute(sa.select(users.c.id, users.c.username)).all():
        key = name.strip().casefold()  # monitor.store.schema.username_key, frozen here
        if key in seen:
            raise RuntimeError(
                f"user names {seen[key]!r} and {name!r} differ only in case; rename one "
                "(with an older version) before upgrading"
            )
        seen[key] = name
        conn.execute(sa.update(keys).where(keys.c.id == uid).values(username_key=key))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=300), nullable=False)
        batch_op.create_unique_constraint("uq_users_username_key", ["username_key"])

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_username_key", type_="unique")
        batch_op.drop_column("is_active")
        batch_op.drop_column("username_key")
