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
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

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

SIGNATURE_HEADER = "Agora-Signature"
TOLERANCE_SECONDS = 300

TOKENS = ("tok_success", "tok_declined", "tok_insufficient_funds", "tok_processing_error")
_DECLINES = {
    "tok_declined": DeclineReason.CARD_DECLINED,
    "tok_insufficient_funds": DeclineReason.INSUFFICIENT_FUNDS,
}


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Agora-Signature`` header value for ``payload``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class TestCardGateway:
    """An in-process provider; its memory of charges lasts as long as the process."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, webhook_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = webhook_secret.encode()
        self._clock = clock
        self._authorizations: dict[str, GatewayResult] = {}
        self._amounts: dict[str, Money] = {}
        self._refunded: set[str] = set()

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
        previous = self._authorizations.get(idempotency_key)
        if previous is not None:
            return previous
        if token == "tok_processing_error":  # noqa: S105 - a public test token
            raise PaymentProviderError("The test provider simulated a processing error.")
        if token in _DECLINES:
            result = GatewayResult(GatewayStatus.DECLINED, self._reference(), _DECLINES[token])
        else:
            result = GatewayResult(GatewayStatus.AUTHORIZED, self._reference())
            self._amounts[result.reference or ""] = amount
        self._authorizations[idempotency_key] = result
        return result

    async def capture(self, reference: str) -> GatewayResult:
        if reference not in self._amounts:
            raise NotFoundError("Unknown payment reference.", reference=reference)
        return GatewayResult(GatewayStatus.CAPTURED, reference)

    async def refund(self, reference: str, amount: Money) -> GatewayResult:
        captured = self._amounts.get(reference)
        if captured is None:
            raise NotFoundError("Unknown payment reference.", reference=reference)
        if amount.currency != captured.currency or amount.amount > captured.amount:
            raise ValidationError("A refund cannot exceed the captured amount.", field="amount")
        self._refunded.add(reference)
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
