"""SQLAlchemy tables owned by the ordering context."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Uuid,
)

from agora.platform.db.columns import money, uuid_primary_key, versioned_timestamps
from agora.platform.db.schema import Timestamp, metadata

orders = Table(
    "orders",
    metadata,
    uuid_primary_key(),
    Column("number", String(20), nullable=False, unique=True),
    Column("customer_id", Uuid, nullable=False),
    Column("status", String(20), nullable=False),
    *money("total_amount"),
    Column("payment_status", String(20), nullable=True),
    Column("payment_reference", String(100), nullable=True),
    *versioned_timestamps(),
    Index("ix_orders_customer_id_created_at", "customer_id", "created_at"),
    Index("ix_orders_status_created_at", "status", "created_at"),
    Index("ix_orders_created_at", "created_at"),
)

order_items = Table(
    "order_items",
    metadata,
    Column("order_id", Uuid, ForeignKey("orders.id"), primary_key=True),
    Column("product_id", Uuid, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("line_total", BigInteger, nullable=False),
)

order_status_history = Table(
    "order_status_history",
    metadata,
    uuid_primary_key(),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False),
    Column("from_status", String(20), nullable=True),
    Column("to_status", String(20), nullable=False),
    Column("actor_id", Uuid, nullable=True),
    Column("at", Timestamp, nullable=False),
    Column("reason", String(500), nullable=True),
    Index("ix_order_status_history_order_id_at", "order_id", "at"),
)

cart_items = Table(
    "cart_items",
    metadata,
    Column("customer_id", Uuid, primary_key=True),
    Column("product_id", Uuid, primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("added_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)
