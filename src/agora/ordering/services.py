"""Ordering use cases: the checkout saga and moving orders through their life.

(The cart's use cases are in ``agora.ordering.carts``.)

Checkout is a saga of three local transactions, never one spanning the provider call:

1. reserve stock for every line (in product-id order, so concurrent checkouts lock
   rows in the same order and cannot deadlock) and insert the order
   ``pending_payment`` - all or nothing;
2. charge through the payment port, outside any transaction;
3. on success mark the order ``paid`` (and remove the bought lines from the cart); on
   failure compensate: release the stock and mark the order ``payment_failed``, then
   tell the client why (402 ``PAYMENT_DECLINED``).

Every status change is a conditional update on the order's ``version``, in the same
transaction as its stock moves, so two concurrent actions can never both apply (two
cancels never refund or release twice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from agora.ordering.domain import (
    CHARGED,
    UNSHIPPED,
    EmailNotVerifiedError,
    Order,
    OrderLine,
    OrderStatus,
    merge_lines,
    order_event,
)
from agora.ordering.ports import (
    CustomerAccounts,
    OrderFilter,
    OrderingUnitOfWork,
    OrderingUnitOfWorkFactory,
    PaymentProcessor,
    ProductCatalog,
)
from agora.ordering.pricing import CartNotReadyError, price_cart, require_sellable
from agora.platform.access import Permission, Principal
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.errors import (
    ConflictError,
    DependencyUnavailableError,
    IllegalTransitionError,
    NotFoundError,
    PaymentDeclinedError,
    StaleVersionError,
)
from agora.platform.logging import get_logger

log = get_logger("agora.ordering")

CUSTOMER_CANCELLABLE = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID})


async def release_stock(uow: OrderingUnitOfWork, order: Order) -> None:
    """Give an order's reserved units back, in the unit of work that moves the order (in
    product-id order, like the reservation, so concurrent moves never deadlock)."""
    for line in sorted(order.items, key=lambda line: line.product_id):
        await uow.stock.release(line.product_id, line.quantity)


class OrderService:
    def __init__(
        self,
        uow: OrderingUnitOfWorkFactory,
        catalog: ProductCatalog,
        payments: PaymentProcessor,
        audit: AuditTrail | None = None,
        verified_email_required_by: CustomerAccounts | None = None,
        *,
        currency: str,
    ) -> None:
        self._uow = uow
        self._currency = currency  # the shop's: every order is in it
        self._catalog = catalog
        self._payments = payments
        self._audit: AuditTrail = audit or NullAuditTrail()
        # Set when the shop requires a verified email address for checkout.
        self._verified_email_required_by = verified_email_required_by

    # -- checkout -------------------------------------------------------------------

    async def place_order(
        self,
        principal: Principal,
        payment_token: str,
        items: Sequence[tuple[UUID, int]] | None = None,
        idempotency_key: str | None = None,
        on_started: Callable[[], None] | None = None,
    ) -> Order:
        """Turn ``items`` (or, when None, the cart) into a paid order, or compensate.

        ``idempotency_key`` is the client's key, already claimed by the edge; the
        provider is called with a key derived from the order, which is unique anyway.
        ``on_started`` is called once the order and its stock reservation are committed:
        from then on the request has changed something and every outcome (paid,
        declined, cancelled meanwhile) is final. A failure before it changed nothing.
        """
        await self._ensure_can_check_out(principal)
        self._payments.check_token(payment_token)
        from_cart = items is None
        if items is None:
            items = await self._cart_lines(principal.user_id)
        lines = merge_lines(items)

        order = await self._reserve_and_place(principal.user_id, lines, idempotency_key)
        if on_started is not None:
            on_started()
        try:
            outcome = await self._payments.charge(
                order.id, order.customer_id, order.total, payment_token, f"order:{order.id}"
            )
        except Exception:
            await self._fail_payment(order, "processing_error", "failed")
            raise
        if not outcome.succeeded:
            reason = outcome.decline_reason or "processing_error"
            await self._fail_payment(order, reason, outcome.status)
            raise PaymentDeclinedError(
                "The payment was declined.", reason=reason, order_id=str(order.id)
            )
        return await self._confirm_paid(
            order, principal.user_id, outcome.status, outcome.reference, from_cart
        )

    async def _ensure_can_check_out(self, principal: Principal) -> None:
        """``EmailNotVerifiedError`` when the shop requires a verified email and it is not."""
        accounts = self._verified_email_required_by
        if accounts is not None and not await accounts.email_verified(principal.user_id):
            raise EmailNotVerifiedError()

    async def _cart_lines(self, customer_id: UUID) -> list[tuple[UUID, int]]:
        """The cart's lines, or ``CartNotReadyError`` naming those that cannot be bought."""
        async with self._uow(read_only=True) as uow:
            cart = await uow.carts.get(customer_id)
        if cart.is_empty:
            return []
        for_sale = await self._catalog.products_for_sale(list(cart.lines))
        priced = price_cart(cart.lines, for_sale, self._currency)
        if priced.issues:
            raise CartNotReadyError.of(priced)
        return list(cart.lines.items())

    async def _reserve_and_place(
        self, customer_id: UUID, lines: dict[UUID, int], idempotency_key: str | None
    ) -> Order:
        """Insert the order, then take the stock, then commit: one transaction.

        Stock goes last on purpose: the conditional UPDATE locks the product rows until
        the commit, so everything else is written before it and a popular product's row
        is held only for the commit itself. The order snapshots the catalog as read just
        before; if a price or name changed in between, the reservation (which returns
        the row as locked) disagrees, and the whole attempt is rolled back and retried.
        """
        for _attempt in range(3):
            for_sale = await self._catalog.products_for_sale(list(lines))
            snapshot = []
            for product_id in sorted(lines):
                product = require_sellable(
                    product_id, for_sale.get(product_id), self._currency, field="items"
                )
                snapshot.append(
                    OrderLine(
                        product_id, product.sku, product.name, product.price, lines[product_id]
                    )
                )
            order = Order.place(customer_id, snapshot)
            async with self._uow() as uow:
                await uow.orders.add(order)
                uow.record(order_event(order, idempotency_key=idempotency_key))
                unchanged = True
                for line in order.items:
                    reserved = await uow.stock.reserve(line.product_id, line.quantity)
                    if (reserved.sku, reserved.name, reserved.price) != (
                        line.sku,
                        line.name,
                        line.unit_price,
                    ):
                        unchanged = False
                        break
                if unchanged:
                    await uow.commit()
                    return order
        raise ConflictError(
            "The catalog changed while the order was being placed; please try again."
        )

    async def _fail_payment(self, order: Order, reason: str, payment_status: str) -> None:
        """Compensate a failed charge: give the units back, mark the order failed."""
        async with self._uow() as uow:
            current = await uow.orders.get(order.id)
            if current is None or current.status is not OrderStatus.PENDING_PAYMENT:
                return  # cancelled meanwhile: that cancel already released the stock
            moved, change = current.with_payment(payment_status, None).transition(
                OrderStatus.PAYMENT_FAILED, None, reason
            )
            await release_stock(uow, current)
            if not await uow.orders.save(moved, change, current.version):
                return
            uow.record(order_event(moved, reason=reason))
            await uow.commit()

    async def _confirm_paid(
        self,
        order: Order,
        actor_id: UUID,
        payment_status: str,
        reference: str | None,
        from_cart: bool,
    ) -> Order:
        async with self._uow() as uow:
            moved, change = order.with_payment(payment_status, reference).transition(
                OrderStatus.PAID, actor_id
            )
            if await uow.orders.save(moved, change, order.version):
                if from_cart:
                    await uow.carts.remove(
                        order.customer_id, [line.product_id for line in order.items]
                    )
                uow.record(order_event(moved))
                await uow.commit()
                return moved
        # The order was cancelled while the provider was charging: give the money back.
        refund = await self._payments.refund(order.id)
        async with self._uow() as uow:
            await uow.orders.set_payment(order.id, refund.status, refund.reference)
            await uow.commit()
        raise ConflictError(
            "The order was cancelled while it was being paid; the payment was refunded.",
            order_id=str(order.id),
        )

    # -- queries ----------------------------------------------------------------------

    async def get(self, principal: Principal, order_id: UUID) -> Order:
        async with self._uow(read_only=True) as uow:
            return await self._visible(uow, principal, order_id)

    async def list(
        self, principal: Principal, where: OrderFilter, offset: int, limit: int
    ) -> tuple[Sequence[Order], int]:
        """Customers see their own orders; staff see everyone's and may filter by customer."""
        if not principal.can(Permission.ORDERS_MANAGE):
            where = OrderFilter(
                customer_id=principal.user_id,
                status=where.status,
                created_from=where.created_from,
                created_to=where.created_to,
            )
        async with self._uow(read_only=True) as uow:
            return await uow.orders.list(where, offset, limit)

    # -- transitions ------------------------------------------------------------------

    async def cancel(
        self, principal: Principal, order_id: UUID, reason: str | None = None
    ) -> Order:
        """Cancel an order; a paid one is refunded and its units go back to stock.

        Customers may cancel their own orders until they are fulfilled; staff may also
        cancel fulfilled (not yet shipped) orders.
        """
        return await self._move(principal, order_id, OrderStatus.CANCELLED, reason)

    async def fulfill(self, principal: Principal, order_id: UUID) -> Order:
        principal.require(Permission.ORDERS_MANAGE)
        return await self._move(principal, order_id, OrderStatus.FULFILLED)

    async def ship(self, principal: Principal, order_id: UUID) -> Order:
        principal.require(Permission.ORDERS_MANAGE)
        return await self._move(principal, order_id, OrderStatus.SHIPPED)

    async def deliver(self, principal: Principal, order_id: UUID) -> Order:
        principal.require(Permission.ORDERS_MANAGE)
        return await self._move(principal, order_id, OrderStatus.DELIVERED)

    async def refund(
        self, principal: Principal, order_id: UUID, reason: str | None = None
    ) -> Order:
        """Refund a paid or delivered order in full.

        Units return to stock only if the order never shipped; delivered goods come
        back (or not) through a returns process, not through this call.
        """
        principal.require(Permission.ORDERS_MANAGE)
        return await self._move(principal, order_id, OrderStatus.REFUNDED, reason)

    async def _move(
        self,
        principal: Principal,
        order_id: UUID,
        target: OrderStatus,
        reason: str | None = None,
    ) -> Order:
        async with self._uow() as uow:
            order = await self._visible(uow, principal, order_id)
            if (
                target is OrderStatus.CANCELLED
                and not principal.can(Permission.ORDERS_MANAGE)
                and order.status not in CUSTOMER_CANCELLABLE
            ):
                raise IllegalTransitionError(
                    "This order can no longer be cancelled; contact support.",
                    order_id=str(order.id),
                    status=order.status.value,
                )
            moved, change = order.transition(target, principal.user_id, reason)
            if (
                target in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
                and order.status in UNSHIPPED
            ):
                await release_stock(uow, order)
            if not await uow.orders.save(moved, change, order.version):
                raise StaleVersionError(order_id=str(order.id))
            refund_due = order.status in CHARGED and target in (
                OrderStatus.CANCELLED,
                OrderStatus.REFUNDED,
            )
            uow.record(order_event(moved, reason=reason, refund_due=refund_due))
            await self._audit_move(principal, order, target, reason, refund_due)
            await uow.commit()
        if refund_due:
            try:
                moved = await self._refund_payment(moved)
            except DependencyUnavailableError as exc:
                # The move stands; the ``ordering.refund-due`` consumer retries the refund
                # from the event (with backoff) until the provider takes it.
                log.warning("refund_deferred", order_id=str(order.id), error=str(exc))
        return moved

    async def settle_refund(self, order_id: UUID) -> bool:
        """Refund an order whose cancel or refund left its payment unrefunded.

        Safe to run any number of times: an order already refunded is left alone, and
        the payments refund is idempotent per order. True when it refunded now.
        """
        async with self._uow(read_only=True) as uow:
            order = await uow.orders.get(order_id)
        if order is None or order.payment_status == "refunded":
            return False
        if order.status not in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
            return False
        await self._refund_payment(order)
        return True

    async def _audit_move(
        self,
        principal: Principal,
        order: Order,
        target: OrderStatus,
        reason: str | None,
        refund_due: bool,
    ) -> None:
        """Refunds, and cancellations by staff, are admin actions an auditor must see:
        recorded in the move's unit of work, so the record commits with the move."""
        staff_cancel = target is OrderStatus.CANCELLED and principal.can(Permission.ORDERS_MANAGE)
        if target is not OrderStatus.REFUNDED and not staff_cancel:
            return
        await self._audit.record(
            "orders.refunded" if target is OrderStatus.REFUNDED else "orders.cancelled",
            actor_id=principal.user_id,
            target_type="order",
            target_id=str(order.id),
            details={
                "number": order.number,
                "customer_id": str(order.customer_id),
                "from_status": order.status.value,
                "reason": reason,
                "refund_due": refund_due,
                "total": order.total.as_dict(),
            },
        )

    async def _refund_payment(self, order: Order) -> Order:
        """Refund after the transition committed: the version check made us its only owner.

        If the provider fails here, the order stays cancelled/refunded with its payment
        still ``captured``; its ``ordering.OrderCancelled``/``OrderRefunded`` event says
        ``refund_due`` and the ``ordering.refund-due`` consumer retries the refund, which
        the payments context makes idempotent per order.
        """
        outcome = await self._payments.refund(order.id)
        async with self._uow() as uow:
            await uow.orders.set_payment(order.id, outcome.status, outcome.reference)
            await uow.commit()
        return order.with_payment(outcome.status, outcome.reference)

    @staticmethod
    async def _visible(uow: OrderingUnitOfWork, principal: Principal, order_id: UUID) -> Order:
        order = await uow.orders.get(order_id)
        if order is None or (
            order.customer_id != principal.user_id and not principal.can(Permission.ORDERS_MANAGE)
        ):
            raise NotFoundError("Order not found.", order_id=str(order_id))
        return order
