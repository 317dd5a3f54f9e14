"""The test provider keeps its charges in the database: they outlast the process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from agora.bootstrap import Container, build_container
from agora.bootstrap.production import commerce_adapters
from agora.payments.domain import GatewayStatus, PaymentStatus
from agora.platform.errors import ValidationError
from agora.platform.money import Money
from agora.platform.settings import Settings

EUR = Money(4200, "EUR")


@pytest.fixture
async def restarted(settings: Settings, container: Container) -> AsyncIterator[Container]:
    """A second container on the same database: another process, or the same after a restart."""
    fresh = await build_container(settings)
    yield fresh
    await fresh.close()


async def test_a_charge_is_refunded_by_a_new_process(
    container: Container, restarted: Container
) -> None:
    order_id = uuid4()
    charged = await container.commerce.payments.charge(
        order_id, uuid4(), EUR, "tok_success", f"charge-{order_id}"
    )
    assert charged.status is PaymentStatus.CAPTURED

    refunded = await restarted.commerce.payments.refund(order_id)

    assert refunded.status is PaymentStatus.REFUNDED


async def test_authorize_repeats_its_answer_after_a_restart(
    container: Container, restarted: Container
) -> None:
    key = f"auth-{uuid4()}"
    before = commerce_adapters(container.settings, container.engine).gateway
    after = commerce_adapters(restarted.settings, restarted.engine).gateway

    first = await before.authorize(EUR, "tok_success", key)
    again = await after.authorize(EUR, "tok_success", key)

    assert first.status is GatewayStatus.AUTHORIZED
    assert again == first


async def test_concurrent_partial_refunds_cannot_exceed_the_captured_amount(
    container: Container, restarted: Container
) -> None:
    one = commerce_adapters(container.settings, container.engine).gateway
    other = commerce_adapters(restarted.settings, restarted.engine).gateway
    authorized = await one.authorize(EUR, "tok_success", f"refunds-{uuid4()}")
    assert authorized.reference is not None
    await one.capture(authorized.reference)
    part = Money(3000, "EUR")

    outcomes = await asyncio.gather(
        one.refund(authorized.reference, part),
        other.refund(authorized.reference, part),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["GatewayResult", "ValidationError"]
    # What is left (1200) can still be refunded, and no more.
    rest = await other.refund(authorized.reference, Money(1200, "EUR"))
    assert rest.status is GatewayStatus.REFUNDED
    with pytest.raises(ValidationError):
        await one.refund(authorized.reference, Money(1, "EUR"))


async def test_concurrent_full_refunds_of_one_charge_both_answer_refunded_and_refund_once(
    container: Container, restarted: Container
) -> None:
    """A retried full refund (its first outcome never recorded) changes nothing."""
    one = commerce_adapters(container.settings, container.engine).gateway
    other = commerce_adapters(restarted.settings, restarted.engine).gateway
    authorized = await one.authorize(EUR, "tok_success", f"full-{uuid4()}")
    assert authorized.reference is not None
    await one.capture(authorized.reference)

    outcomes = await asyncio.gather(
        one.refund(authorized.reference, EUR), other.refund(authorized.reference, EUR)
    )

    assert [o.status for o in outcomes] == [GatewayStatus.REFUNDED, GatewayStatus.REFUNDED]
    # Refunded once: nothing is left to refund, not even a cent.
    with pytest.raises(ValidationError):
        await other.refund(authorized.reference, Money(1, "EUR"))
