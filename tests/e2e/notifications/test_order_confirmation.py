"""A paid order is confirmed by mail: once, with its items, prices paid and total."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select

from agora.bootstrap import Container
from agora.notifications.adapters.tables import mail_messages
from agora.platform.db.tables import outbox_events
from agora.platform.events.consumers import Received
from tests.e2e.ordering.conftest import place
from tests.support.accounts import Account
from tests.support.catalog import create_product
from tests.support.mailbox import messages_to

CONSUMER = "notifications.order-confirmation"


async def paid_order_event(container: Container, order_id: UUID) -> Received[Any]:
    async with container.engine.connect() as conn:
        row = (
            await conn.execute(
                select(outbox_events).where(
                    outbox_events.c.aggregate_id == order_id,
                    outbox_events.c.name == "ordering.OrderPaid",
                )
            )
        ).one()
    payload = container.events.catalogue.parse(row.name, row.version, row.payload)
    return Received(row.id, row.name, row.version, row.aggregate_id, row.occurred_at, 1, payload)


async def test_a_paid_order_is_confirmed_once_with_its_items_and_total_even_if_paid_twice(
    client: httpx.AsyncClient, container: Container, customer: Account, staff: Account
) -> None:
    mug = await create_product(
        client, staff.headers, name="Mug <b>&</b> saucer", price={"amount": 1250, "currency": "EUR"}
    )
    tea = await create_product(client, staff.headers, price={"amount": 399, "currency": "EUR"})
    placed = await place(
        client,
        customer,
        [{"product_id": mug["id"], "quantity": 2}, {"product_id": tea["id"], "quantity": 1}],
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()["data"]
    assert order["status"] == "paid"

    (mail,) = [
        m
        for m in await messages_to(client, customer.email)
        if m["subject"] == f"Your Agora order {order['number']} is confirmed"
    ]
    assert "2 x Mug <b>&</b> saucer" in mail["text"]  # plain text: shown as typed
    assert "EUR 12.50: EUR 25.00" in mail["text"]
    assert f"1 x {tea['name']}" in mail["text"]
    assert "Total paid: EUR 28.99" in mail["text"]

    # The event delivered again (a redelivery after the inbox lost track, or a replay):
    # the consumer runs again, and still one confirmation exists and is sent.
    event = await paid_order_event(container, UUID(order["id"]))
    handler = container.events.consumers.get(CONSUMER).handler
    await handler(event)
    await handler(event)
    await container.events.backbone.drain()
    confirmations = [
        m for m in await messages_to(client, customer.email) if m["subject"] == mail["subject"]
    ]
    assert len(confirmations) == 1
    async with container.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(mail_messages).where(
                    mail_messages.c.dedupe_key == f"ordering.confirmation:{order['id']}"
                )
            )
        ).all()
        queued_events = await conn.scalar(
            select(func.count()).where(
                outbox_events.c.name == "notifications.MailQueued",
                outbox_events.c.aggregate_id == rows[0].id,
            )
        )
    (row,) = rows
    assert (row.status, row.user_id) == ("sent", UUID(str(customer.id)))
    assert queued_events == 1
    # The HTML part escapes what staff typed into the product's name.
    assert "Mug &lt;b&gt;&amp;&lt;/b&gt; saucer" in row.html_body
    assert "<b>&</b>" not in row.html_body
