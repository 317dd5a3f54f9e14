"""SQLAlchemy tables owned by the audit context.

``audit_records`` is append-only: migration 0011 installs triggers that refuse UPDATE
and DELETE on it (and TRUNCATE on PostgreSQL). ``audit_chain_head`` holds one row, the
last record appended; appenders lock it, so two concurrent records cannot both chain
from the same predecessor.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from agora.platform.db.columns import uuid_primary_key
from agora.platform.db.schema import JsonDocument, Timestamp, metadata

audit_records = Table(
    "audit_records",
    metadata,
    uuid_primary_key(),
    Column("seq", BigInteger, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    # No foreign key: the trail outlives the accounts it mentions, and belongs to no context.
    Column("actor_id", Uuid, nullable=True),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=True),
    Column("target_id", String(128), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("ip", String(45), nullable=True),
    Column("request_id", String(128), nullable=True),
    Column("details", JsonDocument, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("seq"),
    Index("ix_audit_records_actor_id_seq", "actor_id", "seq"),
    Index("ix_audit_records_action_seq", "action", "seq"),
    Index("ix_audit_records_occurred_at", "occurred_at"),
)

audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
