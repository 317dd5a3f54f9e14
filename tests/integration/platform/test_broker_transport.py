"""The events backbone over a real RabbitMQ: what leaves the outbox reaches each
consumer's inbox through its queue, once in effect, and the shop keeps selling while
the broker is away.

Each test runs its own backbone (``build_events`` with a broker URL) on the suite's
database, with its own exchange and queues (``broker_names``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from uuid import UUID, uuid4

import aio_pika
import httpx
import pytest
from sqlalchemy import func, select

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.bootstrap.events import Events, build_events
from agora.platform.broker import RabbitPublisher, Topology
from agora.platform.db.tables import outbox_events
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events import DomainEvent, EventMessage
from agora.platform.events.consumers import Consumers
from tests.conftest import make_test_settings
from tests.support.accounts import Account
from tests.support.broker import BrokerNames, Effects, broker_port
from tests.support.catalog import create_product
from tests.support.tcp_proxy import tcp_proxy

EVENT = "identity.UserRegistered"


def registered(user: UUID) -> DomainEvent:
    return DomainEvent(
        EVENT, user, {"user_id": str(user), "email": f"{user.hex[:8]}@example.com", "role": "x"}
    )


async def commit(container: Container, *events: DomainEvent) -> None:
    async with SqlUnitOfWork(container.engine) as uow:
        for event in events:
            uow.record(event)
        await uow.commit()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running(events: Events) -> AsyncIterator[Events]:
    await events.backbone.start()
    try:
        yield events
    finally:
        await events.backbone.stop()


@pytest.fixture
async def probe(container: Container, effects_table: str) -> Effects:
    # What the rest of the suite left in the outbox is delivered first (embedded), so
    # this test's relay publishes only what the test commits.
    await container.events.backbone.drain()
    return Effects(container.engine, frozenset({EVENT}))


def broker_events(
    container: Container, names: BrokerNames, probe: Effects, broker_url: str | None = None
) -> Events:
    settings = make_test_settings(
        container.settings.database_url,
        **names.settings(broker_url),
        events_poll_seconds=0.2,
        events_retry_base_seconds=0.05,
        events_retry_max_seconds=0.2,
    )
    names.queue(probe.name)
    return build_events(settings, container.engine, Consumers([probe.consumer()]))


async def test_a_committed_event_is_published_persistent_and_handled_once(
    container: Container, broker_names: BrokerNames, probe: Effects
) -> None:
    # An observer queue on the exchange sees the message exactly as it travels.
    connection = await aio_pika.connect(broker_names.url)
    channel = await connection.channel()
    exchange = await Topology(broker_names.exchange).declare_exchange(channel)
    observer = await channel.declare_queue(broker_names.queue("observer"), durable=True)
    await observer.bind(exchange, routing_key="identity.*")
    user = uuid4()
    event = registered(user)
    try:
        async with running(broker_events(container, broker_names, probe)):
            await commit(container, event)
            await eventually(lambda: _has(probe, [event.id]))
            await asyncio.sleep(0.3)  # a second delivery would land by now
        assert await probe.event_ids() == [event.id]
        seen = await observer.get(timeout=5, fail=True)
        assert seen is not None
        assert seen.routing_key == EVENT
        assert seen.message_id == str(event.id)
        assert seen.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert seen.headers["name"] == EVENT
        assert seen.headers["aggregate_id"] == str(user)
        assert seen.headers["version"] == 1
        assert EventMessage.from_bytes(seen.body).payload == event.payload
        await seen.ack()
        # The consumer's queue is a durable quorum queue, drained.
        assert await broker_names.message_count(broker_names.queue(probe.name)) == 0
    finally:
        await connection.close()


async def test_an_event_published_twice_is_handled_once(
    container: Container, broker_names: BrokerNames, probe: Effects
) -> None:
    """A relay that died between the confirm and the mark publishes its batch again."""
    message = EventMessage(
        id=uuid4(),
        name=EVENT,
        version=1,
        aggregate_id=uuid4(),
        position=10**12,
        occurred_at=registered(uuid4()).occurred_at,
        payload=registered(uuid4()).payload,
    )
    publisher = RabbitPublisher(broker_names.url, Topology(broker_names.exchange))
    events = broker_events(container, broker_names, probe)
    try:
        async with running(events):
            subscribed = await _subscribed(events)
            await asyncio.wait_for(subscribed.wait(), 10)
            await publisher.publish([message, message])
            await publisher.publish([message])
            await eventually(lambda: _has(probe, [message.id]))
            await asyncio.sleep(0.5)
    finally:
        await publisher.close()
    assert await probe.event_ids() == [message.id]
    assert probe.calls == 1


async def test_a_malformed_message_goes_to_the_dead_queue_and_blocks_nothing(
    container: Container, broker_names: BrokerNames, probe: Effects
) -> None:
    events = broker_events(container, broker_names, probe)
    good = registered(uuid4())
    unknown = registered(uuid4())
    unknown_body = EventMessage(
        unknown.id, "identity.NoSuchEvent", 1, unknown.aggregate_id, 1, unknown.occurred_at, {}
    ).to_bytes()
    connection = await aio_pika.connect(broker_names.url)
    try:
        async with running(events):
            await asyncio.wait_for((await _subscribed(events)).wait(), 10)
            channel = await connection.channel(publisher_confirms=True)
            exchange = await Topology(broker_names.exchange).declare_exchange(channel)
            for body in (b"not json at all", b'{"id": "nope"}', unknown_body):
                await exchange.publish(aio_pika.Message(body), routing_key=EVENT)
            # A declared event this consumer does not subscribe to (a binding left from an
            # earlier subscription): acknowledged and ignored, neither handled nor dead.
            product = uuid4()
            stock = {
                "product_id": str(product),
                "sku": "SKU-1",
                "version": 1,
                "is_published": True,
                "stock": 3,
                "delta": 1,
                "reason": "recount",
            }
            other = EventMessage(
                uuid4(), "catalog.StockAdjusted", 1, product, 2, good.occurred_at, stock
            )
            await exchange.publish(aio_pika.Message(other.to_bytes()), routing_key=EVENT)
            await commit(container, good)
            await eventually(lambda: _has(probe, [good.id]))
            await eventually(lambda: _count(broker_names, broker_names.dead_queue, 3))
        assert await probe.event_ids() == [good.id]
        assert await broker_names.message_count(broker_names.queue(probe.name)) == 0
        channel = await connection.channel()
        dead = await channel.declare_queue(broker_names.dead_queue, passive=True)
        reasons = []
        for _ in range(3):
            message = await dead.get(timeout=5, fail=True)
            assert message is not None
            assert message.headers["x-agora-consumer"] == probe.name
            reasons.append(str(message.headers["x-agora-reason"]))
            await message.ack()
        assert await broker_names.message_count(broker_names.dead_queue) == 0, "three, no more"
        assert any("not an event message" in r for r in reasons)
        assert any("identity.NoSuchEvent" in r for r in reasons)
    finally:
        await connection.close()


async def test_orders_commit_while_the_broker_is_down_and_delivery_resumes_after(
    container: Container,
    *,
    client: httpx.AsyncClient,
    staff: Account,
    customer: Account,
    broker_names: BrokerNames,
    probe: Effects,
) -> None:
    probe = Effects(probe.engine, frozenset({"ordering.OrderPlaced"}))
    product = await create_product(client, staff.headers, stock=50)
    order = {
        "payment_token": "tok_success",
        "items": [{"product_id": product["id"], "quantity": 1}],
    }
    async with tcp_proxy(broker_port(broker_names.url)) as proxy:
        via_proxy = proxy.url_for(broker_names.url)
        events = broker_events(container, broker_names, probe, via_proxy)
        ops = await build_container(
            make_test_settings(container.settings.database_url, broker_url=via_proxy)
        )
        ops_client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(ops.settings, container=ops)),
            base_url="http://ops",
        )
        try:
            async with running(events):
                await asyncio.wait_for((await _subscribed(events)).wait(), 10)
                await proxy.cut()
                placed = []
                for _ in range(5):
                    response = await client.post(
                        "/api/v1/orders", json=order, headers=customer.headers
                    )
                    assert response.status_code == 201, response.text
                    placed.append(UUID(response.json()["data"]["id"]))
                # Readiness names the broker but keeps the instance in service; the
                # outbox keeps every event meanwhile.
                ready = await ops_client.get("/health/ready")
                assert ready.status_code == 200
                assert ready.json()["data"]["degraded"] == ["broker"]
                assert ready.json()["data"]["checks"]["broker"]["status"] == "degraded"
                await asyncio.sleep(6.0)  # long enough for the relay's backoff to grow
                assert await _unpublished(container, placed) == 5
                assert await _aggregates(probe) == set()

                # Back: the reconnected publisher ends the relay's backoff at once.
                await proxy.restore()
                await eventually(lambda: _aggregates_are(probe, set(placed)), 4)
                ready = (await ops_client.get("/health/ready")).json()["data"]
                assert (ready["status"], ready["degraded"]) == ("ok", [])
            assert await _unpublished(container, placed) == 0
            assert sorted(await probe.aggregate_ids()) == sorted(placed)
        finally:
            await ops_client.aclose()
            await ops.close()


async def test_a_worker_started_while_the_broker_is_down_delivers_once_it_is_up(
    container: Container, broker_names: BrokerNames, probe: Effects
) -> None:
    async with tcp_proxy(broker_port(broker_names.url)) as proxy:
        await proxy.cut()
        events = broker_events(container, broker_names, probe, proxy.url_for(broker_names.url))
        async with running(events):
            event = registered(uuid4())
            await commit(container, event)  # the shop commits as usual
            await asyncio.sleep(4.0)
            assert await probe.event_ids() == []
            await proxy.restore()
            await eventually(lambda: _has(probe, [event.id]), 8)
        assert await probe.event_ids() == [event.id]


# -- helpers --------------------------------------------------------------------------


async def _subscribed(events: Events) -> asyncio.Event:
    """The backbone's subscriber's connected flag (set once its queues are consumed)."""
    subscriber = events.subscriber
    assert subscriber is not None
    return subscriber.connected


async def _has(probe: Effects, ids: list[UUID]) -> bool:
    return set(ids) <= set(await probe.event_ids())


async def _count(names: BrokerNames, queue: str, expected: int) -> bool:
    return await names.message_count(queue) >= expected


async def _unpublished(container: Container, orders: list[UUID]) -> int:
    o = outbox_events
    async with container.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count())
                    .select_from(o)
                    .where(
                        o.c.aggregate_id.in_(orders),
                        o.c.name == "ordering.OrderPlaced",
                        o.c.published_at.is_(None),
                    )
                )
            ).scalar_one()
        )


async def _aggregates(probe: Effects) -> set[UUID]:
    return set(await probe.aggregate_ids())


async def _aggregates_are(probe: Effects, expected: set[UUID]) -> bool:
    return await _aggregates(probe) == expected
