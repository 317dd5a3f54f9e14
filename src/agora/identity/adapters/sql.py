"""SQL repositories and the unit of work of the identity context (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.adapters.tables import refresh_tokens, users
from agora.identity.domain import RefreshToken, SessionKind, User
from agora.platform.access import Role
from agora.platform.database import SqlUnitOfWork, plain_uuid
from agora.platform.errors import AlreadyExistsError, StaleVersionError


def _user(row: Any) -> User:
    return User(
        id=plain_uuid(row.id),
        email=row.email,
        name=row.name,
        password_hash=row.password_hash,
        role=Role(row.role),
        is_active=bool(row.is_active),
        email_verified_at=row.email_verified_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "password_hash": user.password_hash,
        "role": user.role.value,
        "is_active": user.is_active,
        "email_verified_at": user.email_verified_at,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "version": user.version,
    }


class SqlUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, user: User) -> None:
        try:
            await self._conn.execute(insert(users).values(_user_values(user)))
        except IntegrityError:  # the unit of work rolls back when this propagates
            raise AlreadyExistsError(
                "An account with this email address already exists.", field="email"
            ) from None

    async def get(self, user_id: UUID) -> User | None:
        row = (await self._conn.execute(select(users).where(users.c.id == user_id))).first()
        return None if row is None else _user(row)

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._conn.execute(select(users).where(users.c.email == email))).first()
        return None if row is None else _user(row)

    async def update(self, user: User, expected_version: int) -> None:
        values = _user_values(user)
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

    async def _version(self, user_id: UUID) -> int | None:
        version: int | None = await self._conn.scalar(
            select(users.c.version).where(users.c.id == user_id)
        )
        return version


def _token(row: Any) -> RefreshToken:
    return RefreshToken(
        id=plain_uuid(row.id),
        user_id=plain_uuid(row.user_id),
        family_id=plain_uuid(row.family_id),
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
        user_agent=row.user_agent,
        ip=row.ip,
        session_started_at=row.session_started_at,
        last_used_at=row.last_used_at,
        kind=SessionKind(row.kind),
    )


class SqlRefreshTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, token: RefreshToken) -> None:
        await self._conn.execute(
            insert(refresh_tokens).values(
                id=token.id,
                user_id=token.user_id,
                family_id=token.family_id,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                revoked_at=token.revoked_at,
                user_agent=token.user_agent,
                ip=token.ip,
                session_started_at=token.started_at,
                last_used_at=token.used_last_at,
                kind=token.kind.value,
            )
        )

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        row = (
            await self._conn.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
            )
        ).first()
        return None if row is None else _token(row)

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
        return [_token(row) for row in rows]

    async def touch(self, token_id: UUID, now: datetime, expires_at: datetime) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.id == token_id, refresh_tokens.c.revoked_at.is_(None))
            .values(last_used_at=now, expires_at=expires_at)
        )

    async def revoked_since(self, since: datetime) -> Sequence[tuple[UUID, datetime]]:
        rows = await self._conn.execute(
            select(refresh_tokens.c.family_id, func.max(refresh_tokens.c.revoked_at))
            .where(refresh_tokens.c.revoked_at >= since)
            .group_by(refresh_tokens.c.family_id)
        )
        return [(plain_uuid(family_id), revoked_at) for family_id, revoked_at in rows]


class SqlIdentityUnitOfWork(SqlUnitOfWork):
    users: SqlUserRepository
    refresh_tokens: SqlRefreshTokenRepository

    def _bind(self, connection: AsyncConnection) -> None:
        self.users = SqlUserRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
