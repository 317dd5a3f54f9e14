"""The unit of work: nothing persists without commit; events reach the outbox with the change."""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy import func, insert, select

from agora.bootstrap import Container
from agora.platform.clock import utcnow
from agora.platform.db.tables import idempotency_keys, outbox_events
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events import DomainEvent
from agora.platform.ids import new_id


async def _count_outbox(container: Container, aggregate_id: object) -> int:
    async with container.engine.connect() as conn:
        query = select(func.count()).where(outbox_events.c.aggregate_id == aggregate_id)
        return int((await conn.execute(query)).scalar_one())


async def test_leaving_without_commit_rolls_back_changes_and_events(
    container: Container,
) -> None:
    aggregate = new_id()
    key = f"k-{aggregate}"
    async with SqlUnitOfWork(container.engine) as uow:
        await uow.connection.execute(
            insert(idempotency_keys).values(
                scope="test", key=key, request_hash="x", created_at=utcnow()
            )
        )
        uow.record(DomainEvent("test.Happened", aggregate, {"n": 1}))
    async with container.engine.connect() as conn:
        found = await conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key))
        assert found.first() is None
    assert await _count_outbox(container, aggregate) == 0


async def test_commit_writes_recorded_events_to_the_outbox(container: Container) -> None:
    aggregate = new_id()
    async with SqlUnitOfWork(container.engine) as uow:
        uow.record(DomainEvent("test.Happened", aggregate, {"n": 1}))
        uow.record(DomainEvent("test.HappenedAgain", aggregate, {"n": 2}))
        await uow.commit()
    assert await _count_outbox(container, aggregate) == 2
    async with container.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox_events.c.name, outbox_events.c.payload, outbox_events.c.published_at)
                .where(outbox_events.c.aggregate_id == aggregate)
                .order_by(outbox_events.c.name)
            )
        ).all()
    assert [(r.name, r.payload, r.published_at) for r in rows] == [
        ("test.Happened", {"n": 1}, None),
        ("test.HappenedAgain", {"n": 2}, None),
    ]


async def test_an_exception_inside_the_unit_rolls_back(container: Container) -> None:
    aggregate = new_id()
    try:
        async with SqlUnitOfWork(container.engine) as uow:
            uow.record(DomainEvent("test.Happened", aggregate, {}))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert await _count_outbox(container, aggregate) == 0


# -- nested units: one transaction, committed by the outermost unit ----------------------


async def _count_keys(container: Container, key: str) -> int:
    """Committed claims of ``key``, read from another connection (a reader on SQLite)."""
    async with SqlUnitOfWork(container.engine, read_only=True, join=False) as uow:
        query = select(func.count()).where(idempotency_keys.c.key == key)
        return int((await uow.connection.execute(query)).scalar_one())


async def _claim(uow: SqlUnitOfWork, key: str) -> None:
    await uow.connection.execute(
        insert(idempotency_keys).values(
            scope="test", key=key, request_hash="x", created_at=utcnow()
        )
    )


async def test_a_nested_unit_commits_only_with_the_outermost(container: Container) -> None:
    inner_key, outer_key = f"inner-{new_id()}", f"outer-{new_id()}"

    async def nested_then_fail() -> None:
        async with SqlUnitOfWork(container.engine) as outer:
            await _claim(outer, outer_key)
            async with SqlUnitOfWork(container.engine) as inner:
                assert inner.joined
                assert inner.connection is outer.connection
                await _claim(inner, inner_key)
                await inner.commit()
            raise RuntimeError("the outer unit fails after the inner one committed")

    with suppress(RuntimeError):
        await nested_then_fail()
    assert await _count_keys(container, inner_key) == 0
    assert await _count_keys(container, outer_key) == 0

    async with SqlUnitOfWork(container.engine) as outer:
        async with SqlUnitOfWork(container.engine) as inner:
            await _claim(inner, inner_key)
            await inner.commit()
        assert await _count_keys(container, inner_key) == 0  # not yet: outer still open
        await outer.commit()
    assert await _count_keys(container, inner_key) == 1


async def test_a_failed_nested_unit_rolls_back_only_its_own_work(container: Container) -> None:
    inner_key, outer_key = f"inner-{new_id()}", f"outer-{new_id()}"
    async with SqlUnitOfWork(container.engine) as outer:
        await _claim(outer, outer_key)
        try:
            async with SqlUnitOfWork(container.engine) as inner:
                await _claim(inner, inner_key)
                raise RuntimeError("the inner unit fails")
        except RuntimeError:
            pass
        await outer.commit()
    assert await _count_keys(container, inner_key) == 0
    assert await _count_keys(container, outer_key) == 1


async def test_after_the_outermost_commits_units_open_their_own(container: Container) -> None:
    later_key = f"later-{new_id()}"
    async with SqlUnitOfWork(container.engine) as outer:
        await outer.commit()
        async with SqlUnitOfWork(container.engine) as later:
            assert not later.joined
            await _claim(later, later_key)
            await later.commit()
    assert await _count_keys(container, later_key) == 1
    async with SqlUnitOfWork(container.engine) as first:
        async with SqlUnitOfWork(container.engine, read_only=True, join=False) as own:
            assert not own.joined
            assert own.connection is not first.connection
        assert not first.joined


async def test_a_nested_units_events_reach_the_outbox_with_the_outermost(
    container: Container,
) -> None:
    rolled_back, committed = new_id(), new_id()
    for aggregate, commit in ((rolled_back, False), (committed, True)):
        async with SqlUnitOfWork(container.engine) as outer:
            async with SqlUnitOfWork(container.engine) as inner:
                inner.record(DomainEvent("test.Happened", aggregate, {}))
                await inner.commit()
            if commit:
                await outer.commit()
    assert await _count_outbox(container, rolled_back) == 0
    assert await _count_outbox(container, committed) == 1
