"""SQLAlchemy tables owned by the identity context."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from agora.platform.database import Timestamp, metadata

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    # Stored normalised (trimmed, lower-cased), so a plain unique constraint is enough.
    Column("email", String(254), nullable=False),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("email_verified_at", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("email"),
    CheckConstraint("role IN ('customer', 'staff', 'admin')", name="role"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", Uuid, nullable=False),
    # SHA-256 hex of the opaque token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    Column("revoked_at", Timestamp, nullable=True),
    Column("user_agent", String(255), nullable=True),
    Column("ip", String(45), nullable=True),
    UniqueConstraint("token_hash"),
    Index("ix_refresh_tokens_user_id", "user_id"),
    Index("ix_refresh_tokens_family_id", "family_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    # The public handle of the key (shown in listings); the key itself is never stored.
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False),
    # Permission values separated by spaces, as OAuth writes scopes.
    Column("scopes", String(255), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=True),
    Column("last_used_at", Timestamp, nullable=True),
    Column("revoked_at", Timestamp, nullable=True),
    UniqueConstraint("prefix"),
    Index("ix_api_keys_user_id", "user_id"),
)

# Admins are few among many customers: finding (and locking) them must not scan the table.
Index("ix_users_role", users.c.role)
