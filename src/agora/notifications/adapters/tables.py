"""SQLAlchemy tables owned by the notifications context.

``mail_messages`` keeps every queued email with its outcome. ``user_id`` has no foreign
key: contexts own their tables, and a message outlives nothing it needs.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, Uuid

from agora.notifications.domain import MAX_ADDRESS_LENGTH, MAX_KIND_LENGTH, MAX_SUBJECT_LENGTH
from agora.platform.db.columns import created_at, uuid_primary_key
from agora.platform.db.schema import Timestamp, metadata

mail_messages = Table(
    "mail_messages",
    metadata,
    uuid_primary_key(),
    Column("recipient", String(MAX_ADDRESS_LENGTH), nullable=False),
    Column("subject", String(MAX_SUBJECT_LENGTH), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=True),
    Column("kind", String(MAX_KIND_LENGTH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("provider_message_id", String(255), nullable=True),
    created_at(),
    Column("sent_at", Timestamp, nullable=True),
    Column("last_attempt_at", Timestamp, nullable=True),
    Column("user_id", Uuid, nullable=True),
    Column("dedupe_key", String(200), nullable=True),
    Index("ix_mail_messages_status_created_at", "status", "created_at"),
    Index("ix_mail_messages_recipient_created_at", "recipient", "created_at"),
    Index("ix_mail_messages_last_attempt_at", "last_attempt_at"),
    Index("ix_mail_messages_user_id", "user_id"),
    Index("uq_mail_messages_dedupe_key", "dedupe_key", unique=True),
)
