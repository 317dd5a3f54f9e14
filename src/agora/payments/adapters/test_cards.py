"""``TestCardGateway``: the built-in provider for development, demos and tests.

The token decides the outcome, as with a real provider's test mode:

==========================  ===========================================
token                       outcome
==========================  ===========================================
``tok_success``             authorized and captured
``tok_declined``            declined, reason ``card_declined``
``tok_insufficient_funds``  declined, reason ``insufficient_funds``
``tok_processing_error``    provider error, reason ``processing_error``
anything else               ``VALIDATION_ERROR`` (unknown token)
==========================  ===========================================

Webhooks are signed like common providers do: header
``Agora-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the
shared webhook secret, accepted for five minutes either side of the current time.

Like a real provider, it keeps its own book of charges (``TestCharges``, in the
database in production), so a charge made by one process can be captured or refunded
by another, or after a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import orjson

from agora.payments.domain import (
    DeclineReason,
    GatewayResult,
    GatewayStatus,
    InvalidWebhookError,
    PaymentProviderError,
    WebhookEvent,
)
from agora.platform.errors import AuthenticationError, NotFoundError, ValidationError
from agora.platform.money import Money
from agora.platform.unit_of_work import UnitOfWork, UnitOfWorkFactory

SIGNATURE_HEADER = "Agora-Signature"
TOLERANCE_SECONDS = 300

TOKENS = ("tok_success", "tok_declined", "tok_insufficient_funds", "tok_processing_error")
_DECLINES = {
    "tok_declined": DeclineReason.CARD_DECLINED,
    "tok_insufficient_funds": DeclineReason.INSUFFICIENT_FUNDS,
}


@dataclass(frozen=True)
class TestCharge:
    """One authorization the provider answered, by the caller's idempotency key."""

    __test__ = False

    reference: str
    idempotency_key: str
    amount: Money
    status: GatewayStatus  # AUTHORIZED, CAPTURED or DECLINED
    decline_reason: DeclineReason | None = None
    refunded_amount: int = 0

    def authorization(self) -> GatewayResult:
        """The answer to the authorization, however often it is asked again."""
        if self.status is GatewayStatus.DECLINED:
            return GatewayResult(self.status, self.reference, self.decline_reason)
        return GatewayResult(GatewayStatus.AUTHORIZED, self.reference)


class TestCharges(Protocol):
    """The provider's book of charges."""

    async def by_idempotency_key(self, idempotency_key: str) -> TestCharge | None: ...

    async def add(self, charge: TestCharge) -> TestCharge:
        """Store ``charge`` unless its idempotency key is taken; the stored charge either way."""
        ...

    async def get(self, reference: str) -> TestCharge | None: ...

    async def capture(self, reference: str) -> bool:
        """Mark an authorized (or captured) charge captured; False when there is none."""
        ...

    async def refund(self, reference: str, amount: Money) -> bool:
        """Add ``amount`` to the refunded total of a captured charge, in one conditional
        update; False when that would exceed the captured amount (or there is no charge)."""
        ...


class TestChargesUnitOfWork(UnitOfWork, Protocol):
    @property
    def charges(self) -> TestCharges: ...


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Agora-Signature`` header value for ``payload``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class TestCardGateway:
    """The test provider; its charges live in ``TestCharges``, so they outlast the process."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        charges: UnitOfWorkFactory[TestChargesUnitOfWork],
        webhook_secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._uow = charges
        self._secret = webhook_secret.encode()
        self._clock = clock

    @property
    def name(self) -> str:
        return "test"

    def check_token(self, token: str) -> None:
        if token not in TOKENS:
            raise ValidationError(
                "Unknown payment token; the test provider accepts " + ", ".join(TOKENS) + ".",
                field="payment_token",
            )

    async def authorize(self, amount: Money, token: str, idempotency_key: str) -> GatewayResult:
        self.check_token(token)
        async with self._uow() as uow:
            charge = await uow.charges.by_idempotency_key(idempotency_key)
            if charge is None:
                if token == "tok_processing_error":  # noqa: S105 - a public test token
                    raise PaymentProviderError("The test provider simulated a processing error.")
                decline = _DECLINES.get(token)
                status = GatewayStatus.AUTHORIZED if decline is None else GatewayStatus.DECLINED
                fresh = TestCharge(self._reference(), idempotency_key, amount, status, decline)
                charge = await uow.charges.add(fresh)
                await uow.commit()
        return charge.authorization()

    async def capture(self, reference: str) -> GatewayResult:
        async with self._uow() as uow:
            if not await uow.charges.capture(reference):
                raise NotFoundError("Unknown payment reference.", reference=reference)
            await uow.commit()
        return GatewayResult(GatewayStatus.CAPTURED, reference)

    async def lookup(self, idempotency_key: str) -> GatewayResult | None:
        async with self._uow(read_only=True) as uow:
            charge = await uow.charges.by_idempotency_key(idempotency_key)
        if charge is None:
            return None
        return GatewayResult(charge.status, charge.reference, charge.decline_reason)

    async def refund(self, reference: str, amount: Money) -> GatewayResult:
        """Refund part or all of a captured charge.

        Asking again for the full refund of a charge already refunded in full answers
        as the first time (the payments service retries a refund whose outcome it did
        not record, and that must change nothing); any other refund past the captured
        amount is refused.
        """
        async with self._uow() as uow:
            if not await uow.charges.refund(reference, amount):
                charge = await uow.charges.get(reference)
                if charge is None or charge.status is GatewayStatus.DECLINED:
                    raise NotFoundError("Unknown payment reference.", reference=reference)
                if amount == charge.amount and charge.refunded_amount == charge.amount.amount:
                    return GatewayResult(GatewayStatus.REFUNDED, reference)
                raise ValidationError("A refund cannot exceed the captured amount.", field="amount")
            await uow.commit()
        return GatewayResult(GatewayStatus.REFUNDED, reference)

    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        return sign(payload, self._secret.decode(), timestamp)

    def verify_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        self._verify_signature(payload, signature_header)
        try:
            body = orjson.loads(payload)
            data = body["data"]
            amount = data.get("amount")
            return WebhookEvent(
                id=str(body["id"]),
                type=str(body["type"]),
                reference=str(data["reference"]),
                amount=Money(amount["amount"], amount["currency"]) if amount else None,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidWebhookError() from exc
        except ValidationError as exc:
            raise InvalidWebhookError(exc.message) from exc

    def _verify_signature(self, payload: bytes, header: str) -> None:
        parts = dict(
            part.split("=", 1) for part in header.split(",") if "=" in part and len(part) < 200
        )
        timestamp, given = parts.get("t", ""), parts.get("v1", "")
        if not timestamp.isdigit() or not given:
            raise AuthenticationError("The webhook signature header is malformed.")
        if abs(self._clock() - int(timestamp)) > TOLERANCE_SECONDS:
            raise AuthenticationError("The webhook signature has expired.")
        expected = hmac.new(
            self._secret, f"{timestamp}.".encode() + payload, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise AuthenticationError("The webhook signature does not match.")

    @staticmethod
    def _reference() -> str:
        return "pay_test_" + secrets.token_hex(12)
