"""Payment use cases: charge an order, refund it, apply provider webhooks.

The provider is always called outside a database transaction (a slow provider must
not hold a connection or, on SQLite, the write lock). The attempt is recorded first,
so every call to the provider leaves a row behind, then the outcome is written.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from agora.payments.domain import (
    DeclineReason,
    GatewayResult,
    GatewayStatus,
    Payment,
    PaymentProviderError,
    PaymentResult,
    PaymentStatus,
    WebhookEvent,
)
from agora.payments.ports import PaymentGateway, PaymentsUnitOfWorkFactory
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import ConflictError, NotFoundError
from agora.platform.events import DomainEvent
from agora.platform.logging import get_logger
from agora.platform.money import Money

log = get_logger("agora.payments")


def _event(name: str, payment: Payment) -> DomainEvent:
    return DomainEvent(
        name=f"payments.{name}",
        aggregate_id=payment.id,
        payload={
            "payment_id": str(payment.id),
            "order_id": str(payment.order_id),
            "status": payment.status.value,
            "amount": payment.amount.as_dict(),
            "reference": payment.provider_reference,
            "reason": payment.failure_reason,
        },
    )


_EVENT_BY_STATUS = {
    PaymentStatus.CAPTURED: "PaymentCaptured",
    PaymentStatus.AUTHORIZED: "PaymentAuthorized",
    PaymentStatus.DECLINED: "PaymentDeclined",
    PaymentStatus.FAILED: "PaymentFailed",
    PaymentStatus.REFUNDED: "PaymentRefunded",
}


class PaymentService:
    def __init__(
        self,
        uow: PaymentsUnitOfWorkFactory,
        gateway: PaymentGateway,
        audit: AuditTrail | None = None,
    ) -> None:
        self._uow = uow
        self._gateway = gateway
        self._audit: AuditTrail = audit or NullAuditTrail()

    def check_token(self, token: str) -> None:
        """Refuse a token the provider can never accept, before any work is done."""
        self._gateway.check_token(token)

    async def charge(
        self,
        order_id: UUID,
        customer_id: UUID,
        amount: Money,
        token: str,
        idempotency_key: str,
    ) -> PaymentResult:
        """Authorize and capture ``amount`` for an order; an order is captured at most once."""
        self._gateway.check_token(token)
        async with self._uow() as uow:
            existing = await uow.payments.active_for_order(order_id)
            if existing is not None:
                if existing.status is PaymentStatus.CAPTURED:
                    return PaymentResult.of(existing)
                raise ConflictError(
                    "A payment for this order is already in progress.", order_id=str(order_id)
                )
            payment = Payment.start(
                order_id, customer_id, self._gateway.name, amount, idempotency_key
            )
            await uow.payments.add(payment)
            await uow.commit()

        result = await self._call_provider(amount, token, idempotency_key)
        settled = payment.settle(result)
        async with self._uow() as uow:
            if not await uow.payments.save(settled, payment.version):
                raise ConflictError("The payment changed concurrently.", payment_id=str(payment.id))
            uow.record(_event(_EVENT_BY_STATUS[settled.status], settled))
            await uow.commit()
        return PaymentResult.of(settled)

    async def _call_provider(self, amount: Money, token: str, key: str) -> GatewayResult:
        try:
            result = await self._gateway.authorize(amount, token, key)
            if result.status is GatewayStatus.AUTHORIZED and result.reference is not None:
                result = await self._gateway.capture(result.reference)
        except PaymentProviderError as exc:
            log.warning("payment_provider_error", error=exc.message)
            return GatewayResult(GatewayStatus.ERROR, decline_reason=DeclineReason.PROCESSING_ERROR)
        return result

    async def refund(self, order_id: UUID) -> PaymentResult:
        """Refund the captured payment of an order in full; repeating it changes nothing."""
        async with self._uow(read_only=True) as uow:
            payment = await uow.payments.latest_for_order(order_id)
        if payment is None or payment.status not in (
            PaymentStatus.CAPTURED,
            PaymentStatus.REFUNDED,
        ):
            raise NotFoundError("This order has no captured payment.", order_id=str(order_id))
        if payment.status is PaymentStatus.REFUNDED or payment.provider_reference is None:
            return PaymentResult.of(payment)
        result = await self._gateway.refund(payment.provider_reference, payment.amount)
        if result.status is not GatewayStatus.REFUNDED:
            raise PaymentProviderError("The provider did not confirm the refund.")
        refunded = payment.mark_refunded()
        async with self._uow() as uow:
            saved = await uow.payments.save(refunded, payment.version)
            if saved:
                uow.record(_event("PaymentRefunded", refunded))
                await self._audit_refund(refunded, "requested")
                await uow.commit()
            current = None if saved else await uow.payments.latest_for_order(order_id)
        if saved:
            return PaymentResult.of(refunded)
        # Someone else (a webhook, a concurrent refund) got there first: report their result.
        if current is not None and current.status is PaymentStatus.REFUNDED:
            return PaymentResult.of(current)
        raise ConflictError("The payment changed concurrently.", payment_id=str(payment.id))

    # -- reconciliation -----------------------------------------------------------------

    async def reconcile(self, order_id: UUID) -> PaymentResult | None:
        """The order's latest payment, after asking the provider about it if its answer
        was never recorded; None when the order has no payment at all."""
        async with self._uow(read_only=True) as uow:
            payment = await uow.payments.latest_for_order(order_id)
        if payment is None:
            return None
        return PaymentResult.of(await self._reconcile(payment))

    async def reconcile_unsettled(self, older_than: timedelta, limit: int = 200) -> str:
        """Settle payments left pending or authorized for longer than ``older_than`` (a
        process died between the provider's answer and recording it) by asking the
        provider. Idempotent: a payment settled meanwhile is left as it is."""
        async with self._uow(read_only=True) as uow:
            stuck = await uow.payments.unsettled(utcnow() - older_than, limit)
        settled = unreachable = 0
        for payment in stuck:
            try:
                if (await self._reconcile(payment)).settled:
                    settled += 1
            except PaymentProviderError as exc:
                unreachable += 1
                log.warning("reconcile_deferred", payment_id=str(payment.id), error=exc.message)
        if unreachable:
            raise PaymentProviderError(
                f"The provider could not be asked about {unreachable} of {len(stuck)} "
                "unsettled payments; they are tried again at the next run."
            )
        return f"{settled} of {len(stuck)} unsettled payments settled"

    async def _reconcile(self, payment: Payment) -> Payment:
        if payment.settled:
            return payment
        answer = None
        if payment.idempotency_key is not None:
            answer = await self._gateway.lookup(payment.idempotency_key)
        if answer is None:  # the provider never took the charge: nothing was paid
            result = GatewayResult(
                GatewayStatus.ERROR, decline_reason=DeclineReason.PROCESSING_ERROR
            )
        elif answer.status is GatewayStatus.AUTHORIZED and answer.reference is not None:
            # Authorized but the capture that follows at once was never made: make it,
            # as the charge would have.
            result = await self._gateway.capture(answer.reference)
        else:
            result = answer
        settled = payment.settle(result)
        async with self._uow() as uow:
            if not await uow.payments.save(settled, payment.version):
                # Settled meanwhile (the charge finished, another run, a webhook): theirs stands.
                current = await uow.payments.latest_for_order(payment.order_id)
                return current if current is not None else payment
            uow.record(_event(_EVENT_BY_STATUS[settled.status], settled))
            await uow.commit()
        log.info("payment_reconciled", payment_id=str(payment.id), status=settled.status.value)
        return settled

    async def apply_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        """Verify a provider notification and apply it once, however often it is delivered."""
        event = self._gateway.verify_webhook(payload, signature_header)
        async with self._uow() as uow:
            if not await uow.payments.remember_webhook(event.id, event.type):
                return event
            payment = await uow.payments.by_reference(self._gateway.name, event.reference)
            updated = self._apply(payment, event) if payment is not None else None
            if payment is not None and updated is not None:
                if not await uow.payments.save(updated, payment.version):
                    raise ConflictError("The payment changed concurrently; redeliver later.")
                uow.record(_event(_EVENT_BY_STATUS[updated.status], updated))
                if updated.status is PaymentStatus.REFUNDED:
                    await self._audit_refund(updated, "provider_webhook")
            await uow.commit()
        return event

    async def _audit_refund(self, payment: Payment, source: str) -> None:
        """Money leaving the shop: recorded once, in the unit of work that stores the refund."""
        await self._audit.record(
            "payments.refunded",
            target_type="payment",
            target_id=str(payment.id),
            details={
                "order_id": str(payment.order_id),
                "amount": payment.amount.as_dict(),
                "reference": payment.provider_reference,
                "source": source,
            },
        )

    @staticmethod
    def _apply(payment: Payment, event: WebhookEvent) -> Payment | None:
        """The payment after ``event``, or None when the event changes nothing."""
        if event.type == "payment.refunded" and payment.status is PaymentStatus.CAPTURED:
            return payment.mark_refunded()
        if event.type == "payment.captured" and payment.status is PaymentStatus.AUTHORIZED:
            return payment.settle(GatewayResult(GatewayStatus.CAPTURED, payment.provider_reference))
        return None
