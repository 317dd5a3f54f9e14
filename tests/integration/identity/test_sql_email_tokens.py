"""One-time email tokens and the account updates they drive, on the real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.bootstrap import Container
from agora.identity.accounts.adapters.tables import email_tokens
from agora.identity.accounts.domain import EmailToken, EmailTokenPurpose, new_email_token
from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.domain import User
from agora.platform.clock import utcnow
from agora.platform.ids import new_id
from tests.support.accounts import stored_user

pytestmark = pytest.mark.anyio


async def _token(
    engine: AsyncEngine,
    user: User,
    purpose: EmailTokenPurpose = EmailTokenPurpose.VERIFY_EMAIL,
    ttl: timedelta = timedelta(hours=1),
) -> tuple[str, EmailToken]:
    plain, token_hash = new_email_token()
    now = utcnow()
    token = EmailToken(new_id(), user.id, purpose, user.email, token_hash, now, now + ttl)
    async with SqlIdentityUnitOfWork(engine) as uow:
        await uow.email_tokens.add(token)
        await uow.commit()
    return plain, token


async def test_a_token_round_trips_and_only_its_hash_is_stored(container: Container) -> None:
    user = await stored_user(container.engine, "tokens")
    plain, token = await _token(container.engine, user, EmailTokenPurpose.RESET_PASSWORD)

    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        assert await uow.email_tokens.get_by_hash(token.token_hash) == token
    async with container.engine.connect() as conn:
        stored = (await conn.execute(select(email_tokens))).all()
    assert all(plain not in str(tuple(row)) for row in stored)


async def test_concurrent_uses_of_one_token_mark_it_used_once(container: Container) -> None:
    user = await stored_user(container.engine, "tokens")
    _plain, token = await _token(container.engine, user)

    async def use() -> bool:
        async with SqlIdentityUnitOfWork(container.engine) as uow:
            won = await uow.email_tokens.mark_used(token.id, utcnow())
            await asyncio.sleep(0.01)  # hold the transaction open while the others try
            await uow.commit()
            return won

    assert sorted(await asyncio.gather(*(use() for _ in range(6)))) == [False] * 5 + [True]


async def test_an_expired_token_cannot_be_used(container: Container) -> None:
    user = await stored_user(container.engine, "tokens")
    _plain, token = await _token(container.engine, user, ttl=timedelta(seconds=-1))
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        assert not await uow.email_tokens.mark_used(token.id, utcnow())


async def test_deleting_a_users_tokens_keeps_other_purposes_and_users(
    container: Container,
) -> None:
    user, other = (
        await stored_user(container.engine, "tokens"),
        await stored_user(container.engine, "tokens"),
    )
    _p1, verify = await _token(container.engine, user)
    _p2, reset = await _token(container.engine, user, EmailTokenPurpose.RESET_PASSWORD)
    _p3, others = await _token(container.engine, other)

    async with SqlIdentityUnitOfWork(container.engine) as uow:
        await uow.email_tokens.delete_for_user(user.id, EmailTokenPurpose.VERIFY_EMAIL)
        await uow.commit()
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        assert await uow.email_tokens.get_by_hash(verify.token_hash) is None
        assert await uow.email_tokens.get_by_hash(reset.token_hash) == reset
        assert await uow.email_tokens.get_by_hash(others.token_hash) == others


async def test_verifying_needs_the_address_the_token_was_sent_to(container: Container) -> None:
    user = await stored_user(container.engine, "tokens")
    now = utcnow()
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        assert not await uow.users.mark_email_verified(user.id, "someone@else.example", now)
        assert await uow.users.mark_email_verified(user.id, user.email, now)
        await uow.commit()
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        # Verifying again keeps the first time stamp.
        assert await uow.users.mark_email_verified(user.id, user.email, now + timedelta(days=1))
        await uow.commit()
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert stored.email_verified_at is not None
    assert abs(stored.email_verified_at - now) < timedelta(seconds=1)
    assert stored.version == user.version + 2
