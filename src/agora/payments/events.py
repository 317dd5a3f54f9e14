"""The events payments publishes (version 1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agora.platform.events import EventPayload, EventType
from agora.platform.events.schemas import MoneyPayload


class PaymentChanged(EventPayload):
    payment_id: UUID
    order_id: UUID
    status: str
    amount: MoneyPayload
    reference: str | None
    reason: str | None


EVENT_TYPES: tuple[EventType[Any], ...] = (
    EventType("payments.PaymentAuthorized", PaymentChanged, "The provider authorised a charge."),
    EventType("payments.PaymentCaptured", PaymentChanged, "The provider captured the money."),
    EventType("payments.PaymentDeclined", PaymentChanged, "The provider declined the card."),
    EventType("payments.PaymentFailed", PaymentChanged, "The charge failed at the provider."),
    EventType("payments.PaymentRefunded", PaymentChanged, "The payment was refunded in full."),
)
