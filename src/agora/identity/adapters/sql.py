"""SQL repositories and the unit of work of the identity context (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.adapters.tables import api_keys, email_tokens, refresh_tokens, users
from agora.identity.domain import (
    ApiKey,
    EmailToken,
    EmailTokenPurpose,
    RefreshToken,
    SessionKind,
    User,
)
from agora.identity.ports import UserFilter
from agora.platform.access import Permission, Role
from agora.platform.db.schema import Timestamp, plain_uuid
from agora.platform.db.transaction import SqlUnitOfWork
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

    async def lock(self, user_id: UUID) -> User | None:
        row = (
            await self._conn.execute(select(users).where(users.c.id == user_id).with_for_update())
        ).first()
        return None if row is None else _user(row)

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
        return [_user(row) for row in rows], int(total or 0)

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
        mfa=bool(row.mfa),
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
                mfa=token.mfa,
                session_started_at=token.started_at,
                last_used_at=token.used_last_at,
                kind=token.kind.value,
            )
        )

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = (await self._conn.execute(query.with_for_update() if for_update else query)).first()
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


def _email_token(row: Any) -> EmailToken:
    return EmailToken(
        id=plain_uuid(row.id),
        user_id=plain_uuid(row.user_id),
        purpose=EmailTokenPurpose(row.purpose),
        email=row.email,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class SqlEmailTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, token: EmailToken) -> None:
        await self._conn.execute(
            insert(email_tokens).values(
                id=token.id,
                user_id=token.user_id,
                purpose=token.purpose.value,
                email=token.email,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )

    async def get_by_hash(self, token_hash: str) -> EmailToken | None:
        row = (
            await self._conn.execute(
                select(email_tokens).where(email_tokens.c.token_hash == token_hash)
            )
        ).first()
        return None if row is None else _email_token(row)

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

    async def delete_for_user(self, user_id: UUID, purpose: EmailTokenPurpose) -> None:
        await self._conn.execute(
            delete(email_tokens).where(
                email_tokens.c.user_id == user_id, email_tokens.c.purpose == purpose.value
            )
        )


def _escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern: ``%`` and ``_`` match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=plain_uuid(row.id),
        user_id=plain_uuid(row.user_id),
        name=row.name,
        prefix=row.prefix,
        key_hash=row.key_hash,
        # A permission that a later release removed simply stops being granted.
        scopes=frozenset(
            Permission(value)
            for value in row.scopes.split()
            if value in Permission._value2member_map_
        ),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class SqlApiKeyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, key: ApiKey) -> None:
        try:
            await self._conn.execute(
                insert(api_keys).values(
                    id=key.id,
                    user_id=key.user_id,
                    name=key.name,
                    prefix=key.prefix,
                    key_hash=key.key_hash,
                    scopes=" ".join(sorted(scope.value for scope in key.scopes)),
                    created_at=key.created_at,
                    expires_at=key.expires_at,
                    last_used_at=key.last_used_at,
                    revoked_at=key.revoked_at,
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
        # The owner's columns, renamed back, so ``_user`` reads them like a users row.
        owner_row = SimpleNamespace(**{c.name: row._mapping[f"owner_{c.name}"] for c in owner.c})
        return _api_key(row), _user(owner_row)

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


class SqlIdentityUnitOfWork(SqlUnitOfWork):
    users: SqlUserRepository
    refresh_tokens: SqlRefreshTokenRepository
    api_keys: SqlApiKeyRepository
    email_tokens: SqlEmailTokenRepository

    def _bind(self, connection: AsyncConnection) -> None:
        self.users = SqlUserRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.email_tokens = SqlEmailTokenRepository(connection)
