"""SQLAlchemy tables owned by the identity context."""

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

from agora.platform.db.schema import Timestamp, metadata

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
# -- multi-factor authentication --

totp_credentials = Table(
    "totp_credentials",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # AES-GCM sealed with a key derived from AGORA_SECRET_KEY; never stored in clear.
    Column("secret_ciphertext", String(255), nullable=False),
    Column("confirmed_at", Timestamp, nullable=True),
    # The last accepted TOTP time step: codes at or before it are replays.
    Column("last_used_step", BigInteger, nullable=True),
    Column("failed_attempts", Integer, nullable=False),
    Column("last_failed_at", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

mfa_recovery_codes = Table(
    "mfa_recovery_codes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # SHA-256 hex of the salt and the normalised code; the code is shown once, never stored.
    Column("salt", String(32), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    Index("ix_mfa_recovery_codes_user_id", "user_id"),
)

mfa_challenges = Table(
    "mfa_challenges",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    UniqueConstraint("token_hash"),
    Index("ix_mfa_challenges_user_id", "user_id"),
)

# One-time tokens mailed to users (email verification, password reset). At most a few
# per user: issuing a new one deletes the user's older ones of the same purpose.
email_tokens = Table(
    "email_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(32), nullable=False),
    # The address the link was sent to: verifying proves control of this address only.
    Column("email", String(254), nullable=False),
    # SHA-256 hex of the token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    UniqueConstraint("token_hash"),
    CheckConstraint("purpose IN ('verify_email', 'reset_password')", name="purpose"),
    Index("ix_email_tokens_user_id", "user_id"),
)
