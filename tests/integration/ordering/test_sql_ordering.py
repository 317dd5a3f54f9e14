"""Ordering repositories on the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from agora.bootstrap import Container
from agora.catalog.adapters.stock import SqlStockLedger
from agora.ordering.adapters.sql import SqlOrderingUnitOfWork
from agora.ordering.domain import Order, OrderLine, OrderStatus, order_event
from agora.ordering.ports import OrderFilter
from agora.platform.db.tables import outbox_events
from agora.platform.money import Money

UnitOfWork = Callable[..., SqlOrderingUnitOfWork]


@pytest.fixture
def uow(container: Container) -> UnitOfWork:
    def factory(*, read_only: bool = False) -> SqlOrderingUnitOfWork:
        return SqlOrderingUnitOfWork(container.engine, SqlStockLedger, read_only=read_only)

    return factory


def new_order(customer_id: UUID | None = None, **line: Any) -> Order:
    values: dict[str, Any] = {
        "product_id": uuid4(),
        "sku": "SKU-1",
        "name": "Lamp",
        "unit_price": Money(1250, "EUR"),
        "quantity": 2,
    }
    values.update(line)
    second = OrderLine(uuid4(), "SKU-2", "Shade", Money(300, "EUR"), 1)
    return Order.place(customer_id or uuid4(), [OrderLine(**values), second])


async def store(uow: UnitOfWork, order: Order) -> None:
    async with uow() as unit:
        await unit.orders.add(order)
        unit.record(order_event(order))
        await unit.commit()


async def test_order_round_trips_with_items_history_and_outbox(
    uow: UnitOfWork, container: Container
) -> None:
    order = new_order()
    await store(uow, order)
    async with uow(read_only=True) as unit:
        loaded = await unit.orders.get(order.id)
        history = await unit.orders.history(order.id)
        event = (
            await unit.connection.execute(
                select(outbox_events.c.name).where(outbox_events.c.aggregate_id == order.id)
            )
        ).scalar_one()
    assert loaded == order
    assert type(loaded.id) is UUID
    assert loaded.total == Money(2 * 1250 + 300, "EUR")
    assert [(c.from_status, c.to_status) for c in history] == [(None, OrderStatus.PENDING_PAYMENT)]
    assert event == "ordering.OrderPlaced"


async def test_uncommitted_unit_leaves_nothing(uow: UnitOfWork) -> None:
    order = new_order()
    async with uow() as unit:
        await unit.orders.add(order)
    async with uow(read_only=True) as unit:
        assert await unit.orders.get(order.id) is None


async def test_transition_with_a_stale_version_writes_nothing(uow: UnitOfWork) -> None:
    order = new_order()
    await store(uow, order)
    paid, change = order.transition(OrderStatus.PAID, None)
    async with uow() as unit:
        assert await unit.orders.save(paid.with_payment("captured", "pay_1"), change, 1)
        await unit.commit()
    cancelled, change = order.transition(OrderStatus.CANCELLED, None)
    async with uow() as unit:
        assert not await unit.orders.save(cancelled, change, 1)
        await unit.commit()
    async with uow(read_only=True) as unit:
        current = await unit.orders.get(order.id)
        history = await unit.orders.history(order.id)
    assert current is not None
    assert (current.status, current.version, current.payment_reference) == (
        OrderStatus.PAID,
        2,
        "pay_1",
    )
    assert [c.to_status for c in history] == [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID]


async def test_list_filters_and_pages_newest_first(uow: UnitOfWork) -> None:
    customer = uuid4()
    orders = [new_order(customer) for _ in range(3)]
    for order in orders:
        await store(uow, order)
    paid, change = orders[0].transition(OrderStatus.PAID, None)
    async with uow() as unit:
        await unit.orders.save(paid, change, 1)
        await unit.commit()
    async with uow(read_only=True) as unit:
        page, total = await unit.orders.list(OrderFilter(customer_id=customer), 0, 2)
        rest, _ = await unit.orders.list(OrderFilter(customer_id=customer), 2, 2)
        only_paid, paid_total = await unit.orders.list(
            OrderFilter(customer_id=customer, status=OrderStatus.PAID), 0, 10
        )
        window, _ = await unit.orders.list(
            OrderFilter(
                customer_id=customer,
                created_from=orders[1].created_at,
                created_to=orders[2].created_at + timedelta(microseconds=1),
            ),
            0,
            10,
        )
    assert total == 3
    assert [o.id for o in page] == [orders[2].id, orders[1].id]
    assert [o.id for o in rest] == [orders[0].id]
    assert ([o.id for o in only_paid], paid_total) == ([orders[0].id], 1)
    assert [o.id for o in window] == [orders[2].id, orders[1].id]
    assert all(len(o.items) == 2 for o in page)


async def test_cart_lines_upsert_remove_and_clear(uow: UnitOfWork) -> None:
    customer, a, b = uuid4(), uuid4(), uuid4()
    async with uow() as unit:
        await unit.carts.set_quantity(customer, a, 1)
        await unit.carts.set_quantity(customer, b, 2)
        await unit.carts.set_quantity(customer, a, 5)
        await unit.commit()
    async with uow() as unit:
        cart = await unit.carts.get(customer)
        assert dict(cart.lines) == {a: 5, b: 2}
        assert list(cart.lines) == [a, b]  # in the order they were added
        assert await unit.carts.remove(customer, [a, uuid4()]) == 1
        await unit.commit()
    async with uow() as unit:
        assert dict((await unit.carts.get(customer)).lines) == {b: 2}
        await unit.carts.clear(customer)
        await unit.commit()
    async with uow(read_only=True) as unit:
        assert (await unit.carts.get(customer)).is_empty
        assert (await unit.carts.get(uuid4())).is_empty
