"""Ordering: carts, orders and the order state machine (pure Python).

An order snapshots what was bought (SKU, name, unit price) so later catalog changes
never rewrite history; totals are always computed here, never taken from a client.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from agora.platform.clock import utcnow
from agora.platform.errors import IllegalTransitionError, PermissionDeniedError, ValidationError
from agora.platform.events import DomainEvent
from agora.platform.ids import new_id
from agora.platform.money import Money, total

MIN_QUANTITY = 1
MAX_QUANTITY = 99
MAX_LINES = 50


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_FAILED = "payment_failed"
    PAID = "paid"
    FULFILLED = "fulfilled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


S = OrderStatus
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        S.PENDING_PAYMENT: frozenset({S.PAID, S.PAYMENT_FAILED, S.CANCELLED}),
        S.PAID: frozenset({S.FULFILLED, S.CANCELLED, S.REFUNDED}),
        S.FULFILLED: frozenset({S.SHIPPED, S.CANCELLED}),
        S.SHIPPED: frozenset({S.DELIVERED}),
        S.DELIVERED: frozenset({S.REFUNDED}),
        S.PAYMENT_FAILED: frozenset(),
        S.CANCELLED: frozenset(),
        S.REFUNDED: frozenset(),
    }
)
# Statuses in which the order's goods never left the warehouse: cancelling or refunding
# from here returns the reserved units to stock. After shipping they are not ours to resell.
UNSHIPPED = frozenset({S.PENDING_PAYMENT, S.PAID, S.FULFILLED})
# Statuses in which the customer's money has been captured.
CHARGED = frozenset({S.PAID, S.FULFILLED, S.SHIPPED, S.DELIVERED})


def can_transition(source: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[source]


def new_order_number() -> str:
    """A short reference customers can read out: ``AG-`` and 8 base32 characters (40 bits)."""
    return "AG-" + base64.b32encode(os.urandom(5)).decode("ascii")


def check_quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise ValidationError(
            f"Quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY}.",
            field="quantity",
            quantity=quantity,
        )
    return quantity


def merge_lines(lines: Iterable[tuple[UUID, int]]) -> dict[UUID, int]:
    """Validate requested lines and merge duplicates; the result is never empty."""
    merged: dict[UUID, int] = {}
    for product_id, quantity in lines:
        check_quantity(quantity)
        merged[product_id] = merged.get(product_id, 0) + quantity
    if not merged:
        raise ValidationError("An order needs at least one item.", field="items")
    for quantity in merged.values():
        check_quantity(quantity)
    if len(merged) > MAX_LINES:
        raise ValidationError(f"An order may have at most {MAX_LINES} lines.", field="items")
    return merged


@dataclass(frozen=True, slots=True)
class Cart:
    """A customer's cart: product id -> quantity. Prices are looked up live, never stored."""

    customer_id: UUID
    lines: Mapping[UUID, int] = field(default_factory=dict)

    def with_quantity(self, product_id: UUID, quantity: int) -> Cart:
        check_quantity(quantity)
        if product_id not in self.lines and len(self.lines) >= MAX_LINES:
            raise ValidationError(f"A cart may hold at most {MAX_LINES} products.", field="items")
        return replace(self, lines={**self.lines, product_id: quantity})

    def add(self, product_id: UUID, quantity: int) -> Cart:
        check_quantity(quantity)
        return self.with_quantity(product_id, self.lines.get(product_id, 0) + quantity)

    @property
    def is_empty(self) -> bool:
        return not self.lines


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: UUID
    sku: str
    name: str
    unit_price: Money
    quantity: int

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity


def order_total(lines: Iterable[OrderLine]) -> Money:
    items = list(lines)
    if not items:
        raise ValidationError("An order needs at least one item.", field="items")
    currency = items[0].unit_price.currency
    return total([line.line_total for line in items], currency)


@dataclass(frozen=True, slots=True)
class StatusChange:
    order_id: UUID
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor_id: UUID | None
    at: datetime
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: UUID
    number: str
    customer_id: UUID
    status: OrderStatus
    items: tuple[OrderLine, ...]
    total: Money
    created_at: datetime
    updated_at: datetime
    version: int = 1
    payment_status: str | None = None
    payment_reference: str | None = None

    @classmethod
    def place(cls, customer_id: UUID, items: Iterable[OrderLine]) -> Order:
        lines = tuple(items)
        now = utcnow()
        return cls(
            id=new_id(),
            number=new_order_number(),
            customer_id=customer_id,
            status=OrderStatus.PENDING_PAYMENT,
            items=lines,
            total=order_total(lines),
            created_at=now,
            updated_at=now,
        )

    def transition(
        self,
        target: OrderStatus,
        actor_id: UUID | None,
        reason: str | None = None,
    ) -> tuple[Order, StatusChange]:
        """The order in ``target`` (version bumped) and the history entry, or 409."""
        if not can_transition(self.status, target):
            raise IllegalTransitionError(
                f"An order cannot go from {self.status.value} to {target.value}.",
                order_id=str(self.id),
                status=self.status.value,
                target=target.value,
            )
        now = utcnow()
        moved = replace(self, status=target, updated_at=now, version=self.version + 1)
        return moved, StatusChange(self.id, self.status, target, actor_id, now, reason)

    def with_payment(self, status: str, reference: str | None) -> Order:
        return replace(self, payment_status=status, payment_reference=reference)


_EVENT_BY_STATUS = {
    S.PENDING_PAYMENT: "OrderPlaced",
    S.PAID: "OrderPaid",
    S.PAYMENT_FAILED: "OrderPaymentFailed",
    S.CANCELLED: "OrderCancelled",
    S.FULFILLED: "OrderFulfilled",
    S.SHIPPED: "OrderShipped",
    S.DELIVERED: "OrderDelivered",
    S.REFUNDED: "OrderRefunded",
}


def order_event(order: Order, **extra: object) -> DomainEvent:
    """The event for the status ``order`` just reached (``ordering.OrderPaid``, ...)."""
    payload: dict[str, object] = {
        "order_id": str(order.id),
        "number": order.number,
        "customer_id": str(order.customer_id),
        "status": order.status.value,
        "total": order.total.as_dict(),
        "items": [
            {
                "product_id": str(line.product_id),
                "sku": line.sku,
                "name": line.name,
                "unit_price": line.unit_price.as_dict(),
                "quantity": line.quantity,
            }
            for line in order.items
        ],
        **extra,
    }
    return DomainEvent(
        name=f"ordering.{_EVENT_BY_STATUS[order.status]}", aggregate_id=order.id, payload=payload
    )


class EmailNotVerifiedError(PermissionDeniedError):
    """The shop requires a verified email address for checkout, and this one is not."""

    code = "EMAIL_NOT_VERIFIED"
    default_message = (
        "Verify your email address before checking out: open the link we emailed you, "
        "or ask for a new one with POST /api/v1/auth/verify-email/resend."
    )
