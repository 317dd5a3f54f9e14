"""The idempotency keys table behind ``agora.http.idempotency``.

``SqlIdempotencyStore`` runs each call in a unit of work of its own (the edge that
calls it holds none); ``SqlIdempotencyKeys`` is the table's repository on that unit's
connection and never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement

from agora.platform.clock import utcnow
from agora.platform.db.tables import idempotency_keys
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.errors import IdempotencyKeyReusedError, RequestInProgressError
from agora.platform.idempotency_keys import StoredResponse


def _key(scope: str, key: str) -> ColumnElement[bool]:
    return and_(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)


class Claim(NamedTuple):
    request_hash: str
    response: StoredResponse | None  # None while the claiming request still runs


class SqlIdempotencyKeys:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def insert_claim(
        self, scope: str, key: str, request_hash: str, now: datetime, ttl: timedelta
    ) -> bool:
        """Write a claim, replacing an expired one; False when a live claim holds the key.

        After False the transaction is spoilt (PostgreSQL aborts it): roll it back.
        """
        table = idempotency_keys
        await self._conn.execute(
            delete(table).where(_key(scope, key), table.c.created_at < now - ttl)
        )
        try:
            await self._conn.execute(
                insert(table).values(
                    scope=scope, key=key, request_hash=request_hash, created_at=now
                )
            )
        except IntegrityError:
            return False
        return True

    async def get(self, scope: str, key: str) -> Claim | None:
        table = idempotency_keys
        row = (
            await self._conn.execute(
                select(table.c.request_hash, table.c.status_code, table.c.response_body).where(
                    _key(scope, key)
                )
            )
        ).first()
        if row is None:
            return None
        if row.status_code is None or row.response_body is None:
            return Claim(row.request_hash, None)
        return Claim(row.request_hash, StoredResponse(row.status_code, row.response_body))

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        await self._conn.execute(
            update(idempotency_keys)
            .where(_key(scope, key))
            .values(
                status_code=response.status_code,
                response_body=response.body,
                completed_at=utcnow(),
            )
        )

    async def delete(self, scope: str, key: str) -> None:
        await self._conn.execute(delete(idempotency_keys).where(_key(scope, key)))

    async def delete_older_than(self, before: datetime) -> int:
        table = idempotency_keys
        result = await self._conn.execute(delete(table).where(table.c.created_at < before))
        return int(result.rowcount)


class IdempotencyUnitOfWork(SqlUnitOfWork):
    keys: SqlIdempotencyKeys

    def _bind(self, connection: AsyncConnection) -> None:
        self.keys = SqlIdempotencyKeys(connection)


class SqlIdempotencyStore:
    """The ``IdempotencyStore`` on SQL: each call is one short unit of work."""

    def __init__(self, engine: AsyncEngine, ttl: timedelta) -> None:
        self._engine = engine
        self._ttl = ttl

    async def claim(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """Claim ``key``; return the stored response if this is a replay."""
        # One transaction, one commit: an expired claim makes way for this one; a live
        # one makes the insert fail, and leaving uncommitted rolls back a delete that
        # removed nothing.
        async with IdempotencyUnitOfWork(self._engine) as uow:
            if await uow.keys.insert_claim(scope, key, request_hash, utcnow(), self._ttl):
                await uow.commit()
                return None
        async with IdempotencyUnitOfWork(self._engine, read_only=True) as uow:
            claim = await uow.keys.get(scope, key)
        if claim is None:  # expired and removed between our two units: claim again
            return await self.claim(scope, key, request_hash)
        if claim.request_hash != request_hash:
            raise IdempotencyKeyReusedError()
        if claim.response is None:
            raise RequestInProgressError()
        return claim.response

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        async with IdempotencyUnitOfWork(self._engine) as uow:
            await uow.keys.complete(scope, key, response)
            await uow.commit()

    async def purge_expired(self) -> int:
        async with IdempotencyUnitOfWork(self._engine) as uow:
            removed = await uow.keys.delete_older_than(utcnow() - self._ttl)
            await uow.commit()
        return removed

    async def release(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so the client may retry."""
        async with IdempotencyUnitOfWork(self._engine) as uow:
            await uow.keys.delete(scope, key)
            await uow.commit()
