"""The columns many tables declare alike, each a function: a ``Column`` belongs to one table.

A table reads ``Table("orders", metadata, uuid_primary_key(), ..., *versioned_timestamps())``;
what only one table has stays spelled out where it is.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Uuid

from agora.platform.db.schema import Timestamp


def uuid_primary_key() -> Column[UUID]:
    """``id``: the row's UUIDv7, made by the application (``agora.platform.ids.new_id``)."""
    return Column("id", Uuid, primary_key=True)


def owning_user(*, primary_key: bool = False) -> Column[UUID]:
    """``user_id``: the owning user; the row goes when the user does (ON DELETE CASCADE)."""
    if primary_key:
        return Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    return Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def created_at() -> Column[datetime]:
    """``created_at``: when the row was written first."""
    return Column("created_at", Timestamp, nullable=False)


def timestamps() -> tuple[Column[datetime], Column[datetime]]:
    """``created_at`` and ``updated_at``, for rows that change."""
    return created_at(), Column("updated_at", Timestamp, nullable=False)


def versioned_timestamps(
    *, version_default: str | None = None
) -> tuple[Column[datetime], Column[datetime], Column[int]]:
    """``created_at``, ``updated_at`` and ``version``, the optimistic-lock counter that an
    update checks and raises (``version_default``: its server default, if the table has one)."""
    version: Column[int] = Column(
        "version", Integer, nullable=False, server_default=version_default
    )
    return (*timestamps(), version)


def money(amount: str) -> tuple[Column[int], Column[str]]:
    """``amount`` in minor units (cents) and its ISO 4217 ``currency``."""
    return Column(amount, BigInteger, nullable=False), Column("currency", String(3), nullable=False)
