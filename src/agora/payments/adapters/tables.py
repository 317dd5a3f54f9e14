"""SQLAlchemy tables owned by the payments context."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Uuid

from agora.platform.db.columns import money, timestamps, uuid_primary_key, versioned_timestamps
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
    # The key the charge was sent to the provider with: how reconciliation asks about it.
    Column("idempotency_key", String(255), nullable=True),
    Index("ix_payments_order_id", "order_id"),
    Index("ix_payments_provider_provider_reference", "provider", "provider_reference"),
    Index("uq_payments_active_order_id", "active_order_id", unique=True),
    # Reconciliation looks for payments left pending or authorized.
    Index("ix_payments_status_updated_at", "status", "updated_at"),
)

payment_webhook_events = Table(
    "payment_webhook_events",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("type", String(60), nullable=False),
    Column("received_at", Timestamp, nullable=False),
)

# The built-in test provider's own book of charges (what a real provider keeps on its side),
# so that a refund or capture works after a restart and from any process.
test_provider_charges = Table(
    "test_provider_charges",
    metadata,
    Column("reference", String(100), primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    *money("amount"),
    Column("status", String(20), nullable=False),
    Column("decline_reason", String(60), nullable=True),
    Column("refunded_amount", BigInteger, nullable=False),
    *timestamps(),
)
