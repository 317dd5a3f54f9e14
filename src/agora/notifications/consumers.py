"""Notifications' reactions to events, run by the events backbone.

``notifications.mail-sender`` sends each queued message. It runs outside the inbox's
transaction (a message handed to a mail server cannot be rolled back); a failure is
recorded on the message and re-raised, so the runner retries with backoff, and after
the last attempt the message is ``failed`` and the event is a dead letter.

``notifications.order-confirmation`` queues the confirmation of a paid order, inside
the inbox's transaction: the message, its ``MailQueued`` event and the inbox's mark
commit together, and the per-order ``dedupe_key`` keeps it to one per order.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from agora.notifications import confirmation
from agora.notifications.confirmation import ConfirmedLine, PaidOrder
from agora.notifications.events import MAIL_QUEUED, MailQueued
from agora.notifications.ports import NotificationsUnitOfWorkFactory, RecipientDirectory
from agora.notifications.services import MailService
from agora.platform.events.consumers import Consumer, Received
from agora.platform.logging import get_logger

log = get_logger("agora.notifications")

MAIL_SENDER = "notifications.mail-sender"
ORDER_CONFIRMATION = "notifications.order-confirmation"
ORDER_PAID = "ordering.OrderPaid"


def mail_sender_consumer(mail: MailService, *, max_attempts: int) -> Consumer:
    async def handle(event: Received[Any]) -> None:
        payload: MailQueued = event.payload
        await mail.deliver(payload.message_id, final_attempt=event.attempt >= max_attempts)

    return Consumer(
        name=MAIL_SENDER,
        events=frozenset({MAIL_QUEUED}),
        handler=handle,
        summary="Send each queued email; retried with backoff, failed after the last attempt.",
        in_transaction=False,
    )


class _Money(BaseModel):
    model_config = ConfigDict(extra="ignore")
    amount: int
    currency: str


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sku: str
    name: str
    unit_price: _Money
    quantity: int


class _PaidOrderPayload(BaseModel):
    """What the confirmation reads of ``ordering.OrderPaid`` (contexts share payloads,
    never classes: this is notifications' own reading of ordering's published schema)."""

    model_config = ConfigDict(extra="ignore")
    order_id: UUID
    number: str
    customer_id: UUID
    total: _Money
    items: list[_Line]

    def order(self) -> PaidOrder:
        return PaidOrder(
            order_id=self.order_id,
            number=self.number,
            customer_id=self.customer_id,
            currency=self.total.currency,
            total_amount=self.total.amount,
            lines=tuple(
                ConfirmedLine(i.name, i.sku, i.quantity, i.unit_price.amount) for i in self.items
            ),
        )


def order_confirmation_consumer(
    mail: MailService, recipients: RecipientDirectory, uow: NotificationsUnitOfWorkFactory
) -> Consumer:
    async def handle(event: Received[Any]) -> None:
        order = _PaidOrderPayload.model_validate(event.payload.model_dump(mode="json")).order()
        recipient = await recipients.recipient(order.customer_id)
        if recipient is None:  # the account is gone: nobody to write to
            log.info("order_confirmation_skipped", order_id=str(order.order_id))
            return
        async with uow() as unit:  # joins the inbox's transaction
            await mail.queue(
                unit,
                to=recipient.email,
                subject=confirmation.subject(order),
                text=confirmation.text_body(order, recipient),
                html=confirmation.html_body(order, recipient),
                kind=confirmation.KIND,
                user_id=order.customer_id,
                dedupe_key=confirmation.dedupe_key(order.order_id),
            )
            await unit.commit()

    return Consumer(
        name=ORDER_CONFIRMATION,
        events=frozenset({ORDER_PAID}),
        handler=handle,
        summary="Mail the customer a confirmation of their paid order, once per order.",
    )
