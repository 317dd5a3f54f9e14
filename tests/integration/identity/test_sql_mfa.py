"""MFA repositories on the real database: sealed secrets, atomic single use, session flag."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.bootstrap import Container
from agora.identity.adapters.secret_box import SecretBox
from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.adapters.tables import users
from agora.identity.domain import User
from agora.identity.mfa.adapters.sql import SqlMfaUnitOfWork
from agora.identity.mfa.adapters.tables import mfa_recovery_codes, totp_credentials
from agora.identity.mfa.domain import (
    MfaChallenge,
    RecoveryCode,
    TotpCredential,
    new_challenge_token,
    new_recovery_codes,
    new_totp_secret,
)
from agora.identity.sessions.domain import RefreshToken, new_refresh_token
from agora.platform.clock import utcnow
from agora.platform.ids import new_id
from tests.support.accounts import stored_user

pytestmark = pytest.mark.anyio
BOX = SecretBox("k" * 48, purpose="agora/totp-secret/v1")


async def _credential(engine: AsyncEngine, user: User, secret: str) -> None:
    now = utcnow()
    async with SqlMfaUnitOfWork(engine, BOX) as uow:
        await uow.totp.add(
            TotpCredential(user_id=user.id, secret=secret, created_at=now, updated_at=now)
        )
        await uow.commit()


async def test_the_totp_secret_is_stored_sealed_and_only_this_key_opens_it(
    container: Container,
) -> None:
    engine = container.engine
    user = await stored_user(engine, "mfa-repo")
    secret = new_totp_secret()
    await _credential(engine, user, secret)

    async with engine.connect() as conn:
        stored = await conn.scalar(
            select(totp_credentials.c.secret_ciphertext).where(
                totp_credentials.c.user_id == user.id
            )
        )
    assert stored is not None
    assert secret not in stored
    assert stored.startswith("v1.")
    async with SqlMfaUnitOfWork(engine, BOX, read_only=True) as uow:
        loaded = await uow.totp.get(user.id)
    assert loaded is not None
    assert loaded.secret == secret
    other_key = SecretBox("j" * 48, purpose="agora/totp-secret/v1")
    async with SqlMfaUnitOfWork(engine, other_key, read_only=True) as uow:
        unreadable = await uow.totp.get(user.id)
    assert unreadable is not None
    assert unreadable.secret is None


async def test_a_time_step_is_used_once_and_never_an_earlier_one(container: Container) -> None:
    engine = container.engine
    user = await stored_user(engine, "mfa-repo")
    await _credential(engine, user, new_totp_secret())
    now = utcnow()
    outcomes = []
    for step in (100, 100, 99, 101):
        async with SqlMfaUnitOfWork(engine, BOX) as uow:
            outcomes.append(await uow.totp.use_step(user.id, step, now))
            await uow.commit()
    assert outcomes == [True, False, False, True]


async def test_concurrent_uses_of_one_step_succeed_once(container: Container) -> None:
    engine = container.engine
    user = await stored_user(engine, "mfa-repo")
    await _credential(engine, user, new_totp_secret())

    async def use() -> bool:
        async with SqlMfaUnitOfWork(engine, BOX) as uow:
            used = await uow.totp.use_step(user.id, 7, utcnow())
            await uow.commit()
        return used

    assert sorted(await asyncio.gather(*(use() for _ in range(8)))) == [False] * 7 + [True]


async def test_concurrent_uses_of_one_recovery_code_succeed_once(container: Container) -> None:
    engine = container.engine
    user = await stored_user(engine, "mfa-repo")
    codes = [RecoveryCode.of(new_id(), user.id, code, utcnow()) for code in new_recovery_codes(2)]
    async with SqlMfaUnitOfWork(engine, BOX) as uow:
        await uow.recovery_codes.replace_all(user.id, codes)
        await uow.commit()
    async with SqlMfaUnitOfWork(engine, BOX, read_only=True) as uow:
        assert sorted(c.id for c in await uow.recovery_codes.unused(user.id)) == sorted(
            c.id for c in codes
        )

    async def use() -> bool:
        async with SqlMfaUnitOfWork(engine, BOX) as uow:
            used = await uow.recovery_codes.use(codes[0].id, utcnow())
            await uow.commit()
        return used

    assert sorted(await asyncio.gather(*(use() for _ in range(8)))) == [False] * 7 + [True]
    async with SqlMfaUnitOfWork(engine, BOX, read_only=True) as uow:
        assert await uow.recovery_codes.count_unused(user.id) == 1


async def test_a_challenge_allows_a_bounded_number_of_attempts(container: Container) -> None:
    engine = container.engine
    user = await stored_user(engine, "mfa-repo")
    now = utcnow()
    _token, token_hash = new_challenge_token()
    challenge = MfaChallenge(
        id=new_id(),
        user_id=user.id,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    async with SqlMfaUnitOfWork(engine, BOX) as uow:
        await uow.mfa_challenges.add(challenge)
        await uow.commit()

    async def claim() -> bool:
        async with SqlMfaUnitOfWork(engine, BOX) as uow:
            claimed = await uow.mfa_challenges.claim_attempt(challenge.id, utcnow())
            await uow.commit()
        return claimed

    claims = await asyncio.gather(*(claim() for _ in range(12)))
    assert claims.count(True) == 5
    async with SqlMfaUnitOfWork(engine, BOX) as uow:
        assert not await uow.mfa_challenges.consume(challenge.id, now + timedelta(minutes=6))
        assert await uow.mfa_challenges.consume(challenge.id, now)
        assert not await uow.mfa_challenges.consume(challenge.id, now)
        await uow.commit()


async def test_refresh_tokens_remember_whether_the_session_used_a_second_factor(
    container: Container,
) -> None:
    engine = container.engine
    user = await stored_user(engine, "mfa-repo")
    now = utcnow()
    hashes = {}
    for mfa in (True, False):
        _plain, token_hash = new_refresh_token()
        hashes[mfa] = token_hash
        async with SqlIdentityUnitOfWork(engine) as uow:
            await uow.refresh_tokens.add(
                RefreshToken(
                    id=new_id(),
                    user_id=user.id,
                    family_id=new_id(),
                    token_hash=token_hash,
                    created_at=now,
                    expires_at=now + timedelta(days=1),
                    mfa=mfa,
                )
            )
            await uow.commit()
    async with SqlIdentityUnitOfWork(engine, read_only=True) as uow:
        with_mfa = await uow.refresh_tokens.get_by_hash(hashes[True])
        without = await uow.refresh_tokens.get_by_hash(hashes[False])
    assert with_mfa is not None
    assert with_mfa.mfa is True
    assert without is not None
    assert without.mfa is False


async def test_deleting_a_user_removes_their_mfa_rows(container: Container) -> None:
    engine = container.engine
    user = await stored_user(engine, "mfa-repo")
    await _credential(engine, user, new_totp_secret())
    async with SqlMfaUnitOfWork(engine, BOX) as uow:
        await uow.recovery_codes.replace_all(
            user.id, [RecoveryCode.of(new_id(), user.id, new_recovery_codes(1)[0], utcnow())]
        )
        await uow.commit()
    async with engine.begin() as conn:
        await conn.execute(delete(users).where(users.c.id == user.id))
    async with engine.connect() as conn:
        left = await conn.scalar(
            select(func.count())
            .select_from(mfa_recovery_codes)
            .where(mfa_recovery_codes.c.user_id == user.id)
        )
    assert left == 0
