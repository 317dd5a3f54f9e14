"""Tables of multi-factor authentication: TOTP credentials, recovery codes, login challenges."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from agora.platform.db.schema import Timestamp, metadata

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
