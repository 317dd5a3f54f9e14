"""PaymentService, built by the composition root on fake storage and the in-process test
provider."""

from __future__ import annotations

from uuid import uuid4

import orjson
import pytest

from agora.bootstrap.commerce import build_payments
from agora.payments.adapters.test_cards import TestCardGateway, sign
from agora.payments.domain import Payment, PaymentStatus
from agora.payments.services import PaymentService
from agora.platform.errors import ConflictError, NotFoundError, ValidationError
from agora.platform.money import Money
from tests.fakes import (
    FakePaymentsUnitOfWork,
    FakeTestChargesUnitOfWork,
    PaymentsStore,
    ProviderChargesStore,
    RecordingAuditTrail,
)

EUR = Money(2500, "EUR")


@pytest.fixture
def store() -> PaymentsStore:
    return PaymentsStore()


@pytest.fixture
def service(store: PaymentsStore) -> PaymentService:
    return build_payments(
        FakePaymentsUnitOfWork.factory(store),
        TestCardGateway(FakeTestChargesUnitOfWork.factory(ProviderChargesStore()), "secret"),
        RecordingAuditTrail(),
    )


async def test_successful_charge_is_recorded_as_captured(
    service: PaymentService, store: PaymentsStore
) -> None:
    order_id = uuid4()
    result = await service.charge(order_id, uuid4(), EUR, "tok_success", "k")
    assert result.succeeded
    assert result.reference is not None
    (payment,) = store.payments.values()
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.provider_reference == result.reference
    assert [e.name for e in store.events] == ["payments.PaymentCaptured"]


@pytest.mark.anyio  # parametrized async tests need the explicit marker
@pytest.mark.parametrize(
    ("token", "status", "reason"),
    [
        ("tok_declined", PaymentStatus.DECLINED, "card_declined"),
        ("tok_insufficient_funds", PaymentStatus.DECLINED, "insufficient_funds"),
        ("tok_processing_error", PaymentStatus.FAILED, "processing_error"),
    ],
)
async def test_failed_charges_are_recorded_with_their_reason(
    service: PaymentService, store: PaymentsStore, token: str, status: PaymentStatus, reason: str
) -> None:
    result = await service.charge(uuid4(), uuid4(), EUR, token, "k")
    assert not result.succeeded
    assert result.status is status
    assert result.decline_reason == reason
    (payment,) = store.payments.values()
    assert payment.status is status
    assert payment.failure_reason == reason


async def test_unknown_token_records_nothing(service: PaymentService, store: PaymentsStore) -> None:
    with pytest.raises(ValidationError):
        await service.charge(uuid4(), uuid4(), EUR, "tok_unknown", "k")
    assert store.payments == {}


async def test_an_order_is_never_captured_twice(
    service: PaymentService, store: PaymentsStore
) -> None:
    order_id = uuid4()
    first = await service.charge(order_id, uuid4(), EUR, "tok_success", "k1")
    second = await service.charge(order_id, uuid4(), EUR, "tok_success", "k2")
    assert second.payment_id == first.payment_id
    assert len(store.payments) == 1


async def test_declined_order_may_be_retried(service: PaymentService, store: PaymentsStore) -> None:
    order_id = uuid4()
    await service.charge(order_id, uuid4(), EUR, "tok_declined", "k1")
    retry = await service.charge(order_id, uuid4(), EUR, "tok_success", "k2")
    assert retry.succeeded
    assert len(store.payments) == 2


async def test_refund_marks_the_payment_refunded_once(
    service: PaymentService, store: PaymentsStore
) -> None:
    order_id = uuid4()
    await service.charge(order_id, uuid4(), EUR, "tok_success", "k")
    first = await service.refund(order_id)
    again = await service.refund(order_id)
    assert first.status is PaymentStatus.REFUNDED
    assert again.payment_id == first.payment_id
    (payment,) = store.payments.values()
    assert payment.refunded_amount == EUR
    assert [e.name for e in store.events].count("payments.PaymentRefunded") == 1


async def test_refund_without_a_capture_is_not_found(service: PaymentService) -> None:
    with pytest.raises(NotFoundError):
        await service.refund(uuid4())
    declined = uuid4()
    await service.charge(declined, uuid4(), EUR, "tok_declined", "k")
    with pytest.raises(NotFoundError):
        await service.refund(declined)


async def test_payment_in_progress_blocks_a_second_attempt(
    service: PaymentService, store: PaymentsStore
) -> None:
    order_id = uuid4()
    pending = Payment.start(order_id, uuid4(), "test", EUR)
    store.payments[pending.id] = pending
    with pytest.raises(ConflictError):
        await service.charge(order_id, uuid4(), EUR, "tok_success", "k")


async def test_refund_webhook_is_applied_once(
    service: PaymentService, store: PaymentsStore
) -> None:
    result = await service.charge(uuid4(), uuid4(), EUR, "tok_success", "k")
    payload = orjson.dumps(
        {"id": "evt_42", "type": "payment.refunded", "data": {"reference": result.reference}}
    )
    header = sign(payload, "secret")
    await service.apply_webhook(payload, header)
    await service.apply_webhook(payload, header)
    (payment,) = store.payments.values()
    assert payment.status is PaymentStatus.REFUNDED
    assert [e.name for e in store.events].count("payments.PaymentRefunded") == 1
