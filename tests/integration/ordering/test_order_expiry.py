"""Orders left in pending_payment by a checkout that never finished (the process died
between the reservation and the outcome): the expiry job completes those the provider
was paid for, and cancels the rest with their stock back on sale, once each.

The crash is real as far as the database can tell: checkout runs on the production
adapters with a payment port that dies (a ``BaseException``, which no compensation
catches) before or after the provider took the money.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select, update

from agora.bootstrap import Container
from agora.catalog.adapters.stock import SqlStockLedger
from agora.ordering.adapters.sql import SqlOrderingUnitOfWork
from agora.ordering.adapters.tables import order_status_history, orders
from agora.ordering.domain import Order, OrderStatus
from agora.ordering.expiry import PendingPaymentExpiry
from agora.ordering.ports import OrderFilter, PaymentOutcome
from agora.ordering.services import OrderService
from agora.payments.adapters.tables import payments
from agora.payments.domain import PaymentProviderError
from agora.payments.services import PaymentService
from agora.platform.access import Principal, Role
from agora.platform.db.tables import outbox_events
from agora.platform.errors import DependencyUnavailableError
from tests.support.accounts import Account
from tests.support.catalog import create_product


class ProcessDiedError(BaseException):
    """The checkout's process stopped here: nothing after this line ran."""


class DyingPayments:
    """The real payments service, in a process that dies during the charge."""

    def __init__(self, real: PaymentService, *, after_charging: bool) -> None:
        self.real = real
        self.after_charging = after_charging

    def check_token(self, token: str) -> None:
        self.real.check_token(token)

    async def charge(self, *args: Any) -> PaymentOutcome:
        if self.after_charging:
            await self.real.charge(*args)
        raise ProcessDiedError

    async def refund(self, order_id: UUID) -> PaymentOutcome:
        return await self.real.refund(order_id)

    async def reconcile(self, order_id: UUID) -> PaymentOutcome | None:
        return await self.real.reconcile(order_id)


class UnreachableProvider(DyingPayments):
    async def reconcile(self, order_id: UUID) -> PaymentOutcome | None:
        raise PaymentProviderError("connection refused")


def ordering_uow(container: Container) -> Any:
    return partial(SqlOrderingUnitOfWork, container.engine, SqlStockLedger)


async def abandoned_order(
    container: Container,
    customer: Account,
    product_id: UUID,
    *,
    paid: bool,
    minutes_ago: int = 31,
    token: str = "tok_success",  # noqa: S107 - a public test token
) -> Order:
    """An order whose checkout died; placed ``minutes_ago``."""
    checkout = OrderService(
        ordering_uow(container),
        container.commerce.catalog,
        DyingPayments(container.commerce.payments, after_charging=paid),
        currency=container.settings.currency,
    )
    principal = Principal.for_user(customer.id, Role.CUSTOMER)
    with pytest.raises(ProcessDiedError):
        await checkout.place_order(principal, token, [(product_id, 3)])
    placed, _ = await container.commerce.orders.list(
        principal, OrderFilter(status=OrderStatus.PENDING_PAYMENT), 0, 10
    )
    (order,) = placed
    async with container.engine.begin() as conn:
        await conn.execute(
            update(orders)
            .where(orders.c.id == order.id)
            .values(created_at=order.created_at - timedelta(minutes=minutes_ago))
        )
    return order


async def stock_of(client: httpx.AsyncClient, product_id: UUID) -> int:
    response = await client.get(f"/api/v1/products/{product_id}")
    assert response.status_code == 200, response.text
    stock: int = response.json()["data"]["stock"]
    return stock


async def order_of(container: Container, customer: Account, order_id: UUID) -> Order:
    return await container.commerce.orders.get(
        Principal.for_user(customer.id, Role.CUSTOMER), order_id
    )


async def events_of(container: Container, order_id: UUID, name: str) -> int:
    async with container.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(outbox_events)
            .where(outbox_events.c.aggregate_id == order_id, outbox_events.c.name == name)
        )
    return int(count or 0)


@pytest.fixture
async def product(client: httpx.AsyncClient, staff: Account) -> UUID:
    created = await create_product(client, staff.headers, stock=10)
    return UUID(created["id"])


