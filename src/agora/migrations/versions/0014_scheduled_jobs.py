"""Scheduled jobs: a lease row per job, and what the housekeeping jobs look things up by.

``scheduled_jobs`` holds one row per job: who holds its lease until when, the fencing
token raised on every acquisition, and the last run's outcome and error. Payments keep
the idempotency key their charge was sent with, so the reconciliation job can ask the
provider about a charge whose answer was never recorded. The indexes serve the jobs'
searches for what is stuck or expired.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agora.platform.db.schema import Timestamp

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_payments_status_updated_at", "payments", ["status", "updated_at"]),
    ("ix_email_tokens_expires_at", "email_tokens", ["expires_at"]),
    ("ix_refresh_tokens_expires_at", "refresh_tokens", ["expires_at"]),
    ("ix_mfa_challenges_expires_at", "mfa_challenges", ["expires_at"]),
    ("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"]),
    ("ix_event_inbox_handled_at", "event_inbox", ["handled_at"]),
)


def upgrade() -> None:
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", Timestamp(), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_started_at", Timestamp(), nullable=True),
        sa.Column("last_finished_at", Timestamp(), nullable=True),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_run_at", Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduled_jobs")),
    )
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("idempotency_key")
    op.drop_table("scheduled_jobs")
