"""A set test of the RabbitMQ transport, in the manner of Jepsen's: many events are
committed (and some rolled back), and orders placed through checkout, while the broker's
network is cut and restored, a relay dies between the broker's confirm and its mark, two
relays and two subscribers run at once and the consumer's handler fails now and then. At
the end the consumer's effect table must hold every committed event exactly once and
none of the rolled back ones, and every paid order's event exactly once.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import select

from agora.bootstrap import Container
from agora.bootstrap.events import Events, build_events
from agora.platform.access import Principal, Role
from agora.platform.broker import RabbitPublisher, Topology
from agora.platform.db.tables import outbox_events
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.errors import PaymentDeclinedError
from agora.platform.events import DomainEvent, EventMessage
from agora.platform.events.consumers import Consumers
from agora.platform.settings import Settings
from tests.conftest import make_test_settings
from tests.support.accounts import Account
from tests.support.broker import BrokerNames, Effects, broker_port
from tests.support.catalog import create_product
from tests.support.tcp_proxy import TcpProxy, tcp_proxy

EVENT = "identity.UserRegistered"
EVENTS = 200
ORDERS = 60


class DiesAfterConfirm:
    """A relay's publisher that, every ``every``-th batch, fails once the broker has
    confirmed it: as a relay killed between publishing and marking the rows."""

    def __init__(self, inner: RabbitPublisher, every: int = 3) -> None:
        self.inner = inner
        self.every = every
        self.batches = 0
        self.kills = 0

    async def publish(self, messages: Sequence[EventMessage]) -> None:
        await self.inner.publish(messages)
        self.batches += 1
        if self.batches % self.every == 1:
            self.kills += 1
            raise RuntimeError("relay killed after the confirm, before the mark")

    async def close(self) -> None:
        await self.inner.close()


def registered(user: UUID) -> DomainEvent:
    return DomainEvent(
        EVENT, user, {"user_id": str(user), "email": f"{user.hex[:8]}@example.com", "role": "x"}
    )


async def test_every_committed_event_is_handled_exactly_once_through_cuts_kills_and_retries(
    container: Container, broker_names: BrokerNames, effects_table: str
) -> None:
    await container.events.backbone.drain()  # the rest of the suite's events, first
    probe = Effects(container.engine, frozenset({EVENT}))
    # Roughly one event in five fails on its first attempt (after writing its effect).
    probe.fail = lambda event: event.attempt == 1 and event.id.int % 5 == 0
    broker_names.queue(probe.name)
    committed: list[UUID] = []
    rolled_back: list[UUID] = []
    rng = random.Random(7)

    async def one(n: int) -> None:
        await asyncio.sleep(rng.random() * 3.0)
        event = registered(uuid4())
        async with SqlUnitOfWork(container.engine) as uow:
            uow.record(event)
            if n % 10 == 3:  # leaves without commit: rolled back with its event
                rolled_back.append(event.id)
                return
            await uow.commit()
        committed.append(event.id)

    async with _chaotic_backbones(container, broker_names, probe, batch=20) as (
        proxy,
        dying,
    ):
        await asyncio.gather(*(one(n) for n in range(EVENTS)), _chaos(proxy))
        await _until_handled(probe, set(committed), seconds=25)
        await asyncio.sleep(0.5)  # any copy still travelling would land by now

    handled = Counter(await probe.event_ids())
    assert len(committed) == EVENTS - EVENTS // 10
    assert set(handled) == set(committed), "every committed event, nothing else"
    assert [event for event, times in handled.items() if times > 1] == [], "each once"
    assert not set(handled) & set(rolled_back)
    # The run did go through what it claims to survive.
    assert dying.kills >= 2
    assert proxy.connections_made > 4  # both sides reconnected after each cut
    assert probe.calls > len(committed)  # the failed first attempts were retried


async def test_every_paid_order_is_consumed_once_while_checkout_runs_through_cuts_and_kills(
    *,
    container: Container,
    client: httpx.AsyncClient,
    staff: Account,
    customer: Account,
    broker_names: BrokerNames,
    effects_table: str,
) -> None:
    """Concurrent checkouts (some declined, so never paid) while the broker's network is
    cut twice and a relay dies after confirms: each paid order's ``OrderPaid`` is
    handled once, no declined order's, and checkout never waited for the broker."""
    await container.events.backbone.drain()
    product = UUID((await create_product(client, staff.headers, stock=1000))["id"])
    probe = Effects(container.engine, frozenset({"ordering.OrderPaid"}))
    probe.fail = lambda event: event.attempt == 1 and event.id.int % 4 == 0
    broker_names.queue(probe.name)
    principal = Principal.for_user(customer.id, Role.CUSTOMER)
    orders = container.commerce.orders
    placed: dict[UUID, str] = {}
    declined: list[int] = []
    rng = random.Random(11)

    async def checkout(n: int) -> None:
        await asyncio.sleep(rng.random() * 3.0)
        if n % 7 == 0:  # declined: the order is never paid, so has no OrderPaid
            with pytest.raises(PaymentDeclinedError):
                await orders.place_order(principal, "tok_declined", [(product, 1)])
            declined.append(n)
            return
        order = await orders.place_order(principal, "tok_success", [(product, 1)])
        placed[order.id] = order.status.value

    async with _chaotic_backbones(container, broker_names, probe, batch=10) as (
        proxy,
        dying,
    ):
        await asyncio.gather(*(checkout(n) for n in range(ORDERS)), _chaos(proxy))
        paid = {order for order, status in placed.items() if status == "paid"}
        async with container.engine.connect() as conn:
            expected = set(
                (
                    await conn.execute(
                        select(outbox_events.c.id).where(
                            outbox_events.c.name == "ordering.OrderPaid",
                            outbox_events.c.aggregate_id.in_(list(placed)),
                        )
                    )
                ).scalars()
            )
        await _until_handled(probe, expected, seconds=25)
        await asyncio.sleep(0.5)  # any copy still travelling would land by now

    assert len(placed) + len(declined) == ORDERS, "checkout never waited for the broker"
    assert len(paid) == len(placed) > 0
    assert declined
    handled = Counter(await probe.aggregate_ids())
    assert set(handled) == paid, "every paid order, nothing else"
    assert [order for order, times in handled.items() if times > 1] == [], "each once"
    assert len(expected) == len(paid)
    assert dying.kills >= 1