async def test_an_unpaid_order_past_the_timeout_is_cancelled_and_its_stock_released(
    container: Container, client: httpx.AsyncClient, customer: Account, product: UUID
) -> None:
    order = await abandoned_order(container, customer, product, paid=False)
    assert await stock_of(client, product) == 7

    run = await container.jobs.scheduler.run_now("ordering.expire-pending-payments")

    assert run is not None
    assert run.error is None
    cancelled = await order_of(container, customer, order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert await stock_of(client, product) == 10
    assert await events_of(container, order.id, "ordering.OrderCancelled") == 1
    # The customer sees why in the order's history.
    response = await client.get(f"/api/v1/orders/{order.id}", headers=customer.headers)
    assert response.json()["data"]["status"] == "cancelled"


async def test_an_order_the_provider_was_paid_for_is_completed_not_cancelled(
    container: Container, client: httpx.AsyncClient, customer: Account, product: UUID
) -> None:
    order = await abandoned_order(container, customer, product, paid=True)
    # The process died before recording the provider's answer, too.
    async with container.engine.begin() as conn:
        await conn.execute(
            update(payments).where(payments.c.order_id == order.id).values(status="pending")
        )

    summary = await container.commerce.expiry.expire()

    assert "found paid" in summary
    paid = await order_of(container, customer, order.id)
    assert paid.status is OrderStatus.PAID
    assert paid.payment_status == "captured"
    assert await stock_of(client, product) == 7  # sold, not released
    assert await events_of(container, order.id, "ordering.OrderPaid") == 1
    assert await events_of(container, order.id, "ordering.OrderCancelled") == 0


async def test_a_declined_order_past_the_timeout_is_cancelled_with_its_payment_status(
    container: Container, client: httpx.AsyncClient, customer: Account, product: UUID
) -> None:
    order = await abandoned_order(container, customer, product, paid=True, token="tok_declined")
    await container.commerce.expiry.expire()
    cancelled = await order_of(container, customer, order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.payment_status == "declined"
    assert await stock_of(client, product) == 10


async def test_an_order_within_the_timeout_is_left_alone(
    container: Container, client: httpx.AsyncClient, customer: Account, product: UUID
) -> None:
    order = await abandoned_order(container, customer, product, paid=False, minutes_ago=5)
    await container.commerce.expiry.expire()
    assert (await order_of(container, customer, order.id)).status is OrderStatus.PENDING_PAYMENT
    assert await stock_of(client, product) == 7
    await container.commerce.orders.cancel(Principal.for_user(customer.id, Role.CUSTOMER), order.id)


async def test_two_expiries_at_once_cancel_and_release_once(
    container: Container, client: httpx.AsyncClient, customer: Account, product: UUID
) -> None:
    order = await abandoned_order(container, customer, product, paid=False)
    expiry = container.commerce.expiry

    await asyncio.gather(expiry.expire(), expiry.expire(), expiry.expire())

    assert await stock_of(client, product) == 10  # not 13 or 16
    assert await events_of(container, order.id, "ordering.OrderCancelled") == 1
    async with container.engine.connect() as conn:
        moves = await conn.scalar(
            select(func.count())
            .select_from(order_status_history)
            .where(
                order_status_history.c.order_id == order.id,
                order_status_history.c.to_status == "cancelled",
            )
        )
    assert moves == 1


async def test_an_unreachable_provider_leaves_the_order_pending_and_fails_the_run(
    container: Container, client: httpx.AsyncClient, customer: Account, product: UUID
) -> None:
    order = await abandoned_order(container, customer, product, paid=False)
    blind = PendingPaymentExpiry(
        ordering_uow(container),
        UnreachableProvider(container.commerce.payments, after_charging=False),
        timedelta(minutes=30),
    )

    with pytest.raises(DependencyUnavailableError):
        await blind.expire()

    # Cancelling without knowing could cancel a paid order: it waits for the provider.
    assert (await order_of(container, customer, order.id)).status is OrderStatus.PENDING_PAYMENT
    assert await stock_of(client, product) == 7
    await container.commerce.expiry.expire()
    assert (await order_of(container, customer, order.id)).status is OrderStatus.CANCELLED
