"""Tables owned by the shared platform: the transactional outbox and idempotency keys."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, Uuid

from agora.platform.db.columns import created_at, uuid_primary_key
from agora.platform.db.schema import JsonDocument, Timestamp, metadata

outbox_events = Table(
    "outbox_events",
    metadata,
    uuid_primary_key(),
    Column("name", String(120), nullable=False),
    Column("aggregate_id", Uuid, nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("published_at", Timestamp, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("ix_outbox_events_published_at_occurred_at", "published_at", "occurred_at"),
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
)
