"""Where the signing keys are kept: the ``signing_keys`` table (shared by every process),
or this process's memory (tests and tools)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.tokens.adapters.tables import signing_keys
from agora.identity.tokens.ports import StoredKey
from agora.platform.db.rows import record_of, values_of
from agora.platform.errors import AlreadyExistsError
from agora.platform.events import DomainEvent


def _stored(row: Any) -> StoredKey:
    return record_of(StoredKey, row, public_key_pem=row.public_key, active=bool(row.active))


def _values(key: StoredKey) -> dict[str, Any]:
    values = values_of(key, public_key=key.public_key_pem, active=True if key.active else None)
    del values["public_key_pem"]
    return values


class SqlSigningKeyStore:
    """The keys in the ``signing_keys`` table, on the unit of work's connection.

    At most one row is active: the unique constraint on ``active`` refuses a second one,
    so of two processes that activate a key at once, one gets ``AlreadyExistsError``.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def load(self) -> list[StoredKey]:
        rows = await self._conn.execute(select(signing_keys).order_by(signing_keys.c.created_at))
        return [_stored(row) for row in rows]

    async def has_active(self) -> bool:
        kid = await self._conn.scalar(
            select(signing_keys.c.kid).where(signing_keys.c.active.is_(True))
        )
        return kid is not None

    async def add(self, key: StoredKey) -> None:
        try:
            await self._conn.execute(insert(signing_keys).values(_values(key)))
        except IntegrityError:  # the unit of work rolls back when this propagates
            raise AlreadyExistsError("Another signing key is already active.") from None

    async def retire_active(self, now: datetime) -> list[str]:
        result = await self._conn.execute(
            update(signing_keys)
            .where(signing_keys.c.active.is_(True))
            .values(active=None, retired_at=now)
            .returning(signing_keys.c.kid)
        )
        return list(result.scalars())

    async def delete_retired_before(self, before: datetime) -> list[str]:
        return await self._delete(signing_keys.c.retired_at < before)

    async def delete_all(self) -> list[str]:
        return await self._delete(signing_keys.c.kid.is_not(None))

    async def _delete(self, condition: Any) -> list[str]:
        result = await self._conn.execute(
            delete(signing_keys).where(condition).returning(signing_keys.c.kid)
        )
        return list(result.scalars())


class MemorySigningKeyStore:
    """Keys in this process only: for tests and tools that need no shared store.

    Calling the store opens a unit of work over it, so a ``KeyRing`` takes the store as
    its unit-of-work factory. Every change applies at once: each one leaves the keys
    consistent by itself, so there is nothing to roll back.
    """

    def __init__(self) -> None:
        self.keys: dict[str, StoredKey] = {}

    def __call__(self, *, read_only: bool = False) -> _MemoryKeysUnitOfWork:
        return _MemoryKeysUnitOfWork(self)

    async def load(self) -> list[StoredKey]:
        return sorted(self.keys.values(), key=lambda k: k.created_at)

    async def has_active(self) -> bool:
        return any(k.active for k in self.keys.values())

    async def add(self, key: StoredKey) -> None:
        if key.active and await self.has_active():
            raise AlreadyExistsError("Another signing key is already active.")
        self.keys[key.kid] = key

    async def retire_active(self, now: datetime) -> list[str]:
        retired = [k.kid for k in self.keys.values() if k.active]
        for kid in retired:
            self.keys[kid] = replace(self.keys[kid], active=False, retired_at=now)
        return retired

    async def delete_retired_before(self, before: datetime) -> list[str]:
        return self._delete(
            [
                k.kid
                for k in self.keys.values()
                if k.retired_at is not None and k.retired_at < before
            ]
        )

    async def delete_all(self) -> list[str]:
        return self._delete(list(self.keys))

    def _delete(self, kids: list[str]) -> list[str]:
        for kid in kids:
            del self.keys[kid]
        return kids


class _MemoryKeysUnitOfWork:
    def __init__(self, store: MemorySigningKeyStore) -> None:
        self.signing_keys = store

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def record(self, event: DomainEvent) -> None:
        raise NotImplementedError("signing keys raise no domain events")

    async def commit(self) -> None:
        return None
