"""Ordering's reactions to events, run by the events backbone."""

from __future__ import annotations

from typing import Any

from agora.ordering.events import OrderMoved
from agora.ordering.services import OrderService
from agora.platform.events.consumers import Consumer, Received

REFUND_DUE = "ordering.refund-due"


def refund_due_consumer(orders: OrderService) -> Consumer:
    """Refunds the payment of a cancelled or refunded order when the inline refund
    could not (the provider was down): retried with backoff until it goes through."""

    async def handle(event: Received[Any]) -> None:
        payload: OrderMoved = event.payload
        if payload.refund_due:
            await orders.settle_refund(payload.order_id)

    return Consumer(
        name=REFUND_DUE,
        events=frozenset({"ordering.OrderCancelled", "ordering.OrderRefunded"}),
        handler=handle,
        summary="Refund the payment of a cancelled or refunded order until it succeeds.",
    )
