"""The table every identity capability refers to: the users."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from agora.platform.db.columns import uuid_primary_key, versioned_timestamps
from agora.platform.db.schema import Timestamp, metadata

users = Table(
    "users",
    metadata,
    uuid_primary_key(),
    # Stored normalised (trimmed, lower-cased), so a plain unique constraint is enough.
    Column("email", String(254), nullable=False),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("email_verified_at", Timestamp, nullable=True),
    *versioned_timestamps(),
    UniqueConstraint("email"),
    CheckConstraint("role IN ('customer', 'staff', 'admin')", name="role"),
)

# Admins are few among many customers: finding (and locking) them must not scan the table.
Index("ix_users_role", users.c.role)
