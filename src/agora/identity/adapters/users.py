"""The SQL user repository (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.adapters.tables import users
from agora.identity.domain import User
from agora.identity.ports import UserFilter
from agora.platform.access import Role
from agora.platform.db.rows import record_of, values_of
from agora.platform.db.schema import Timestamp, plain_uuid
from agora.platform.errors import AlreadyExistsError, StaleVersionError


class SqlUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, user: User) -> None:
        try:
            await self._conn.execute(insert(users).values(values_of(user)))
        except IntegrityError:  # the unit of work rolls back when this propagates
            raise AlreadyExistsError(
                "An account with this email address already exists.", field="email"
            ) from None

    async def get(self, user_id: UUID) -> User | None:
        row = (await self._conn.execute(select(users).where(users.c.id == user_id))).first()
        return None if row is None else record_of(User, row)

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._conn.execute(select(users).where(users.c.email == email))).first()
        return None if row is None else record_of(User, row)

    async def update(self, user: User, expected_version: int) -> None:
        values = values_of(user)
        del values["id"], values["created_at"]
        result = await self._conn.execute(
            update(users)
            .where(users.c.id == user.id, users.c.version == expected_version)
            .values(values)
        )
        if result.rowcount != 1:
            raise StaleVersionError(current_version=await self._version(user.id))

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    async def lock(self, user_id: UUID) -> User | None:
        row = (
            await self._conn.execute(select(users).where(users.c.id == user_id).with_for_update())
        ).first()
        return None if row is None else record_of(User, row)

    async def search(self, where: UserFilter, offset: int, limit: int) -> tuple[list[User], int]:
        conditions = []
        if where.q:
            pattern = f"%{_escape_like(where.q.lower())}%"
            conditions.append(
                or_(
                    users.c.email.like(pattern, escape="\\"),  # stored lower-cased
                    func.lower(users.c.name).like(pattern, escape="\\"),
                )
            )
        if where.role is not None:
            conditions.append(users.c.role == where.role.value)
        if where.is_active is not None:
            conditions.append(users.c.is_active.is_(where.is_active))
        page = select(users).where(*conditions).order_by(users.c.email).offset(offset).limit(limit)
        rows = (await self._conn.execute(page)).all()
        total = await self._conn.scalar(select(func.count()).select_from(users).where(*conditions))
        return [record_of(User, row) for row in rows], int(total or 0)

    async def lock_active_admins(self) -> list[UUID]:
        # Locked in id order, so two admins' units always queue and never deadlock.
        rows = await self._conn.execute(
            select(users.c.id)
            .where(users.c.role == Role.ADMIN.value, users.c.is_active.is_(True))
            .order_by(users.c.id)
            .with_for_update()
        )
        return [plain_uuid(row.id) for row in rows]

    async def mark_email_verified(self, user_id: UUID, email: str, now: datetime) -> bool:
        # Conditional on the address, so a link can only verify the address it was sent to.
        result = await self._conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.email == email)
            .values(
                email_verified_at=func.coalesce(users.c.email_verified_at, literal(now, Timestamp)),
                updated_at=now,
                version=users.c.version + 1,
            )
        )
        return result.rowcount == 1

    async def _version(self, user_id: UUID) -> int | None:
        version: int | None = await self._conn.scalar(
            select(users.c.version).where(users.c.id == user_id)
        )
        return version


def _escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern: ``%`` and ``_`` match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
