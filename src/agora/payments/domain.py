"""Payments: what a payment is, which states it moves through, what a provider answers.

A payment records one attempt to charge an order. It starts ``pending`` before the
provider is called (so a crash mid-call leaves a trace), then ends ``captured``,
``declined`` or ``failed``; a captured payment may later be ``refunded``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from agora.platform.clock import utcnow
from agora.platform.errors import ConflictError, DependencyUnavailableError, DomainError
from agora.platform.ids import new_id
from agora.platform.money import Money


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    DECLINED = "declined"
    FAILED = "failed"
    REFUNDED = "refunded"


# Statuses that hold (or may soon hold) the customer's money: at most one per order.
ACTIVE_STATUSES = frozenset(
    {PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED}
)

# Statuses in which the provider's final answer is not recorded yet.
UNSETTLED = frozenset({PaymentStatus.PENDING, PaymentStatus.AUTHORIZED})


class GatewayStatus(StrEnum):
    """What a provider said about one call."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    DECLINED = "declined"
    REFUNDED = "refunded"
    ERROR = "error"


class DeclineReason(StrEnum):
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROCESSING_ERROR = "processing_error"


class PaymentProviderError(DependencyUnavailableError):
    """The provider could not be reached or answered with an error (retryable, 503)."""

    code = "PAYMENT_PROVIDER_ERROR"
    default_message = "The payment provider is unavailable."


class InvalidWebhookError(DomainError):
    """A webhook body is not a well-formed provider event (answered with 400)."""

    code = "INVALID_WEBHOOK"
    default_message = "The webhook payload is not a valid event."


@dataclass(frozen=True, slots=True)
class GatewayResult:
    status: GatewayStatus
    reference: str | None = None
    decline_reason: DeclineReason | None = None


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A provider notification, after its signature was verified."""

    id: str
    type: str
    reference: str
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    id: UUID
    order_id: UUID
    customer_id: UUID
    provider: str
    amount: Money
    status: PaymentStatus
    refunded_amount: Money
    created_at: datetime
    updated_at: datetime
    provider_reference: str | None = None
    failure_reason: str | None = None
    version: int = 1
    # The key the charge was sent with; reconciliation asks the provider by it.
    idempotency_key: str | None = None

    @classmethod
    def start(
        cls,
        order_id: UUID,
        customer_id: UUID,
        provider: str,
        amount: Money,
        idempotency_key: str | None = None,
    ) -> Payment:
        now = utcnow()
        return cls(
            id=new_id(),
            order_id=order_id,
            customer_id=customer_id,
            provider=provider,
            amount=amount,
            status=PaymentStatus.PENDING,
            refunded_amount=Money.zero(amount.currency),
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
        )

    @property
    def settled(self) -> bool:
        """The provider's answer is recorded: nothing is left to reconcile."""
        return self.status not in UNSETTLED

    def settle(self, result: GatewayResult) -> Payment:
        """The outcome of the authorize/capture calls for a pending payment."""
        if self.status is not PaymentStatus.PENDING and self.status is not PaymentStatus.AUTHORIZED:
            raise ConflictError("This payment is already settled.", payment_id=str(self.id))
        status = {
            GatewayStatus.AUTHORIZED: PaymentStatus.AUTHORIZED,
            GatewayStatus.CAPTURED: PaymentStatus.CAPTURED,
            GatewayStatus.DECLINED: PaymentStatus.DECLINED,
        }.get(result.status, PaymentStatus.FAILED)
        reason = result.decline_reason
        if status is PaymentStatus.FAILED and reason is None:
            reason = DeclineReason.PROCESSING_ERROR
        return replace(
            self,
            status=status,
            provider_reference=result.reference or self.provider_reference,
            failure_reason=reason.value if reason else None,
            updated_at=utcnow(),
            version=self.version + 1,
        )

    def mark_refunded(self) -> Payment:
        if self.status is not PaymentStatus.CAPTURED:
            raise ConflictError("Only a captured payment can be refunded.", payment_id=str(self.id))
        return replace(
            self,
            status=PaymentStatus.REFUNDED,
            refunded_amount=self.amount,
            updated_at=utcnow(),
            version=self.version + 1,
        )


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What the payments context tells its callers about a charge or refund."""

    payment_id: UUID
    status: PaymentStatus
    reference: str | None
    decline_reason: str | None

    @property
    def succeeded(self) -> bool:
        return self.status is PaymentStatus.CAPTURED

    @classmethod
    def of(cls, payment: Payment) -> PaymentResult:
        return cls(payment.id, payment.status, payment.provider_reference, payment.failure_reason)
