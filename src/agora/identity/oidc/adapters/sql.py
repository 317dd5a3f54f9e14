"""SQL repositories of OpenID Connect login, and the unit of work that adds them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.oidc.adapters.tables import oidc_identities, oidc_login_states
from agora.identity.oidc.domain import LoginState, OidcLink
from agora.platform.db.schema import plain_uuid
from agora.platform.errors import AlreadyExistsError


def _link(row: Any) -> OidcLink:
    return OidcLink(
        id=plain_uuid(row.id),
        user_id=plain_uuid(row.user_id),
        issuer=row.issuer,
        subject=row.subject,
        email=row.email,
        created_at=row.created_at,
    )


class SqlOidcLinkRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, link: OidcLink) -> None:
        try:
            await self._conn.execute(
                insert(oidc_identities).values(
                    id=link.id,
                    user_id=link.user_id,
                    issuer=link.issuer,
                    subject=link.subject,
                    email=link.email,
                    created_at=link.created_at,
                )
            )
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
        return None if row is None else _link(row)


def _state(row: Any) -> LoginState:
    return LoginState(
        id=plain_uuid(row.id),
        state_hash=row.state_hash,
        browser_hash=row.browser_hash,
        nonce=row.nonce,
        code_verifier=row.code_verifier,
        redirect_uri=row.redirect_uri,
        return_to=row.return_to,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class SqlOidcLoginStateRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, state: LoginState) -> None:
        await self._conn.execute(
            insert(oidc_login_states).values(
                id=state.id,
                state_hash=state.state_hash,
                browser_hash=state.browser_hash,
                nonce=state.nonce,
                code_verifier=state.code_verifier,
                redirect_uri=state.redirect_uri,
                return_to=state.return_to,
                created_at=state.created_at,
                expires_at=state.expires_at,
                used_at=state.used_at,
            )
        )

    async def get_by_hash(self, state_hash: str) -> LoginState | None:
        row = (
            await self._conn.execute(
                select(oidc_login_states).where(oidc_login_states.c.state_hash == state_hash)
            )
        ).first()
        return None if row is None else _state(row)

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
