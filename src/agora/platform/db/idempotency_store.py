"""The idempotency keys table behind ``agora.http.idempotency``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.platform.clock import utcnow
from agora.platform.db.tables import idempotency_keys
from agora.platform.errors import IdempotencyKeyReusedError, RequestInProgressError
from agora.platform.idempotency_keys import StoredResponse


class SqlIdempotencyStore:
    def __init__(self, engine: AsyncEngine, ttl: timedelta) -> None:
        self._engine = engine
        self._ttl = ttl

    async def claim(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """Claim ``key``; return the stored response if this is a replay."""
        now = utcnow()
        table = idempotency_keys
        where = and_(table.c.scope == scope, table.c.key == key)
        try:
            # One transaction, one commit: an expired claim makes way for this one; a live
            # one makes the insert fail, rolling back a delete that removed nothing.
            async with self._engine.begin() as conn:
                await conn.execute(delete(table).where(where, table.c.created_at < now - self._ttl))
                await conn.execute(
                    insert(table).values(
                        scope=scope, key=key, request_hash=request_hash, created_at=now
                    )
                )
            return None
        except IntegrityError:
            pass
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table.c.request_hash, table.c.status_code, table.c.response_body).where(
                        where
                    )
                )
            ).first()
        if row is None:  # expired and removed between our two statements: claim again
            return await self.claim(scope, key, request_hash)
        if row.request_hash != request_hash:
            raise IdempotencyKeyReusedError()
        if row.status_code is None or row.response_body is None:
            raise RequestInProgressError()
        return StoredResponse(row.status_code, row.response_body)

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
                .values(
                    status_code=response.status_code,
                    response_body=response.body,
                    completed_at=utcnow(),
                )
            )

    async def release(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so the client may retry."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
                )
            )
