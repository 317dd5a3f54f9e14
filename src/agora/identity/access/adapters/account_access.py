"""Reads the current role and activation of accounts, for ``CurrentAccess``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.identity.access.domain import AccountAccess
from agora.identity.adapters.tables import users
from agora.platform.access import Role
from agora.platform.db.schema import plain_uuid
from agora.platform.db.transaction import SqlUnitOfWork

# Bound parameters per query: well inside every driver's limit, and few round trips
# for the handful of privileged accounts a process usually keeps.
CHUNK = 500


class SqlAccountAccess:
    """The access feed: one indexed read by primary key per ``CHUNK`` accounts."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self, user_ids: Collection[UUID]) -> Sequence[AccountAccess]:
        ids = list(user_ids)
        found: list[AccountAccess] = []
        async with SqlUnitOfWork(self._engine, read_only=True) as uow:
            for start in range(0, len(ids), CHUNK):
                rows = await uow.connection.execute(
                    select(users.c.id, users.c.role, users.c.is_active, users.c.version).where(
                        users.c.id.in_(ids[start : start + CHUNK])
                    )
                )
                found.extend(
                    AccountAccess(plain_uuid(r.id), Role(r.role), bool(r.is_active), r.version)
                    for r in rows
                )
        return found
