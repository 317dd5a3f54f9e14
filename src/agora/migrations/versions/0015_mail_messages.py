"""Queued mail: every email the platform sends, with its outcome.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agora.platform.db.schema import Timestamp

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("sent_at", Timestamp(), nullable=True),
        sa.Column("last_attempt_at", Timestamp(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
    )
    op.create_index("ix_mail_messages_status_created_at", "mail_messages", ["status", "created_at"])
    op.create_index(
        "ix_mail_messages_recipient_created_at", "mail_messages", ["recipient", "created_at"]
    )
    op.create_index("ix_mail_messages_last_attempt_at", "mail_messages", ["last_attempt_at"])
    op.create_index("ix_mail_messages_user_id", "mail_messages", ["user_id"])
    op.create_index("uq_mail_messages_dedupe_key", "mail_messages", ["dedupe_key"], unique=True)


def downgrade() -> None:
    op.drop_table("mail_messages")
