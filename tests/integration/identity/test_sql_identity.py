"""Identity repositories, the password hasher and the migration, on the real database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.bootstrap import Container, load_metadata
from agora.identity.accounts.adapters.password_hashing import Argon2PasswordHasher
from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.domain import User
from agora.identity.sessions.domain import RefreshToken, new_refresh_token
from agora.platform.clock import utcnow
from agora.platform.errors import AlreadyExistsError, StaleVersionError
from agora.platform.ids import new_id
from tests.support.accounts import PASSWORD, user_row

pytestmark = pytest.mark.anyio


def _token(user: User, family_id: uuid.UUID | None = None) -> RefreshToken:
    now = utcnow()
    _plain, token_hash = new_refresh_token()
    return RefreshToken(
        id=new_id(),
        user_id=user.id,
        family_id=family_id or new_id(),
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(days=1),
        user_agent="pytest",
        ip="2001:db8::1",
    )


async def _add_user(engine: AsyncEngine, user: User) -> None:
    async with SqlIdentityUnitOfWork(engine) as uow:
        await uow.users.add(user)
        await uow.commit()


async def test_user_round_trips_with_aware_timestamps(container: Container) -> None:
    user = user_row()
    await _add_user(container.engine, user)
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        by_id = await uow.users.get(user.id)
        by_email = await uow.users.get_by_email(user.email)
    assert by_id == user
    assert by_email == user
    assert by_id is not None
    assert type(by_id.id) is uuid.UUID
    assert by_id.created_at.tzinfo is not None


async def test_duplicate_email_is_already_exists_and_nothing_is_written(
    container: Container,
) -> None:
    first = user_row()
    await _add_user(container.engine, first)
    clash = user_row(email=first.email)
    with pytest.raises(AlreadyExistsError):
        await _add_user(container.engine, clash)
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        assert await uow.users.get(clash.id) is None


async def test_uncommitted_unit_writes_nothing(container: Container) -> None:
    user = user_row()
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        await uow.users.add(user)
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        assert await uow.users.get(user.id) is None


async def test_update_with_a_stale_version_is_refused(container: Container) -> None:
    user = user_row()
    await _add_user(container.engine, user)
    renamed = user.renamed("Renamed", utcnow())
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        await uow.users.update(renamed, expected_version=1)
        await uow.commit()
    with pytest.raises(StaleVersionError) as caught:
        async with SqlIdentityUnitOfWork(container.engine) as uow:
            await uow.users.update(replace(renamed, name="Lost", version=2), expected_version=1)
    assert caught.value.details["current_version"] == 2
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert (stored.name, stored.version) == ("Renamed", 2)


async def test_a_refresh_token_can_be_marked_used_only_once(container: Container) -> None:
    user = user_row()
    await _add_user(container.engine, user)
    token = _token(user)
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        await uow.refresh_tokens.add(token)
        await uow.commit()
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        assert await uow.refresh_tokens.mark_used(token.id, utcnow()) is True
        assert await uow.refresh_tokens.mark_used(token.id, utcnow()) is False
        await uow.commit()
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        stored = await uow.refresh_tokens.get_by_hash(token.token_hash)
    assert stored is not None
    assert stored.was_used
    assert stored.ip == "2001:db8::1"


async def test_revoking_a_family_leaves_other_families_alone(container: Container) -> None:
    user = user_row()
    await _add_user(container.engine, user)
    family = new_id()
    same_a, same_b, other = _token(user, family), _token(user, family), _token(user)
    async with SqlIdentityUnitOfWork(container.engine) as uow:
        for token in (same_a, same_b, other):
            await uow.refresh_tokens.add(token)
        await uow.refresh_tokens.revoke_family(family, utcnow())
        await uow.commit()
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        revoked = [await uow.refresh_tokens.get_by_hash(t.token_hash) for t in (same_a, same_b)]
        untouched = await uow.refresh_tokens.get_by_hash(other.token_hash)
    assert all(t is not None and t.is_revoked for t in revoked)
    assert untouched is not None
    assert not untouched.is_revoked


async def test_login_upgrades_a_hash_made_with_old_parameters(container: Container) -> None:
    service = container.identity
    weak = Argon2PasswordHasher(memory_kib=512, time_cost=1, parallelism=1)
    user = replace(user_row(), password_hash=await weak.hash(PASSWORD))
    await _add_user(container.engine, user)
    assert service.sign_in.hasher.needs_rehash(user.password_hash)
    await service.sign_in.login(user.email, PASSWORD)
    async with SqlIdentityUnitOfWork(container.engine, read_only=True) as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert stored.password_hash != user.password_hash
    assert stored.password_hash.startswith("$argon2id$")
    assert not service.sign_in.hasher.needs_rehash(stored.password_hash)
    await service.sign_in.login(user.email, PASSWORD)  # the new hash verifies


async def test_hasher_verifies_and_never_raises_for_bad_input() -> None:
    hasher = Argon2PasswordHasher(memory_kib=1024, time_cost=1, parallelism=1)
    hashed = await hasher.hash("violet anchor museum")
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert await hasher.verify(hashed, "violet anchor museum")
    assert not await hasher.verify(hashed, "violet anchor museum!")
    assert not await hasher.verify("not a hash", "anything")
    assert hasher.needs_rehash("not a hash")
    # The dummy used for unknown emails costs exactly what a real verification costs.
    assert not hasher.needs_rehash(hasher.dummy_hash)
    assert not await hasher.verify(hasher.dummy_hash, "violet anchor museum")


async def test_migrated_identity_schema_has_the_constraints(container: Container) -> None:
    def describe(sync_conn: object) -> dict[str, object]:
        inspector = inspect(sync_conn)
        return {
            "users": {c["name"] for c in inspector.get_columns("users")},
            "tokens": {c["name"] for c in inspector.get_columns("refresh_tokens")},
            "uniques": {
                u["name"]
                for table in ("users", "refresh_tokens")
                for u in inspector.get_unique_constraints(table)
            },
            "indexes": {i["name"] for i in inspector.get_indexes("refresh_tokens")},
            "fks": {fk["name"] for fk in inspector.get_foreign_keys("refresh_tokens")},
        }

    async with container.engine.connect() as conn:
        schema = await conn.run_sync(describe)
    assert schema["users"] == {
        "id", "email", "name", "password_hash", "role", "is_active",
        "email_verified_at", "created_at", "updated_at", "version",
    }  # fmt: skip
    assert schema["tokens"] == {
        "id", "user_id", "family_id", "token_hash", "created_at", "expires_at",
        "used_at", "revoked_at", "user_agent", "ip", "session_started_at", "last_used_at",
        "kind", "mfa",
    }  # fmt: skip
    assert {"uq_users_email", "uq_refresh_tokens_token_hash"} <= schema["uniques"]  # type: ignore[operator]
    assert {
        "ix_refresh_tokens_user_id",
        "ix_refresh_tokens_family_id",
        "ix_refresh_tokens_revoked_at",
    } <= schema["indexes"]  # type: ignore[operator]
    assert schema["fks"] == {"fk_refresh_tokens_user_id_users"}


async def test_migration_matches_the_identity_table_metadata(container: Container) -> None:
    mine = {"users", "refresh_tokens", "signing_keys"}

    def include(obj: object, name: str | None, type_: str, *_: object) -> bool:
        table = getattr(obj, "table", obj) if type_ != "table" else obj
        return getattr(table, "name", name) in mine

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(
            sync_conn,  # type: ignore[arg-type]
            opts={"compare_type": True, "include_object": include},
        )
        return list(compare_metadata(context, load_metadata()))

    async with container.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