async def test_each_aggregate_is_handled_in_commit_order_by_two_workers_on_one_queue(
    container: Container, broker_names: BrokerNames, effects_table: str
) -> None:
    """Two relays publish, two subscribers share the queue (one active at a time), two
    runners share the inbox and handlers fail now and then: each aggregate's events are
    still handled in the order they committed, also when a failover lets RabbitMQ hand
    returned messages over late (the inbox's ordering guard, ADR 0029)."""
    await container.events.backbone.drain()
    probe = Effects(container.engine, frozenset({EVENT}))
    probe.fail = lambda event: event.attempt == 1 and event.id.int % 4 == 0
    broker_names.queue(probe.name)
    aggregates = [uuid4() for _ in range(4)]
    committed: dict[UUID, list[UUID]] = {a: [] for a in aggregates}

    async def commits(aggregate: UUID) -> None:
        for _ in range(15):  # one transaction each, in sequence: commit order is known
            event = registered(aggregate)
            async with SqlUnitOfWork(container.engine) as uow:
                uow.record(event)
                await uow.commit()
            committed[aggregate].append(event.id)
            await asyncio.sleep(0.05)

    port = broker_port(broker_names.url)
    # The second worker's network is slow: with two subscribers taking turns on one
    # queue, its deliveries would reach the inbox after later ones the first took.
    async with tcp_proxy(port) as fast, tcp_proxy(port, delay=0.05) as slow:
        consumers = Consumers([probe.consumer()])
        workers = [
            build_events(_order_settings(container, broker_names, via), container.engine, consumers)
            for via in (fast, slow)
        ]
        for worker in workers:
            await worker.backbone.start()
        try:
            await _subscribed(*workers)
            await asyncio.gather(*(commits(a) for a in aggregates))
            expected = {e for ids in committed.values() for e in ids}
            await _until_handled(probe, expected, seconds=25)
        finally:
            for worker in workers:
                await worker.backbone.stop()

    handled: dict[UUID, list[UUID]] = {a: [] for a in aggregates}
    for event, aggregate in await probe.rows():
        handled[aggregate].append(event)
    assert handled == committed


def _order_settings(container: Container, names: BrokerNames, proxy: TcpProxy) -> Settings:
    return make_test_settings(
        container.settings.database_url,
        **names.settings(proxy.url_for(names.url)),
        events_poll_seconds=0.2,
        events_retry_base_seconds=0.05,
        events_retry_max_seconds=0.2,
        events_relay_batch=5,
    )


@asynccontextmanager
async def _chaotic_backbones(
    container: Container, broker_names: BrokerNames, probe: Effects, *, batch: int
) -> AsyncIterator[tuple[TcpProxy, DiesAfterConfirm]]:
    """Two backbones on the broker through a proxy the test cuts: the first's relay dies
    after every third confirm, both subscribe the probe's queue; stopped on the way out."""
    async with tcp_proxy(broker_port(broker_names.url)) as proxy:
        via_proxy = proxy.url_for(broker_names.url)
        settings = make_test_settings(
            container.settings.database_url,
            **broker_names.settings(via_proxy),
            events_poll_seconds=0.2,
            events_retry_base_seconds=0.05,
            events_retry_max_seconds=0.2,
            events_relay_batch=batch,
        )
        consumers = Consumers([probe.consumer()])
        topology = Topology(settings.broker_exchange, settings.broker_queue_prefix)
        dying = DiesAfterConfirm(
            RabbitPublisher(via_proxy, topology, {probe.name: probe.events}), every=3
        )
        first = build_events(settings, container.engine, consumers, publisher=dying)
        second = build_events(settings, container.engine, consumers)
        await first.backbone.start()
        await second.backbone.start()
        try:
            await _subscribed(first, second)
            yield proxy, dying
        finally:
            await first.backbone.stop()
            await second.backbone.stop()


async def _chaos(proxy: TcpProxy) -> None:
    """Two outages of the broker's network while the events are being committed."""
    for down, up in ((0.8, 1.0), (0.5, 0.3)):
        await asyncio.sleep(up)
        await proxy.cut()
        await asyncio.sleep(down)
        await proxy.restore()


async def _subscribed(*events: Events) -> None:
    for one in events:
        assert one.subscriber is not None
        await asyncio.wait_for(one.subscriber.connected.wait(), 10)


async def _until_handled(probe: Effects, expected: set[UUID], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not expected <= set(await probe.event_ids()):
        if asyncio.get_running_loop().time() > deadline:
            missing = len(expected - set(await probe.event_ids()))
            raise AssertionError(f"{missing} committed events not handled within {seconds} s")
        await asyncio.sleep(0.1)
