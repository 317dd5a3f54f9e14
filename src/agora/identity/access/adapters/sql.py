"""The SQL API key repository (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.access.adapters.tables import api_keys
from agora.identity.access.domain import ApiKey
from agora.identity.adapters.tables import users
from agora.identity.domain import User
from agora.platform.access import Permission
from agora.platform.db.rows import record_of, values_of
from agora.platform.errors import AlreadyExistsError


def _api_key(row: Row[Any]) -> ApiKey:
    return record_of(
        ApiKey,
        row,
        # A permission that a later release removed simply stops being granted.
        scopes=frozenset(
            Permission(value)
            for value in row.scopes.split()
            if value in Permission._value2member_map_
        ),
    )


class SqlApiKeyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, key: ApiKey) -> None:
        try:
            await self._conn.execute(
                insert(api_keys).values(
                    values_of(key, scopes=" ".join(sorted(scope.value for scope in key.scopes)))
                )
            )
        except IntegrityError:
            raise AlreadyExistsError("An API key with this prefix exists.") from None

    async def find_with_owner(self, prefix: str) -> tuple[ApiKey, User] | None:
        owner = users.alias("owner")
        row = (
            await self._conn.execute(
                select(api_keys, *(c.label(f"owner_{c.name}") for c in owner.c))
                .join(owner, owner.c.id == api_keys.c.user_id)
                .where(api_keys.c.prefix == prefix)
            )
        ).first()
        if row is None:
            return None
        # The owner's columns, renamed back, so they read like a users row.
        owner_row = {c.name: row._mapping[f"owner_{c.name}"] for c in owner.c}
        return _api_key(row), record_of(User, owner_row)

    async def list_for_user(self, user_id: UUID) -> list[ApiKey]:
        rows = await self._conn.execute(
            select(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        )
        return [_api_key(row) for row in rows]

    async def count_usable(self, user_id: UUID, now: datetime) -> int:
        count = await self._conn.scalar(
            select(func.count())
            .select_from(api_keys)
            .where(
                api_keys.c.user_id == user_id,
                api_keys.c.revoked_at.is_(None),
                or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now),
            )
        )
        return int(count or 0)

    async def revoke(self, key_id: UUID, user_id: UUID, now: datetime) -> ApiKey | None:
        # The owner is part of the condition: another user's key id matches nothing.
        result = await self._conn.execute(
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                api_keys.c.user_id == user_id,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        if result.rowcount != 1:
            return None
        row = (await self._conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return None if row is None else _api_key(row)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> int:
        result = await self._conn.execute(
            update(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)

    async def touch(self, key_id: UUID, now: datetime, older_than: datetime) -> None:
        # Conditional, so processes sharing the database also write at most once a window.
        await self._conn.execute(
            update(api_keys)
            .where(
                api_keys.c.id == key_id,
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < older_than),
            )
            .values(last_used_at=now)
        )
