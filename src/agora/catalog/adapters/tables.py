"""SQLAlchemy tables owned by the catalog context.

Search structures are not declared here: the PostgreSQL ``search_vector`` generated
column with its GIN indexes and the SQLite ``products_fts`` FTS5 table with its triggers
are dialect-specific DDL in migration 0003 (see ``adapters/search.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
)
from sqlalchemy.types import CHAR

from agora.platform.db.columns import uuid_primary_key, versioned_timestamps
from agora.platform.db.schema import JsonDocument, Timestamp, metadata

categories = Table(
    "categories",
    metadata,
    uuid_primary_key(),
    Column("slug", String(120), nullable=False),
    Column("name", String(200), nullable=False),
    Column("parent_id", Uuid, ForeignKey("categories.id"), nullable=True),
    *versioned_timestamps(version_default="1"),
    Column("deleted_at", Timestamp, nullable=True),
    UniqueConstraint("slug"),
    Index("ix_categories_parent_id", "parent_id"),
)

products = Table(
    "products",
    metadata,
    uuid_primary_key(),
    Column("sku", String(64), nullable=False),
    Column("slug", String(120), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("price_amount", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("stock", Integer, nullable=False, server_default="0"),
    Column("category_id", Uuid, ForeignKey("categories.id"), nullable=True),
    Column("is_published", Boolean, nullable=False, server_default=false()),
    Column("attributes", JsonDocument, nullable=False),
    *versioned_timestamps(version_default="1"),
    Column("deleted_at", Timestamp, nullable=True),
    UniqueConstraint("sku"),
    UniqueConstraint("slug"),
    CheckConstraint("stock >= 0", name="stock_non_negative"),
    CheckConstraint("price_amount >= 0", name="price_non_negative"),
    # Listing: filter by category, sort by newest / price / name; each sort has an index
    # so "ORDER BY ... LIMIT 20" walks an index instead of sorting the table.
    Index("ix_products_category_id", "category_id"),
    Index("ix_products_created_at", "created_at"),
    Index("ix_products_price_amount", "price_amount"),
    Index("ix_products_name", "name"),
)
