"""SQLAlchemy tables owned by the payments context."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Uuid

from agora.platform.db.columns import money, uuid_primary_key, versioned_timestamps
from agora.platform.db.schema import Timestamp, metadata

payments = Table(
    "payments",
    metadata,
    uuid_primary_key(),
    Column("order_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("provider", String(40), nullable=False),
    Column("provider_reference", String(100), nullable=True),
    *money("amount"),
    Column("status", String(20), nullable=False),
    Column("failure_reason", String(60), nullable=True),
    Column("refunded_amount", BigInteger, nullable=False),
    *versioned_timestamps(),
    # order_id while the payment holds money (pending, authorized, captured), else NULL:
    # the unique index makes a second live payment, hence a second capture, impossible.
    Column("active_order_id", Uuid, nullable=True),
    Index("ix_payments_order_id", "order_id"),
    Index("ix_payments_provider_provider_reference", "provider", "provider_reference"),
    Index("uq_payments_active_order_id", "active_order_id", unique=True),
)

payment_webhook_events = Table(
    "payment_webhook_events",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("type", String(60), nullable=False),
    Column("received_at", Timestamp, nullable=False),
)
