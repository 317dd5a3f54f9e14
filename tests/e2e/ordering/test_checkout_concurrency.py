"""No oversell: many simultaneous checkouts for scarce stock, on either database."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.ordering.conftest import place, stock_of
from tests.support.accounts import Account, register_customer
from tests.support.catalog import create_product

pytestmark = pytest.mark.slow


async def test_fifty_simultaneous_checkouts_sell_exactly_the_stock(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers, stock=10)
    shoppers = await asyncio.gather(*(register_customer(client) for _ in range(10)))
    items = [{"product_id": product["id"], "quantity": 1}]

    responses = await asyncio.gather(
        *(place(client, shoppers[i % len(shoppers)], items) for i in range(50))
    )

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 10, statuses
    assert statuses.count(409) == 40, statuses
    assert {r.json()["errors"]["code"] for r in responses if r.status_code == 409} == {
        "OUT_OF_STOCK"
    }
    assert all(r.json()["data"]["status"] == "paid" for r in responses if r.status_code == 201)
    assert await stock_of(client, product["id"]) == 0
    numbers = {r.json()["data"]["number"] for r in responses if r.status_code == 201}
    assert len(numbers) == 10


async def test_simultaneous_checkouts_of_two_products_in_opposite_order_never_deadlock(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    a = await create_product(client, staff.headers, stock=20)
    b = await create_product(client, staff.headers, stock=20)
    forward = [{"product_id": a["id"], "quantity": 1}, {"product_id": b["id"], "quantity": 1}]
    backward = list(reversed(forward))
    responses = await asyncio.gather(
        *(place(client, customer, forward if i % 2 else backward) for i in range(30))
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 20, statuses
    assert await stock_of(client, a["id"]) == 0
    assert await stock_of(client, b["id"]) == 0
