"""The API keys of integrations."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, UniqueConstraint

from agora.platform.db.columns import created_at, owning_user, uuid_primary_key
from agora.platform.db.schema import Timestamp, metadata

api_keys = Table(
    "api_keys",
    metadata,
    uuid_primary_key(),
    owning_user(),
    Column("name", String(100), nullable=False),
    # The public handle of the key (shown in listings); the key itself is never stored.
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False),
    # Permission values separated by spaces, as OAuth writes scopes.
    Column("scopes", String(255), nullable=False),
    created_at(),
    Column("expires_at", Timestamp, nullable=True),
    Column("last_used_at", Timestamp, nullable=True),
    Column("revoked_at", Timestamp, nullable=True),
    UniqueConstraint("prefix"),
    Index("ix_api_keys_user_id", "user_id"),
)
