"""Tables owned by the shared platform: the transactional outbox, the consumers' inboxes,
idempotency keys and the scheduled jobs' leases."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    text,
)

from agora.platform.db.columns import created_at
from agora.platform.db.schema import JsonDocument, Timestamp, metadata

# ``position`` is the commit order of one aggregate's events: a transaction inserts its
# events just before COMMIT, after taking the aggregate's row lock, so a later change to
# the same aggregate always gets a higher position.
Position = BigInteger().with_variant(Integer, "sqlite")

_UNPUBLISHED = "published_at IS NULL AND dead_at IS NULL"

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("aggregate_id", Uuid, nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("published_at", Timestamp, nullable=True),
    # Publishing attempts, and why the relay parked a row as a dead letter.
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("dead_at", Timestamp, nullable=True),
    Index(
        "ix_outbox_events_unpublished",
        "position",
        postgresql_where=text(_UNPUBLISHED),
        sqlite_where=text(_UNPUBLISHED),
    ),
    Index(
        "ix_outbox_events_unpublished_aggregate",
        "aggregate_id",
        "position",
        postgresql_where=text(_UNPUBLISHED),
        sqlite_where=text(_UNPUBLISHED),
    ),
    Index("ix_outbox_events_published_at", "published_at"),
    # The inbox's ordering guard looks up an aggregate's earlier events (ADR 0029).
    Index("ix_outbox_events_aggregate", "aggregate_id", "position"),
    sqlite_autoincrement=True,
)

_PENDING = "status = 'pending'"

# One row per (consumer, event): the consumer's idempotency record. ``status`` is
# pending until the handler's transaction marks it handled, dead after the last failed
# attempt, and purged when an operator dropped the dead letter (the row stays so that a
# redelivered copy is still ignored).
event_inbox = Table(
    "event_inbox",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("position", Position, nullable=False),
    Column("name", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("aggregate_id", Uuid, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("received_at", Timestamp, nullable=False),
    Column("handled_at", Timestamp, nullable=True),
    Index(
        "ix_event_inbox_due",
        "consumer",
        "position",
        postgresql_where=text(_PENDING),
        sqlite_where=text(_PENDING),
    ),
    Index(
        "ix_event_inbox_pending_aggregate",
        "consumer",
        "aggregate_id",
        "position",
        postgresql_where=text(_PENDING),
        sqlite_where=text(_PENDING),
    ),
    Index("ix_event_inbox_status", "status", "consumer"),
    # The retention job deletes handled rows by age.
    Index("ix_event_inbox_handled_at", "handled_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    created_at(),
    Column("completed_at", Timestamp, nullable=True),
    # The purge of expired keys.
    Index("ix_idempotency_keys_created_at", "created_at"),
)

# One row per scheduled job: its lease (who runs it, until when, under which fencing
# token) and what its last run came to. A lease is taken by a conditional UPDATE of the
# row, so one instance at a time runs the job on SQLite and PostgreSQL alike.
scheduled_jobs = Table(
    "scheduled_jobs",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("lease_owner", String(200), nullable=True),
    Column("lease_until", Timestamp, nullable=True),
    Column("fencing_token", BigInteger, nullable=False, server_default="0"),
    Column("last_started_at", Timestamp, nullable=True),
    Column("last_finished_at", Timestamp, nullable=True),
    Column("last_outcome", String(20), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("next_run_at", Timestamp, nullable=False),
)
