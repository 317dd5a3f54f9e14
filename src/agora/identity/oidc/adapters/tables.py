"""Tables of OpenID Connect login: linked provider identities and pending sign-ins."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, UniqueConstraint

from agora.platform.db.columns import created_at, owning_user, uuid_primary_key
from agora.platform.db.schema import Timestamp, metadata

oidc_identities = Table(
    "oidc_identities",
    metadata,
    uuid_primary_key(),
    owning_user(),
    Column("issuer", String(255), nullable=False),
    # The provider's stable id for the person; the email may change, this does not.
    Column("subject", String(255), nullable=False),
    # The address the provider gave when the link was made, for support and audits.
    Column("email", String(254), nullable=True),
    created_at(),
    UniqueConstraint("issuer", "subject"),
    Index("ix_oidc_identities_user_id", "user_id"),
)

oidc_login_states = Table(
    "oidc_login_states",
    metadata,
    uuid_primary_key(),
    # SHA-256 hex of the state and of the browser-binding cookie, never the values.
    Column("state_hash", String(64), nullable=False),
    Column("browser_hash", String(64), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("redirect_uri", String(2048), nullable=False),
    Column("return_to", String(2048), nullable=True),
    created_at(),
    Column("expires_at", Timestamp, nullable=False),
    Column("used_at", Timestamp, nullable=True),
    UniqueConstraint("state_hash"),
    Index("ix_oidc_login_states_expires_at", "expires_at"),
)
