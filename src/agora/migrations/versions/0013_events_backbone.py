"""The events backbone: a commit-ordered outbox and the consumers' inboxes.

The outbox is rebuilt with a ``position`` (its commit order), a payload schema
``version`` and room for the relay's dead letters. Rows written before this revision
were never relayed; they are kept as history, marked published, so that consumers
start from the events committed after the upgrade (no mail for last month's orders).

On PostgreSQL, triggers ``NOTIFY`` the relays and runners of other processes when
rows arrive (once per statement for the outbox), so they wake without polling.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agora.platform.db.schema import JsonDocument, Timestamp

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UNPUBLISHED = sa.text("published_at IS NULL AND dead_at IS NULL")
PENDING = sa.text("status = 'pending'")

NOTIFY_FUNCTIONS = (
    """
CREATE OR REPLACE FUNCTION agora_notify_outbox() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('agora_outbox', '');
    RETURN NULL;
END $$ LANGUAGE plpgsql
""",
    """
CREATE OR REPLACE FUNCTION agora_notify_inbox() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('agora_inbox', NEW.consumer);
    RETURN NULL;
END $$ LANGUAGE plpgsql
""",
)


def upgrade() -> None:
    op.drop_index("ix_outbox_events_published_at_occurred_at", table_name="outbox_events")
    op.rename_table("outbox_events", "outbox_events_v1")
    if op.get_bind().dialect.name == "postgresql":  # constraint names are schema-wide there
        op.execute(
            "ALTER TABLE outbox_events_v1 RENAME CONSTRAINT pk_outbox_events TO pk_outbox_events_v1"
        )
    op.create_table(
        "outbox_events",
        sa.Column("position", Position, autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("payload", JsonDocument, nullable=False),
        sa.Column("occurred_at", Timestamp(), nullable=False),
        sa.Column("published_at", Timestamp(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dead_at", Timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_events_id")),
        sqlite_autoincrement=True,
    )
    op.execute(
        "INSERT INTO outbox_events (id, name, version, aggregate_id, payload, occurred_at,"
        " published_at, attempts)"
        " SELECT id, name, 1, aggregate_id, payload, occurred_at,"
        " COALESCE(published_at, occurred_at), attempts"
        " FROM outbox_events_v1 ORDER BY occurred_at"
    )
    op.drop_table("outbox_events_v1")
    op.create_index(
        "ix_outbox_events_unpublished",
        "outbox_events",
        ["position"],
        postgresql_where=UNPUBLISHED,
        sqlite_where=UNPUBLISHED,
    )
    op.create_index(
        "ix_outbox_events_unpublished_aggregate",
        "outbox_events",
        ["aggregate_id", "position"],
        postgresql_where=UNPUBLISHED,
        sqlite_where=UNPUBLISHED,
    )
    op.create_index("ix_outbox_events_published_at", "outbox_events", ["published_at"])

    op.create_table(
        "event_inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("position", Position, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", Timestamp(), nullable=False),
        sa.Column("payload", JsonDocument, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", Timestamp(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", Timestamp(), nullable=False),
        sa.Column("handled_at", Timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_event_inbox")),
    )
    op.create_index(
        "ix_event_inbox_due",
        "event_inbox",
        ["consumer", "position"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        "ix_event_inbox_pending_aggregate",
        "event_inbox",
        ["consumer", "aggregate_id", "position"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index("ix_event_inbox_status", "event_inbox", ["status", "consumer"])

    if op.get_bind().dialect.name == "postgresql":
        for statement in NOTIFY_FUNCTIONS:
            op.execute(statement)
        op.execute(
            "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events"
            " FOR EACH STATEMENT EXECUTE FUNCTION agora_notify_outbox()"
        )
        op.execute(
            "CREATE TRIGGER event_inbox_notify AFTER INSERT ON event_inbox"
            " FOR EACH ROW EXECUTE FUNCTION agora_notify_inbox()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS event_inbox_notify ON event_inbox")
        op.execute("DROP TRIGGER IF EXISTS outbox_events_notify ON outbox_events")
        op.execute("DROP FUNCTION IF EXISTS agora_notify_inbox()")
        op.execute("DROP FUNCTION IF EXISTS agora_notify_outbox()")
    op.drop_table("event_inbox")
    op.drop_index("ix_outbox_events_published_at", table_name="outbox_events")
    op.drop_index("ix_outbox_events_unpublished_aggregate", table_name="outbox_events")
    op.drop_index("ix_outbox_events_unpublished", table_name="outbox_events")
    op.rename_table("outbox_events", "outbox_events_v2")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE outbox_events_v2 RENAME CONSTRAINT pk_outbox_events TO pk_outbox_events_v2"
        )
        op.execute(
            "ALTER TABLE outbox_events_v2 RENAME CONSTRAINT uq_outbox_events_id"
            " TO uq_outbox_events_v2_id"
        )
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("payload", JsonDocument, nullable=False),
        sa.Column("occurred_at", Timestamp(), nullable=False),
        sa.Column("published_at", Timestamp(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    op.execute(
        "INSERT INTO outbox_events (id, name, aggregate_id, payload, occurred_at,"
        " published_at, attempts) SELECT id, name, aggregate_id, payload, occurred_at,"
        " published_at, attempts FROM outbox_events_v2"
    )
    op.drop_table("outbox_events_v2")
    op.create_index(
        "ix_outbox_events_published_at_occurred_at",
        "outbox_events",
        ["published_at", "occurred_at"],
    )
