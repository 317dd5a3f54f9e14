"""Payments whose provider answer was never recorded (a process died mid-charge) are
settled by asking the provider: the charge it holds decides; one it never received
fails the payment. Recent ones are left to the checkout still running."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID, uuid4

from sqlalchemy import func, select, update

from agora.bootstrap import Container
from agora.payments.adapters.sql import SqlPaymentsUnitOfWork
from agora.payments.adapters.tables import payments
from agora.payments.domain import Payment, PaymentStatus
from agora.platform.clock import utcnow
from agora.platform.db.tables import outbox_events
from agora.platform.money import Money

EUR = Money(2500, "EUR")


async def left_pending(container: Container, *, charged: bool, minutes_ago: int = 30) -> UUID:
    """A payment recorded as pending ``minutes_ago``; with ``charged``, the provider
    captured it (and the answer was lost)."""
    order_id = uuid4()
    key = f"order:{order_id}"
    if charged:
        await container.commerce.payments.charge(order_id, uuid4(), EUR, "tok_success", key)
    else:
        async with SqlPaymentsUnitOfWork(container.engine) as uow:
            await uow.payments.add(Payment.start(order_id, uuid4(), "test", EUR, key))
            await uow.commit()
    async with container.engine.begin() as conn:
        await conn.execute(
            update(payments)
            .where(payments.c.order_id == order_id)
            .values(status="pending", updated_at=utcnow() - timedelta(minutes=minutes_ago))
        )
    return order_id


async def status_of(container: Container, order_id: UUID) -> PaymentStatus:
    async with SqlPaymentsUnitOfWork(container.engine, read_only=True) as uow:
        payment = await uow.payments.latest_for_order(order_id)
    assert payment is not None
    return payment.status


async def captured_events(container: Container) -> int:
    async with container.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(outbox_events)
            .where(outbox_events.c.name == "payments.PaymentCaptured")
        )
    return int(count or 0)


async def test_a_stuck_payment_the_provider_captured_is_settled_captured(
    container: Container,
) -> None:
    order_id = await left_pending(container, charged=True)
    run = await container.jobs.scheduler.run_now("payments.reconcile")
    assert run is not None
    assert run.error is None
    assert await status_of(container, order_id) is PaymentStatus.CAPTURED


async def test_a_stuck_payment_the_provider_never_received_fails(container: Container) -> None:
    order_id = await left_pending(container, charged=False)
    await container.commerce.payments.reconcile_unsettled(timedelta(minutes=10))
    assert await status_of(container, order_id) is PaymentStatus.FAILED
    # A failed payment holds no money: the order may be charged again.
    result = await container.commerce.payments.charge(
        order_id, uuid4(), EUR, "tok_success", f"order:{order_id}:again"
    )
    assert result.succeeded


async def test_a_payment_still_being_charged_is_left_alone(container: Container) -> None:
    order_id = await left_pending(container, charged=False, minutes_ago=1)
    await container.commerce.payments.reconcile_unsettled(timedelta(minutes=10))
    assert await status_of(container, order_id) is PaymentStatus.PENDING


async def test_reconciling_twice_at_once_settles_once(container: Container) -> None:
    order_id = await left_pending(container, charged=True)
    before = await captured_events(container)
    service = container.commerce.payments
    await asyncio.gather(
        service.reconcile_unsettled(timedelta(minutes=10)),
        service.reconcile_unsettled(timedelta(minutes=10)),
        service.reconcile(order_id),
    )
    assert await status_of(container, order_id) is PaymentStatus.CAPTURED
    assert await captured_events(container) == before + 1
