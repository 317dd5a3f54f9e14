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
    Text,
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
)

signing_keys = Table(
    "signing_keys",
    metadata,
    # RFC 7638 thumbprint of the public key: the JWT ``kid``.
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("public_key", Text, nullable=False),  # PEM (SubjectPublicKeyInfo)
    # PKCS#8 DER, AES-256-GCM under a key derived from AGORA_SECRET_KEY, bound to the kid.
    Column("private_key_encrypted", Text, nullable=False),
    # TRUE for the one key that signs, NULL otherwise: the unique constraint admits any
    # number of NULLs and a single TRUE, so two processes can never both activate one.
    Column("active", Boolean, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("retired_at", Timestamp, nullable=True),
    UniqueConstraint("active"),
    CheckConstraint("active IS NULL OR retired_at IS NULL", name="active_not_retired"),
)
