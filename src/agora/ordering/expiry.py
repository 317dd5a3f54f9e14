"""Orders left in ``pending_payment``: paid after all, or cancelled and their stock freed.

Checkout moves an order out of ``pending_payment`` within one request. An order still
there after the timeout was left by a process that died (or a provider that never
answered) between the reservation and the outcome. The expiry asks the payments context
first, which asks the provider when its answer was never recorded: a captured payment
completes the order; anything else cancels it, with the cancel path's compensation
(its units go back to stock, ``ordering.OrderCancelled`` is recorded). Each order moves
by a conditional update on its version, so two expiries at once, or an expiry racing a
late checkout, move it once; a checkout whose order was cancelled meanwhile refunds its
payment (``OrderService._confirm_paid``).
"""

from __future__ import annotations

from datetime import timedelta

from agora.ordering.domain import Order, OrderStatus, order_event
from agora.ordering.ports import (
    OrderFilter,
    OrderingUnitOfWorkFactory,
    PaymentOutcome,
    PaymentProcessor,
)
from agora.ordering.services import release_stock
from agora.platform.clock import utcnow
from agora.platform.errors import DependencyUnavailableError
from agora.platform.logging import get_logger

log = get_logger("agora.ordering.expiry")

EXPIRED_REASON = "payment_timeout"
PAID_LATE_REASON = "payment_confirmed_late"


class PendingPaymentExpiry:
    def __init__(
        self,
        uow: OrderingUnitOfWorkFactory,
        payments: PaymentProcessor,
        timeout: timedelta,
        *,
        batch_size: int = 200,
    ) -> None:
        self._uow = uow
        self._payments = payments
        self.timeout = timeout
        self._batch_size = batch_size

    async def expire(self) -> str:
        """Settle every order placed more than ``timeout`` ago and still unpaid."""
        where = OrderFilter(status=OrderStatus.PENDING_PAYMENT, created_to=utcnow() - self.timeout)
        async with self._uow(read_only=True) as uow:
            orders, _total = await uow.orders.list(where, 0, self._batch_size)
        paid = cancelled = deferred = 0
        for order in orders:
            try:
                payment = await self._payments.reconcile(order.id)
            except DependencyUnavailableError as exc:
                # Cancelling now could cancel a paid order: wait for the provider.
                deferred += 1
                log.warning("order_expiry_deferred", order_id=str(order.id), error=exc.message)
                continue
            if payment is not None and payment.succeeded:
                paid += await self._complete(order, payment)
            else:
                cancelled += await self._cancel(order, payment)
        if deferred:
            raise DependencyUnavailableError(
                f"The payment provider could not confirm {deferred} expired orders; "
                "they stay pending until the next run."
            )
        return f"{cancelled} orders cancelled, {paid} found paid, of {len(orders)} expired"

    async def _cancel(self, order: Order, payment: PaymentOutcome | None) -> bool:
        async with self._uow() as uow:
            current = await uow.orders.get(order.id)
            if current is None or current.status is not OrderStatus.PENDING_PAYMENT:
                return False  # paid, failed or cancelled meanwhile
            if payment is not None:
                current = current.with_payment(payment.status, payment.reference)
            moved, change = current.transition(OrderStatus.CANCELLED, None, EXPIRED_REASON)
            await release_stock(uow, current)
            if not await uow.orders.save(moved, change, current.version):
                return False  # moved meanwhile: leaving without commit undoes the release
            uow.record(order_event(moved, reason=EXPIRED_REASON, refund_due=False))
            await uow.commit()
        log.info("order_expired", order_id=str(order.id), number=order.number)
        return True

    async def _complete(self, order: Order, payment: PaymentOutcome) -> bool:
        async with self._uow() as uow:
            current = await uow.orders.get(order.id)
            if current is None or current.status is not OrderStatus.PENDING_PAYMENT:
                return False
            moved, change = current.with_payment(payment.status, payment.reference).transition(
                OrderStatus.PAID, None, PAID_LATE_REASON
            )
            if not await uow.orders.save(moved, change, current.version):
                return False
            uow.record(order_event(moved))
            await uow.commit()
        log.info("order_paid_late", order_id=str(order.id), number=order.number)
        return True
