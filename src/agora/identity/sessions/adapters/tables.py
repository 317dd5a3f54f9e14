"""The sessions' table: refresh tokens (bearer sessions' rotating secrets, cookie sessions)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Index,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    false,
)

from agora.platform.db.columns import created_at, owning_user, uuid_primary_key
from agora.platform.db.schema import Timestamp, metadata

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    uuid_primary_key(),
    owning_user(),
    Column("family_id", Uuid, nullable=False),
    # SHA-256 hex of the opaque token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False),
    created_at(),
    Column("expires_at", Timestamp, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    Column("revoked_at", Timestamp, nullable=True),
    Column("user_agent", String(255), nullable=True),
    Column("ip", String(45), nullable=True),
    # Opened with a second factor; the default covers sessions from before MFA existed.
    Column("mfa", Boolean, nullable=False, server_default=false()),
    # When the family (the session) began: rotation never extends it past the absolute
    # lifetime. ``last_used_at`` is the rotation time, or a cookie session's last request.
    Column("session_started_at", Timestamp, nullable=False),
    Column("last_used_at", Timestamp, nullable=False),
    Column("kind", String(8), nullable=False),
    UniqueConstraint("token_hash"),
    CheckConstraint("kind IN ('bearer', 'cookie')", name="kind"),
    Index("ix_refresh_tokens_user_id", "user_id"),
    Index("ix_refresh_tokens_family_id", "family_id"),
    # Every process polls recent revocations to refuse those sessions' access tokens.
    Index("ix_refresh_tokens_revoked_at", "revoked_at"),
    # The purge of ended sessions.
    Index("ix_refresh_tokens_expires_at", "expires_at"),
)
