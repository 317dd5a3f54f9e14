"""The payments repository on the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from agora.bootstrap import Container
from agora.payments.adapters.sql import SqlPaymentsUnitOfWork
from agora.payments.domain import (
    DeclineReason,
    GatewayResult,
    GatewayStatus,
    Payment,
    PaymentStatus,
)
from agora.platform.errors import ConflictError
from agora.platform.money import Money

UnitOfWork = Callable[..., SqlPaymentsUnitOfWork]
EUR = Money(4200, "EUR")


@pytest.fixture
def uow(container: Container) -> UnitOfWork:
    def factory(*, read_only: bool = False) -> SqlPaymentsUnitOfWork:
        return SqlPaymentsUnitOfWork(container.engine, read_only=read_only)

    return factory


async def add(uow: UnitOfWork, payment: Payment) -> None:
    async with uow() as unit:
        await unit.payments.add(payment)
        await unit.commit()


async def test_payment_round_trips_and_settles(uow: UnitOfWork) -> None:
    payment = Payment.start(uuid4(), uuid4(), "test", EUR)
    await add(uow, payment)
    captured = payment.settle(GatewayResult(GatewayStatus.CAPTURED, "pay_test_abc"))
    async with uow() as unit:
        assert await unit.payments.save(captured, payment.version)
        assert not await unit.payments.save(captured, payment.version)
        await unit.commit()
    async with uow(read_only=True) as unit:
        assert await unit.payments.latest_for_order(payment.order_id) == captured
        assert await unit.payments.active_for_order(payment.order_id) == captured
        assert await unit.payments.by_reference("test", "pay_test_abc") == captured
        assert await unit.payments.by_reference("other", "pay_test_abc") is None


async def test_an_order_holds_at_most_one_live_payment(uow: UnitOfWork) -> None:
    order_id = uuid4()
    first = Payment.start(order_id, uuid4(), "test", EUR)
    await add(uow, first)
    with pytest.raises(ConflictError):
        await add(uow, Payment.start(order_id, uuid4(), "test", EUR))
    declined = first.settle(
        GatewayResult(GatewayStatus.DECLINED, "pay_x", DeclineReason.CARD_DECLINED)
    )
    async with uow() as unit:
        assert await unit.payments.save(declined, first.version)
        await unit.commit()
    retry = Payment.start(order_id, uuid4(), "test", EUR)
    await add(uow, retry)
    async with uow(read_only=True) as unit:
        active = await unit.payments.active_for_order(order_id)
    assert active is not None
    assert active.id == retry.id
    assert active.status is PaymentStatus.PENDING


async def test_webhook_events_are_remembered_once_and_the_unit_still_commits(
    uow: UnitOfWork,
) -> None:
    event_id = f"evt_{uuid4().hex}"
    payment = Payment.start(uuid4(), uuid4(), "test", EUR)
    async with uow() as unit:
        assert await unit.payments.remember_webhook(event_id, "payment.refunded")
        await unit.commit()
    async with uow() as unit:
        assert not await unit.payments.remember_webhook(event_id, "payment.refunded")
        await unit.payments.add(payment)  # the transaction survived the duplicate
        await unit.commit()
    async with uow(read_only=True) as unit:
        assert await unit.payments.latest_for_order(payment.order_id) == payment
