"""SQL repositories of OpenID Connect login, and the unit of work that adds them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.oidc.adapters.tables import oidc_identities, oidc_login_states
from agora.identity.oidc.domain import LoginState, OidcLink
from agora.platform.db.rows import record_of, values_of
from agora.platform.errors import AlreadyExistsError


class SqlOidcLinkRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, link: OidcLink) -> None:
        try:
            await self._conn.execute(insert(oidc_identities).values(values_of(link)))
        except IntegrityError:  # the unit of work rolls back when this propagates
            raise AlreadyExistsError("This provider identity is already linked.") from None

    async def get(self, issuer: str, subject: str) -> OidcLink | None:
        row = (
            await self._conn.execute(
                select(oidc_identities).where(
                    oidc_identities.c.issuer == issuer, oidc_identities.c.subject == subject
                )
            )
        ).first()
        return None if row is None else record_of(OidcLink, row)


class SqlOidcLoginStateRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, state: LoginState) -> None:
        await self._conn.execute(insert(oidc_login_states).values(values_of(state)))

    async def get_by_hash(self, state_hash: str) -> LoginState | None:
        row = (
            await self._conn.execute(
                select(oidc_login_states).where(oidc_login_states.c.state_hash == state_hash)
            )
        ).first()
        return None if row is None else record_of(LoginState, row)

    async def mark_used(self, state_id: UUID, now: datetime) -> bool:
        # Conditional update: of two concurrent callbacks with one state, exactly one wins.
        result = await self._conn.execute(
            update(oidc_login_states)
            .where(oidc_login_states.c.id == state_id, oidc_login_states.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def delete_expired(self, now: datetime) -> int:
        result = await self._conn.execute(
            delete(oidc_login_states).where(oidc_login_states.c.expires_at < now)
        )
        return int(result.rowcount)


class SqlOidcUnitOfWork(SqlIdentityUnitOfWork):
    oidc_links: SqlOidcLinkRepository
    oidc_states: SqlOidcLoginStateRepository

    def _bind(self, connection: AsyncConnection) -> None:
        super()._bind(connection)
        self.oidc_links = SqlOidcLinkRepository(connection)
        self.oidc_states = SqlOidcLoginStateRepository(connection)
