"""Signing keys and session lifetimes.

Access tokens are signed with asymmetric keys kept in ``signing_keys`` (private halves
encrypted). Refresh-token rows learn when their session began, when it was last used
and whether it is a bearer or a cookie session; existing rows are sessions that began
when the row was written.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agora.platform.db.schema import Timestamp

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("retired_at", Timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("active", name=op.f("uq_signing_keys_active")),
        sa.CheckConstraint(
            "active IS NULL OR retired_at IS NULL",
            name=op.f("ck_signing_keys_active_not_retired"),
        ),
    )

    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("session_started_at", Timestamp(), nullable=True))
        batch.add_column(sa.Column("last_used_at", Timestamp(), nullable=True))
        batch.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="bearer")
        )
    op.execute(
        "UPDATE refresh_tokens SET session_started_at = created_at, last_used_at = created_at"
    )
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.alter_column("session_started_at", existing_type=Timestamp(), nullable=False)
        batch.alter_column("last_used_at", existing_type=Timestamp(), nullable=False)
        batch.alter_column("kind", existing_type=sa.String(length=8), server_default=None)
        batch.create_check_constraint(
            op.f("ck_refresh_tokens_kind"), "kind IN ('bearer', 'cookie')"
        )
    op.create_index(op.f("ix_refresh_tokens_revoked_at"), "refresh_tokens", ["revoked_at"])


def downgrade() -> None:
    # Without the kind, a cookie secret would pass for a refresh token: end those sessions.
    op.execute("DELETE FROM refresh_tokens WHERE kind = 'cookie'")
    op.drop_index(op.f("ix_refresh_tokens_revoked_at"), table_name="refresh_tokens")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_constraint(op.f("ck_refresh_tokens_kind"), type_="check")
        batch.drop_column("kind")
        batch.drop_column("last_used_at")
        batch.drop_column("session_started_at")
    op.drop_table("signing_keys")
