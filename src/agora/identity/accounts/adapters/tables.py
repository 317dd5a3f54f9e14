"""The one-time tokens mailed to users (email verification, password reset)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from agora.platform.db.columns import created_at, owning_user, uuid_primary_key
from agora.platform.db.schema import Timestamp, metadata

# One-time tokens mailed to users (email verification, password reset). At most a few
# per user: issuing a new one deletes the user's older ones of the same purpose.
email_tokens = Table(
    "email_tokens",
    metadata,
    uuid_primary_key(),
    owning_user(),
    Column("purpose", String(32), nullable=False),
    # The address the link was sent to: verifying proves control of this address only.
    Column("email", String(254), nullable=False),
    # SHA-256 hex of the token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False),
    created_at(),
    Column("expires_at", Timestamp, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    UniqueConstraint("token_hash"),
    CheckConstraint("purpose IN ('verify_email', 'reset_password')", name="purpose"),
    Index("ix_email_tokens_user_id", "user_id"),
    Index("ix_email_tokens_expires_at", "expires_at"),
)
