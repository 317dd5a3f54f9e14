"""The access-token signing keys, shared by every process."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, String, Table, Text, UniqueConstraint

from agora.platform.db.columns import created_at
from agora.platform.db.schema import Timestamp, metadata

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
    created_at(),
    Column("retired_at", Timestamp, nullable=True),
    UniqueConstraint("active"),
    CheckConstraint("active IS NULL OR retired_at IS NULL", name="active_not_retired"),
)
