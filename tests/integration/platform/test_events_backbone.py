"""The events backbone on the real database, embedded delivery: every committed event
reaches each consumer once in effect, in order per aggregate, through failures.

Each test builds its own backbone (``build_events``) with its own consumers, beside the
container's, on the suite's migrated database. The consumers' effect is a row in a
scratch table written through a unit of work inside the inbox's transaction, so "once
in effect" is counted in the database itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.bootstrap import Container
from agora.bootstrap.events import Events, build_events
from agora.platform.db.inbox import SqlInbox, message_of
from agora.platform.db.listener import OUTBOX_CHANNEL, PgNotifications
from agora.platform.db.tables import outbox_events
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events import DomainEvent
from agora.platform.events.consumers import Consumer, Consumers, Received
from agora.platform.events.ports import ConsumerLag
from agora.platform.settings import Settings
from tests.conftest import make_test_settings

EVENT = "identity.UserRegistered"


def registered(aggregate: UUID, email: str = "someone@example.com") -> DomainEvent:
    return DomainEvent(
        EVENT, aggregate, {"user_id": str(aggregate), "email": email, "role": "customer"}
    )


@pytest.fixture(scope="module")
async def effects(container: Container) -> AsyncIterator[str]:
    async with container.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS test_event_effects ("
                " consumer VARCHAR(100) NOT NULL, event_id VARCHAR(36) NOT NULL,"
                " aggregate_id VARCHAR(36) NOT NULL, email VARCHAR(200) NOT NULL,"
                " seq INTEGER NOT NULL)"
            )
        )
    yield "test_event_effects"
    async with container.engine.begin() as conn:
        await conn.execute(text("DROP TABLE test_event_effects"))


class Effects:
    """A consumer that writes one effect row per event it handles, and can be told to fail."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.fail: Callable[[Received[Any]], bool] = lambda _event: False
        self.seq = 0

    def consumer(self) -> Consumer:
        return Consumer(self.name, frozenset({EVENT}), self.handle, "test effects")

    async def handle(self, event: Received[Any]) -> None:
        self.seq += 1
        async with SqlUnitOfWork(self.engine) as uow:  # joins the inbox's transaction
            await uow.connection.execute(
                text(
                    "INSERT INTO test_event_effects (consumer, event_id, aggregate_id, email, seq)"
                    " VALUES (:c, :e, :a, :m, :s)"
                ),
                {
                    "c": self.name,
                    "e": str(event.id),
                    "a": str(event.aggregate_id),
                    "m": event.payload.email,
                    "s": self.seq,
                },
            )
            await uow.commit()
        if self.fail(event):
            raise RuntimeError(f"cannot handle {event.payload.email} yet")

    async def rows(self) -> list[tuple[str, str, str]]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT event_id, aggregate_id, email FROM test_event_effects"
                    " WHERE consumer = :c ORDER BY seq"
                ),
                {"c": self.name},
            )
            return [tuple(row) for row in result.all()]  # type: ignore[misc]

    async def emails(self) -> list[str]:
        return [email for _, _, email in await self.rows()]


def backbone_for(
    container: Container, *consumers: Consumer, settings: Settings | None = None
) -> Events:
    """A backbone with the container's consumers and these, as one more process would run."""
    return build_events(
        settings or container.settings,
        container.engine,
        Consumers([*container.events.consumers, *consumers]),
    )


async def commit(engine: AsyncEngine, *events: DomainEvent) -> None:
    async with SqlUnitOfWork(engine) as uow:
        for event in events:
            uow.record(event)
        await uow.commit()


async def lag_of(events: Events, consumer: str) -> ConsumerLag:
    status = await events.admin.status([consumer])
    return next(lag for lag in status.consumers if lag.consumer == consumer)


@pytest.fixture
async def probe(container: Container, effects: str) -> Effects:
    # Events the rest of the suite committed are relayed first, so that a consumer
    # subscribed from here on sees only what its own test commits.
    await backbone_for(container).backbone.drain()
    return Effects(container.engine, f"test.effects-{uuid4().hex[:8]}")


async def test_a_committed_event_is_handled_once_with_its_typed_payload(
    container: Container, probe: Effects
) -> None:
    events = backbone_for(container, probe.consumer())
    user = uuid4()
    await commit(container.engine, registered(user, "ada@example.com"))

    await events.backbone.drain()
    await events.backbone.drain()  # nothing is handled twice

    assert await probe.emails() == ["ada@example.com"]
    lag = next(
        c for c in (await events.admin.status([probe.name])).consumers if c.consumer == probe.name
    )
    assert (lag.pending, lag.handled, lag.dead) == (0, 1, 0)


