"""Idempotent checkout stores an outcome only once the request started executing.

A checkout refused before it changed anything (an empty cart, a product short of stock)
leaves its Idempotency-Key unused, so the same key succeeds once the cause is fixed;
from the moment the order and its stock reservation are committed, the outcome (201 or
a declined 402) is stored and replayed.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.ordering.conftest import place, stock_of
from tests.support.accounts import Account
from tests.support.catalog import create_product


async def fill_cart(
    client: httpx.AsyncClient, account: Account, product: dict[str, Any], quantity: int
) -> None:
    added = await client.post(
        "/api/v1/cart/items",
        json={"product_id": product["id"], "quantity": quantity},
        headers=account.headers,
    )
    assert added.status_code == 200, added.text


async def order_count(client: httpx.AsyncClient, account: Account) -> int:
    orders = await client.get("/api/v1/orders", headers=account.headers)
    total: int = orders.json()["meta"]["pagination"]["total"]
    return total


async def test_a_key_refused_for_an_empty_cart_works_once_the_cart_is_filled(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    key = str(uuid.uuid4())
    empty = await place(client, customer, None, key=key)
    assert empty.status_code == 422, empty.text
    assert empty.json()["errors"]["code"] == "VALIDATION_ERROR"
    assert "idempotent-replayed" not in empty.headers

    await fill_cart(client, customer, product, 2)
    placed = await place(client, customer, None, key=key)
    assert placed.status_code == 201, placed.text
    assert "idempotent-replayed" not in placed.headers
    assert placed.json()["data"]["items"][0]["quantity"] == 2
    assert await stock_of(client, product["id"]) == 8

    again = await place(client, customer, None, key=key)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == placed.content
    other = await place(client, customer, None, "tok_declined", key=key)
    assert other.status_code == 422, other.text
    assert other.json()["errors"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await order_count(client, customer) == 1
    assert await stock_of(client, product["id"]) == 8


async def test_a_declined_payment_started_executing_and_is_replayed(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    key = str(uuid.uuid4())
    await fill_cart(client, customer, product, 1)
    declined = await place(client, customer, None, "tok_declined", key=key)
    assert declined.status_code == 402, declined.text
    again = await place(client, customer, None, "tok_declined", key=key)
    assert again.status_code == 402
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == declined.content
    other = await place(client, customer, None, key=key)
    assert other.status_code == 422
    assert other.json()["errors"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await order_count(client, customer) == 1  # the one payment_failed order
    assert await stock_of(client, product["id"]) == 10


async def test_a_key_refused_for_short_stock_works_once_restocked(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    scarce = await create_product(client, staff.headers, stock=1)
    items = [{"product_id": scarce["id"], "quantity": 3}]
    key = str(uuid.uuid4())
    short = await place(client, customer, items, key=key)
    assert short.status_code == 409, short.text
    assert short.json()["errors"]["code"] == "OUT_OF_STOCK"
    restocked = await client.post(
        f"/api/v1/products/{scarce['id']}/stock-adjustments",
        json={"delta": 5, "reason": "delivery"},
        headers=staff.headers,
    )
    assert restocked.status_code == 200, restocked.text
    placed = await place(client, customer, items, key=key)
    assert placed.status_code == 201, placed.text
    assert await stock_of(client, scarce["id"]) == 3
