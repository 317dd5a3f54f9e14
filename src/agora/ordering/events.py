"""The events ordering publishes: one per status an order reaches (version 1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agora.platform.events import EventPayload, EventType
from agora.platform.events.schemas import MoneyPayload


class OrderLinePayload(EventPayload):
    product_id: UUID
    sku: str
    name: str
    unit_price: MoneyPayload
    quantity: int


class OrderChanged(EventPayload):
    order_id: UUID
    number: str
    customer_id: UUID
    status: str
    total: MoneyPayload
    items: list[OrderLinePayload]


class OrderPlaced(OrderChanged):
    idempotency_key: str | None


class OrderPaymentFailed(OrderChanged):
    reason: str


class OrderMoved(OrderChanged):
    """A move an actor asked for; ``refund_due`` when money must go back to the buyer."""

    reason: str | None
    refund_due: bool


EVENT_TYPES: tuple[EventType[Any], ...] = (
    EventType("ordering.OrderPlaced", OrderPlaced, "An order was placed; its stock is reserved."),
    EventType("ordering.OrderPaid", OrderChanged, "The order's payment was captured."),
    EventType(
        "ordering.OrderPaymentFailed",
        OrderPaymentFailed,
        "The charge failed; the order's stock went back.",
    ),
    EventType(
        "ordering.OrderCancelled",
        OrderMoved,
        "The order was cancelled; with refund_due, its payment is to be refunded.",
    ),
    EventType("ordering.OrderFulfilled", OrderMoved, "The order was packed for shipping."),
    EventType("ordering.OrderShipped", OrderMoved, "The order left the warehouse."),
    EventType("ordering.OrderDelivered", OrderMoved, "The order reached the customer."),
    EventType(
        "ordering.OrderRefunded",
        OrderMoved,
        "The order was refunded in full; with refund_due, its payment is to be refunded.",
    ),
)