async def test_a_redelivered_copy_is_ignored(container: Container, probe: Effects) -> None:
    events = backbone_for(container, probe.consumer())
    user = uuid4()
    await commit(container.engine, registered(user, "copy@example.com"))
    await events.backbone.drain()
    (item,) = [
        i
        for i in await SqlInbox(container.engine).due(probe.name, 100)
        if i.message.aggregate_id == user
    ] or [None]
    assert item is None  # handled, so nothing is due

    # The broker (or a relay that died before marking) delivers the same event again.
    async with container.engine.connect() as conn:
        row = (
            await conn.execute(select(outbox_events).where(outbox_events.c.aggregate_id == user))
        ).one()
    copy = message_of(row, row.id)
    assert await SqlInbox(container.engine).receive(probe.name, [copy]) == 0
    await events.backbone.drain()
    assert await probe.emails() == ["copy@example.com"]


async def test_an_event_of_a_rolled_back_transaction_never_reaches_anyone(
    container: Container, probe: Effects
) -> None:
    events = backbone_for(container, probe.consumer())
    async with SqlUnitOfWork(container.engine) as uow:
        uow.record(registered(uuid4(), "never@example.com"))
        # leaving without commit rolls the change and its event back
    await commit(container.engine, registered(uuid4(), "kept@example.com"))
    await events.backbone.drain()
    assert await probe.emails() == ["kept@example.com"]


async def test_a_failing_handler_leaves_no_effect_and_is_retried_with_backoff(
    container: Container, probe: Effects
) -> None:
    settings = make_test_settings(
        container.settings.database_url,
        events_retry_base_seconds=60.0,
        events_max_attempts=5,
    )
    events = backbone_for(container, probe.consumer(), settings=settings)
    probe.fail = lambda _event: True
    await commit(container.engine, registered(uuid4(), "flaky@example.com"))

    await events.backbone.drain()

    assert await probe.rows() == []  # its write rolled back with the failure
    async with container.engine.connect() as conn:
        attempts, error = (
            await conn.execute(
                text("SELECT attempts, last_error FROM event_inbox WHERE consumer = :c"),
                {"c": probe.name},
            )
        ).one()
    assert attempts == 1
    assert "cannot handle flaky@example.com yet" in error
    # Not retried at once: the next attempt waits (half to all of the base delay).
    lag = await lag_of(events, probe.name)
    assert (lag.pending, lag.retrying) == (1, 1)
    await events.backbone.drain()
    assert await probe.rows() == []

    probe.fail = lambda _event: False
    async with container.engine.begin() as conn:  # time passes
        await conn.execute(
            text("UPDATE event_inbox SET next_attempt_at = occurred_at WHERE consumer = :c"),
            {"c": probe.name},
        )
    await events.backbone.drain()
    assert await probe.emails() == ["flaky@example.com"]


async def test_poison_is_dead_lettered_while_other_aggregates_flow_then_replayed(
    container: Container, probe: Effects
) -> None:
    settings = make_test_settings(
        container.settings.database_url,
        events_retry_base_seconds=0.001,
        events_retry_max_seconds=0.001,
        events_max_attempts=3,
    )
    events = backbone_for(container, probe.consumer(), settings=settings)
    probe.fail = lambda event: event.payload.email == "poison@example.com"
    poison, healthy = uuid4(), uuid4()
    await commit(container.engine, registered(poison, "poison@example.com"))
    await commit(container.engine, registered(healthy, "healthy@example.com"))

    for _ in range(10):
        await events.backbone.drain()
        await asyncio.sleep(0.01)

    assert await probe.emails() == ["healthy@example.com"]
    letters = await events.admin.dead_letters(50, consumer=probe.name)
    (letter,) = letters
    assert (letter.aggregate_id, letter.attempts) == (poison, 3)
    assert "cannot handle poison@example.com yet" in letter.last_error
    lag = next(
        c for c in (await events.admin.status([probe.name])).consumers if c.consumer == probe.name
    )
    assert (lag.dead, lag.pending) == (1, 0)

    probe.fail = lambda _event: False  # the bug is fixed
    assert await events.admin.replay(letter.event_id, consumer=probe.name) == 1
    await events.backbone.drain()
    assert sorted(await probe.emails()) == ["healthy@example.com", "poison@example.com"]
    assert await events.admin.dead_letters(50, consumer=probe.name) == []


