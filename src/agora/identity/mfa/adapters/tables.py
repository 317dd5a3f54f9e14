"""Tables of multi-factor authentication: TOTP credentials, recovery codes, login challenges."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from agora.platform.db.columns import created_at, owning_user, timestamps, uuid_primary_key
from agora.platform.db.schema import Timestamp, metadata

totp_credentials = Table(
    "totp_credentials",
    metadata,
    owning_user(primary_key=True),
    # AES-GCM sealed with a key derived from AGORA_SECRET_KEY; never stored in clear.
    Column("secret_ciphertext", String(255), nullable=False),
    Column("confirmed_at", Timestamp, nullable=True),
    # The last accepted TOTP time step: codes at or before it are replays.
    Column("last_used_step", BigInteger, nullable=True),
    Column("failed_attempts", Integer, nullable=False),
    Column("last_failed_at", Timestamp, nullable=True),
    *timestamps(),
)

mfa_recovery_codes = Table(
    "mfa_recovery_codes",
    metadata,
    uuid_primary_key(),
    owning_user(),
    # SHA-256 hex of the salt and the normalised code; the code is shown once, never stored.
    Column("salt", String(32), nullable=False),
    Column("code_hash", String(64), nullable=False),
    created_at(),
    Column("used_at", Timestamp, nullable=True),
    Index("ix_mfa_recovery_codes_user_id", "user_id"),
)

mfa_challenges = Table(
    "mfa_challenges",
    metadata,
    uuid_primary_key(),
    owning_user(),
    Column("token_hash", String(64), nullable=False),
    created_at(),
    Column("expires_at", Timestamp, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    UniqueConstraint("token_hash"),
    Index("ix_mfa_challenges_user_id", "user_id"),
    Index("ix_mfa_challenges_expires_at", "expires_at"),
)
