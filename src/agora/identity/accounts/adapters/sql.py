"""The SQL repository of one-time email tokens (verification, password reset)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.accounts.adapters.tables import email_tokens
from agora.identity.accounts.domain import EmailToken, EmailTokenPurpose
from agora.platform.db.rows import record_of, values_of


class SqlEmailTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, token: EmailToken) -> None:
        await self._conn.execute(insert(email_tokens).values(values_of(token)))

    async def get_by_hash(self, token_hash: str) -> EmailToken | None:
        row = (
            await self._conn.execute(
                select(email_tokens).where(email_tokens.c.token_hash == token_hash)
            )
        ).first()
        return None if row is None else record_of(EmailToken, row)

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        # Conditional update: of two concurrent uses of one token, exactly one wins.
        result = await self._conn.execute(
            update(email_tokens)
            .where(
                email_tokens.c.id == token_id,
                email_tokens.c.used_at.is_(None),
                email_tokens.c.expires_at > now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def delete_spent(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(email_tokens).where(
                or_(email_tokens.c.expires_at < before, email_tokens.c.used_at < before)
            )
        )
        return int(result.rowcount)

    async def delete_for_user(self, user_id: UUID, purpose: EmailTokenPurpose) -> None:
        await self._conn.execute(
            delete(email_tokens).where(
                email_tokens.c.user_id == user_id, email_tokens.c.purpose == purpose.value
            )
        )
