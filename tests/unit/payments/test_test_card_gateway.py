"""The built-in test provider: tokens choose the outcome; webhooks are HMAC-signed."""

from __future__ import annotations

import orjson
import pytest

from agora.payments.adapters.test_cards import TestCardGateway, sign
from agora.payments.domain import (
    DeclineReason,
    GatewayStatus,
    InvalidWebhookError,
    PaymentProviderError,
)
from agora.platform.errors import AuthenticationError, ValidationError
from agora.platform.money import Money
from tests.fakes import FakeTestChargesUnitOfWork, ProviderChargesStore

SECRET = "whsec_test"
NOW = 1_800_000_000
EUR = Money(1999, "EUR")


@pytest.fixture
def gateway() -> TestCardGateway:
    return TestCardGateway(
        FakeTestChargesUnitOfWork.factory(ProviderChargesStore()), SECRET, clock=lambda: NOW
    )


async def test_success_token_authorizes_then_captures(gateway: TestCardGateway) -> None:
    authorized = await gateway.authorize(EUR, "tok_success", "k1")
    assert authorized.status is GatewayStatus.AUTHORIZED
    assert authorized.reference is not None
    captured = await gateway.capture(authorized.reference)
    assert captured.status is GatewayStatus.CAPTURED
    refunded = await gateway.refund(authorized.reference, EUR)
    assert refunded.status is GatewayStatus.REFUNDED


@pytest.mark.anyio  # parametrized async tests need the explicit marker
@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_declined", DeclineReason.CARD_DECLINED),
        ("tok_insufficient_funds", DeclineReason.INSUFFICIENT_FUNDS),
    ],
)
async def test_decline_tokens_are_declined_with_their_reason(
    gateway: TestCardGateway, token: str, reason: DeclineReason
) -> None:
    result = await gateway.authorize(EUR, token, "k")
    assert result.status is GatewayStatus.DECLINED
    assert result.decline_reason is reason


async def test_processing_error_token_raises_a_provider_error(gateway: TestCardGateway) -> None:
    with pytest.raises(PaymentProviderError):
        await gateway.authorize(EUR, "tok_processing_error", "k")


async def test_unknown_token_is_a_validation_error(gateway: TestCardGateway) -> None:
    with pytest.raises(ValidationError) as caught:
        await gateway.authorize(EUR, "4242424242424242", "k")
    assert caught.value.details["field"] == "payment_token"


async def test_same_idempotency_key_repeats_the_authorization(gateway: TestCardGateway) -> None:
    first = await gateway.authorize(EUR, "tok_success", "same")
    again = await gateway.authorize(EUR, "tok_success", "same")
    assert first == again


def _event(event_id: str = "evt_1") -> bytes:
    return orjson.dumps(
        {"id": event_id, "type": "payment.refunded", "data": {"reference": "pay_test_x"}}
    )


def test_webhook_with_a_valid_signature_is_accepted(gateway: TestCardGateway) -> None:
    payload = _event()
    event = gateway.verify_webhook(payload, sign(payload, SECRET, NOW))
    assert (event.id, event.type, event.reference) == ("evt_1", "payment.refunded", "pay_test_x")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=abc,v1=00",
        f"t={NOW},v1=" + "0" * 64,
        sign(b"other body", SECRET, NOW),
        sign(_event(), "wrong-secret", NOW),
        sign(_event(), SECRET, NOW - 301),
        sign(_event(), SECRET, NOW + 301),
    ],
)
def test_webhook_with_a_bad_or_stale_signature_is_refused(
    gateway: TestCardGateway, header: str
) -> None:
    with pytest.raises(AuthenticationError):
        gateway.verify_webhook(_event(), header)


def test_signed_webhook_that_is_not_an_event_is_invalid(gateway: TestCardGateway) -> None:
    payload = b'{"hello": "world"}'
    with pytest.raises(InvalidWebhookError):
        gateway.verify_webhook(payload, sign(payload, SECRET, NOW))
