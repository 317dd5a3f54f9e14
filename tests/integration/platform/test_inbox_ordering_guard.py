"""Through a broker, an aggregate's events can reach a consumer's inbox out of order (a
subscriber failover hands back unacknowledged messages after later ones were taken).
The inbox then holds a later event back until the earlier one arrives, so each
aggregate is still handled in commit order; an earlier event that never comes (it was
published before the consumer's queue existed) stops holding after the window."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select, update

from agora.bootstrap import Container
from agora.platform.clock import utcnow
from agora.platform.db.inbox import REORDER_WINDOW, SqlInbox, message_of
from agora.platform.db.tables import outbox_events as o
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events import DomainEvent, EventMessage

EVENT = "identity.UserRegistered"


def registered(aggregate: UUID, n: int) -> DomainEvent:
    return DomainEvent(
        EVENT, aggregate, {"user_id": str(aggregate), "email": f"u{n}@example.com", "role": "c"}
    )


@pytest.fixture
async def two_events(container: Container) -> tuple[EventMessage, EventMessage]:
    """Two events of one aggregate, committed one after the other, published now."""
    aggregate = uuid4()
    for n in (1, 2):
        async with SqlUnitOfWork(container.engine) as uow:
            uow.record(registered(aggregate, n))
            await uow.commit()
    async with container.engine.begin() as conn:
        await conn.execute(
            update(o).where(o.c.aggregate_id == aggregate).values(published_at=utcnow())
        )
        rows = (
            await conn.execute(
                select(o).where(o.c.aggregate_id == aggregate).order_by(o.c.position)
            )
        ).all()
    first, second = (message_of(row, row.id) for row in rows)
    return first, second


def ids(items: list[object]) -> list[UUID]:
    return [item.message.id for item in items]  # type: ignore[attr-defined]


async def test_a_later_event_waits_for_the_earlier_one_of_its_aggregate(
    container: Container, two_events: tuple[EventMessage, EventMessage]
) -> None:
    first, second = two_events
    consumer = f"test.guard-{uuid4().hex[:8]}"
    inbox = SqlInbox(container.engine, guard_order={consumer: frozenset({EVENT})})

    await inbox.receive(consumer, [second])  # overtook the first on the way
    assert ids(await inbox.due(consumer, 10)) == []

    await inbox.receive(consumer, [first])
    assert ids(await inbox.due(consumer, 10)) == [first.id]


async def test_without_the_guard_the_overtaking_event_would_be_handled_first(
    container: Container, two_events: tuple[EventMessage, EventMessage]
) -> None:
    """What the guard prevents (embedded delivery needs no guard: the relay writes the
    inboxes in commit order)."""
    _, second = two_events
    consumer = f"test.guard-{uuid4().hex[:8]}"
    inbox = SqlInbox(container.engine)
    await inbox.receive(consumer, [second])
    assert ids(await inbox.due(consumer, 10)) == [second.id]


async def test_an_earlier_event_this_consumer_does_not_take_holds_nothing(
    container: Container, two_events: tuple[EventMessage, EventMessage]
) -> None:
    _, second = two_events
    consumer = f"test.guard-{uuid4().hex[:8]}"
    inbox = SqlInbox(container.engine, guard_order={consumer: frozenset({"catalog.Other"})})
    await inbox.receive(consumer, [second])
    assert ids(await inbox.due(consumer, 10)) == [second.id]


async def test_an_earlier_event_that_never_comes_holds_only_for_the_window(
    container: Container, two_events: tuple[EventMessage, EventMessage]
) -> None:
    first, second = two_events
    consumer = f"test.guard-{uuid4().hex[:8]}"
    inbox = SqlInbox(container.engine, guard_order={consumer: frozenset({EVENT})})
    await inbox.receive(consumer, [second])
    assert ids(await inbox.due(consumer, 10)) == []

    long_ago = utcnow() - REORDER_WINDOW - timedelta(seconds=1)
    async with container.engine.begin() as conn:
        await conn.execute(update(o).where(o.c.id == first.id).values(published_at=long_ago))
    assert ids(await inbox.due(consumer, 10)) == [second.id]


async def test_other_aggregates_flow_while_one_waits(
    container: Container, two_events: tuple[EventMessage, EventMessage]
) -> None:
    _, second = two_events
    consumer = f"test.guard-{uuid4().hex[:8]}"
    inbox = SqlInbox(container.engine, guard_order={consumer: frozenset({EVENT})})
    other = uuid4()
    async with SqlUnitOfWork(container.engine) as uow:
        uow.record(registered(other, 3))
        await uow.commit()
    async with container.engine.begin() as conn:
        await conn.execute(update(o).where(o.c.aggregate_id == other).values(published_at=utcnow()))
        row = (await conn.execute(select(o).where(o.c.aggregate_id == other))).one()
    unrelated = message_of(row, row.id)

    await inbox.receive(consumer, [second, unrelated])
    assert ids(await inbox.due(consumer, 10)) == [unrelated.id]
