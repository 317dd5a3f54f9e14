"""The SQL refresh-token repository: sessions and their secrets (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.sessions.adapters.tables import refresh_tokens
from agora.identity.sessions.domain import RefreshToken
from agora.platform.db.rows import record_of, values_of
from agora.platform.db.schema import plain_uuid


class SqlRefreshTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, token: RefreshToken) -> None:
        await self._conn.execute(
            insert(refresh_tokens).values(
                values_of(
                    token,
                    session_started_at=token.started_at,
                    last_used_at=token.used_last_at,
                )
            )
        )

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = (await self._conn.execute(query.with_for_update() if for_update else query)).first()
        return None if row is None else record_of(RefreshToken, row)

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        # Conditional update: of two concurrent refreshes with one token, exactly one wins.
        result = await self._conn.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.id == token_id,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def list_current(self, user_id: UUID, now: datetime) -> Sequence[RefreshToken]:
        rows = await self._conn.execute(
            select(refresh_tokens)
            .where(
                refresh_tokens.c.user_id == user_id,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
                refresh_tokens.c.expires_at > now,
            )
            .order_by(refresh_tokens.c.last_used_at.desc(), refresh_tokens.c.id)
        )
        return [record_of(RefreshToken, row) for row in rows]

    async def touch(self, token_id: UUID, now: datetime, expires_at: datetime) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.id == token_id, refresh_tokens.c.revoked_at.is_(None))
            .values(last_used_at=now, expires_at=expires_at)
        )

    async def delete_ended(self, before: datetime) -> int:
        t = refresh_tokens
        result = await self._conn.execute(
            delete(t).where(
                t.c.expires_at < before, or_(t.c.revoked_at.is_(None), t.c.revoked_at < before)
            )
        )
        return int(result.rowcount)

    async def revoked_since(self, since: datetime) -> Sequence[tuple[UUID, datetime]]:
        rows = await self._conn.execute(
            select(refresh_tokens.c.family_id, func.max(refresh_tokens.c.revoked_at))
            .where(refresh_tokens.c.revoked_at >= since)
            .group_by(refresh_tokens.c.family_id)
        )
        return [(plain_uuid(family_id), revoked_at) for family_id, revoked_at in rows]

    async def revoke_other_families(
        self, user_id: UUID, keep_family_id: UUID, now: datetime
    ) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.user_id == user_id,
                refresh_tokens.c.family_id != keep_family_id,
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
