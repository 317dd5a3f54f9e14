"""The audit record of an action commits with the action or not at all (ADR 0022).

Faults are injected for real: a trigger refuses the audit insert (as a broken or full
trail would) or the outbox insert that comes after the record, so the action's own
transaction fails after its record was written. Both databases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.audit.adapters.tables import audit_records
from agora.audit.domain import ChainReport
from agora.bootstrap import Container
from agora.catalog.adapters.tables import products
from agora.identity.access.domain import OwnAccessError
from agora.platform.access import Principal, Role
from agora.platform.db.transaction import SqlUnitOfWork
from tests.support.accounts import Account, stored_user
from tests.support.catalog import create_product


@asynccontextmanager
async def refusing_inserts(engine: AsyncEngine, table: str, condition: str) -> AsyncIterator[None]:
    """While open, the database refuses to insert rows of ``table`` matching ``condition``."""
    name = f"agora_test_refuse_{uuid.uuid4().hex[:10]}"
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        if postgres:
            await conn.execute(
                text(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN RAISE EXCEPTION '{table} refused for the test'; END $$"
                )
            )
            await conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
                    f"WHEN ({condition}) EXECUTE FUNCTION {name}()"
                )
            )
        else:
            await conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {condition} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} refused for the test'); END"
                )
            )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TRIGGER {name}" + (f" ON {table}" if postgres else "")))
            if postgres:
                await conn.execute(text(f"DROP FUNCTION {name}()"))


def uuid_literal(engine: AsyncEngine, value: UUID) -> str:
    """``value`` as the database stores a UUID column (native on PostgreSQL, hex on SQLite)."""
    return f"'{value}'::uuid" if engine.dialect.name == "postgresql" else f"'{value.hex}'"


async def records_for(engine: AsyncEngine, target_id: str) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(audit_records.c.action, audit_records.c.outcome)
            .where(audit_records.c.target_id == target_id)
            .order_by(audit_records.c.seq)
        )
        return [(row.action, row.outcome) for row in rows]


async def is_deleted(engine: AsyncEngine, product_id: UUID) -> bool:
    async with engine.connect() as conn:
        deleted_at = await conn.scalar(
            select(products.c.deleted_at).where(products.c.id == product_id)
        )
    return deleted_at is not None


async def intact_chain(container: Container) -> ChainReport:
    report = await container.infrastructure.audit.verify()
    assert report.intact, report.broken
    return report


@pytest.fixture
async def product_id(client: httpx.AsyncClient, admin: Account) -> UUID:
    return UUID((await create_product(client, admin.headers))["id"])


def principal_of(account: Account) -> Principal:
    return Principal.for_user(account.id, account.role)


async def test_an_action_rolled_back_after_its_record_leaves_neither(
    container: Container, admin: Account, product_id: UUID
) -> None:
    engine = container.engine
    before = await intact_chain(container)

    async def change_record_then_fail() -> None:
        async with SqlUnitOfWork(engine) as uow:
            await uow.connection.execute(
                update(products).where(products.c.id == product_id).values(name="Changed")
            )
            await container.infrastructure.audit.record(
                "catalog.product_deleted", actor_id=admin.id, target_id=str(product_id)
            )
            raise RuntimeError("the action fails after the record")

    with pytest.raises(RuntimeError, match="after the record"):
        await change_record_then_fail()
    async with engine.connect() as conn:
        name = await conn.scalar(select(products.c.name).where(products.c.id == product_id))
    assert name != "Changed"
    assert await records_for(engine, str(product_id)) == []
    assert (await intact_chain(container)).last_seq == before.last_seq


async def test_a_deletion_whose_commit_fails_after_the_record_keeps_neither(
    container: Container, admin: Account, product_id: UUID
) -> None:
    engine = container.engine
    catalog = container.commerce.catalog
    before = await intact_chain(container)
    # The deletion's event goes to the outbox at commit, after the audit record.
    refused = f"NEW.aggregate_id = {uuid_literal(engine, product_id)}"
    async with refusing_inserts(engine, "outbox_events", refused):
        with pytest.raises(DBAPIError):
            await catalog.delete_product(principal_of(admin), product_id)
    assert not await is_deleted(engine, product_id)
    assert await records_for(engine, str(product_id)) == []
    assert (await intact_chain(container)).last_seq == before.last_seq
    # Once the outbox takes it again, the deletion and its one record commit together.
    await catalog.delete_product(principal_of(admin), product_id)
    assert await is_deleted(engine, product_id)
    assert await records_for(engine, str(product_id)) == [("catalog.product_deleted", "success")]
    assert (await intact_chain(container)).last_seq == before.last_seq + 1


async def test_a_record_that_cannot_be_written_rolls_the_action_back(
    container: Container, admin: Account, product_id: UUID
) -> None:
    engine = container.engine
    before = await intact_chain(container)
    async with refusing_inserts(engine, "audit_records", f"NEW.target_id = '{product_id}'"):
        with pytest.raises(DBAPIError):
            await container.commerce.catalog.delete_product(principal_of(admin), product_id)
    # No deletion without its record: the product is still in the catalog.
    assert not await is_deleted(engine, product_id)
    assert await records_for(engine, str(product_id)) == []
    assert (await intact_chain(container)).last_seq == before.last_seq


async def test_a_refusal_stands_when_its_record_cannot_be_written(
    container: Container, admin: Account
) -> None:
    """A refused attempt has no action to roll back: the caller gets the refusal."""
    engine = container.engine
    users = container.identity.users
    before = await records_for(engine, str(admin.id))
    async with refusing_inserts(engine, "audit_records", f"NEW.target_id = '{admin.id}'"):
        with pytest.raises(OwnAccessError):
            await users.update_user(principal_of(admin), admin.id, role=Role.CUSTOMER)
    assert await records_for(engine, str(admin.id)) == before  # logged instead
    assert (await users.get_user(principal_of(admin), admin.id)).role is Role.ADMIN
    # With the trail back, the refusal is recorded in a transaction of its own.
    with pytest.raises(OwnAccessError):
        await users.update_user(principal_of(admin), admin.id, role=Role.CUSTOMER)
    assert await records_for(engine, str(admin.id)) == [*before, ("users.role_changed", "failure")]


async def test_concurrent_audited_actions_leave_one_unforked_chain(
    container: Container, admin: Account
) -> None:
    engine = container.engine
    customers = [await stored_user(engine, prefix="audit-race") for _ in range(20)]
    before = await intact_chain(container)

    changed = await asyncio.gather(
        *(
            container.identity.users.update_user(principal_of(admin), user.id, role=Role.STAFF)
            for user in customers
        )
    )

    assert {user.role for user in changed} == {Role.STAFF}
    after = await intact_chain(container)
    assert after.last_seq == before.last_seq + 20
    assert after.checked == before.checked + 20
    for user in customers:
        assert await records_for(engine, str(user.id)) == [("users.role_changed", "success")]


async def test_through_the_api_a_change_without_its_record_is_an_error_and_not_made(
    container: Container, client: httpx.AsyncClient, admin: Account
) -> None:
    customer = await stored_user(container.engine, prefix="audit-api")
    target = f"/api/v1/users/{customer.id}"
    async with refusing_inserts(
        container.engine, "audit_records", f"NEW.target_id = '{customer.id}'"
    ):
        refused = await client.patch(target, json={"role": "staff"}, headers=admin.headers)
    assert refused.status_code in (500, 503), refused.text
    assert refused.json()["success"] is False
    shown = await client.get(target, headers=admin.headers)
    assert shown.json()["data"]["role"] == "customer"
    assert await records_for(container.engine, str(customer.id)) == []
    # With the trail writable, the same request succeeds and is recorded once.
    changed = await client.patch(target, json={"role": "staff"}, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    assert await records_for(container.engine, str(customer.id)) == [
        ("users.role_changed", "success")
    ]