async def test_purged_dead_letters_stay_ignored_when_redelivered(
    container: Container, probe: Effects
) -> None:
    settings = make_test_settings(container.settings.database_url, events_max_attempts=1)
    events = backbone_for(container, probe.consumer(), settings=settings)
    probe.fail = lambda _event: True
    await commit(container.engine, registered(uuid4(), "purge@example.com"))
    await events.backbone.drain()
    (letter,) = await events.admin.dead_letters(10, consumer=probe.name)

    assert await events.admin.purge(letter.event_id, consumer=probe.name) == 1
    assert await events.admin.dead_letters(10, consumer=probe.name) == []
    assert await events.admin.replay(letter.event_id, consumer=probe.name) == 0
    probe.fail = lambda _event: False
    await events.backbone.drain()
    assert await probe.rows() == []


async def test_one_aggregates_events_are_handled_in_commit_order(
    container: Container, probe: Effects
) -> None:
    settings = make_test_settings(
        container.settings.database_url,
        events_retry_base_seconds=0.001,
        events_retry_max_seconds=0.001,
    )
    events = backbone_for(container, probe.consumer(), settings=settings)
    first_tries = {"a1@example.com"}
    probe.fail = lambda event: event.payload.email in first_tries
    a, b = uuid4(), uuid4()
    await commit(container.engine, registered(a, "a1@example.com"))
    await commit(container.engine, registered(a, "a2@example.com"), registered(b, "b1@example.com"))

    await events.backbone.drain(rounds=1)
    # a1 failed: a2 waits behind it, b1 (another aggregate) does not.
    assert await probe.emails() == ["b1@example.com"]

    first_tries.clear()
    await asyncio.sleep(0.01)
    await events.backbone.drain()
    assert await probe.emails() == ["b1@example.com", "a1@example.com", "a2@example.com"]


async def test_the_relay_parks_an_event_that_breaks_its_schema_and_the_rest_flow(
    container: Container, probe: Effects
) -> None:
    events = backbone_for(container, probe.consumer())
    broken, fine = uuid4(), uuid4()
    await commit(container.engine, DomainEvent(EVENT, broken, {"user_id": str(broken)}))
    await commit(container.engine, registered(fine, "fine@example.com"))

    await events.backbone.drain()

    assert await probe.emails() == ["fine@example.com"]
    parked = await events.admin.dead_letters(100, consumer="relay")
    (letter,) = [letter for letter in parked if letter.aggregate_id == broken]
    assert "email: Field required" in letter.last_error
    assert await events.admin.purge(letter.event_id, consumer="relay") == 1


async def test_concurrent_writers_and_two_backbones_handle_every_event_exactly_once(
    container: Container, probe: Effects
) -> None:
    first = backbone_for(container, probe.consumer())
    second = backbone_for(container, probe.consumer())
    await first.backbone.start()
    await second.backbone.start()
    committed: list[str] = []

    async def writer(n: int) -> None:
        for k in range(10):
            email = f"w{n}-{k}@example.com"
            if k % 4 == 3:  # every fourth transaction rolls back
                async with SqlUnitOfWork(container.engine) as uow:
                    uow.record(registered(uuid4(), email))
                continue
            await commit(container.engine, registered(uuid4(), email))
            committed.append(email)

    try:
        await asyncio.gather(*(writer(n) for n in range(8)))
        for _ in range(200):
            if len(await probe.rows()) >= len(committed):
                break
            await asyncio.sleep(0.05)
    finally:
        await first.backbone.stop()
        await second.backbone.stop()
    emails = await probe.emails()
    assert sorted(emails) == sorted(committed)  # each once, none rolled back
    assert len({event_id for event_id, _, _ in await probe.rows()}) == len(committed)


async def test_a_running_backbone_wakes_on_commit_without_waiting_for_its_poll(
    container: Container, probe: Effects
) -> None:
    settings = make_test_settings(container.settings.database_url, events_poll_seconds=60.0)
    events = backbone_for(container, probe.consumer(), settings=settings)
    await events.backbone.start()
    try:
        await asyncio.sleep(0.1)  # the loops are asleep now, for a minute
        await commit(container.engine, registered(uuid4(), "wake@example.com"))
        for _ in range(100):
            if await probe.rows():
                break
            await asyncio.sleep(0.05)
    finally:
        await events.backbone.stop()
    assert await probe.emails() == ["wake@example.com"]


async def test_postgres_notify_wakes_a_listener_in_another_process(
    container: Container, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite runs one process")
    woken = asyncio.Event()
    listener = PgNotifications(
        container.settings.database_url, {OUTBOX_CHANNEL: lambda _p: woken.set()}
    )
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(woken.wait(), 10)  # the catch-up call on connecting
        woken.clear()
        await commit(container.engine, registered(uuid4(), "notify@example.com"))
        await asyncio.wait_for(woken.wait(), 10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
