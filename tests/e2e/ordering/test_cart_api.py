"""The cart over the API: live prices, quantity rules, privacy."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.support.accounts import Account
from tests.support.catalog import create_product


async def add(
    client: httpx.AsyncClient, account: Account, product_id: str, quantity: int
) -> httpx.Response:
    return await client.post(
        "/api/v1/cart/items",
        json={"product_id": product_id, "quantity": quantity},
        headers=account.headers,
    )


async def test_cart_starts_empty(client: httpx.AsyncClient, customer: Account) -> None:
    response = await client.get("/api/v1/cart", headers=customer.headers)
    assert response.status_code == 200
    assert response.json()["data"] == {
        "items": [],
        "total": {"amount": 0, "currency": "EUR"},
        "item_count": 0,
    }


async def test_add_accumulates_and_totals_are_live(
    client: httpx.AsyncClient, customer: Account, staff: Account, product: dict[str, Any]
) -> None:
    await add(client, customer, product["id"], 2)
    response = await add(client, customer, product["id"], 3)
    assert response.status_code == 200, response.text
    cart = response.json()["data"]
    assert cart["items"] == [
        {
            "product_id": product["id"],
            "sku": product["sku"],
            "name": product["name"],
            "unit_price": {"amount": 1999, "currency": "EUR"},
            "quantity": 5,
            "line_total": {"amount": 5 * 1999, "currency": "EUR"},
            "available": True,
            "issue": None,
        }
    ]
    assert cart["total"] == {"amount": 5 * 1999, "currency": "EUR"}
    assert cart["item_count"] == 5
    repriced = await client.patch(
        f"/api/v1/products/{product['id']}",
        json={"price": {"amount": 1000, "currency": "EUR"}, "version": product["version"]},
        headers=staff.headers,
    )
    assert repriced.status_code == 200, repriced.text
    cart = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert cart["total"] == {"amount": 5 * 1000, "currency": "EUR"}


async def test_change_quantity_and_remove(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    await add(client, customer, product["id"], 1)
    changed = await client.patch(
        f"/api/v1/cart/items/{product['id']}", json={"quantity": 12}, headers=customer.headers
    )
    assert changed.status_code == 200
    assert changed.json()["data"]["items"][0]["quantity"] == 12
    assert changed.json()["data"]["items"][0]["available"] is False  # only 10 in stock
    removed = await client.delete(f"/api/v1/cart/items/{product['id']}", headers=customer.headers)
    assert removed.status_code == 200
    assert removed.json()["data"]["items"] == []
    gone = await client.delete(f"/api/v1/cart/items/{product['id']}", headers=customer.headers)
    assert gone.status_code == 404


async def test_clear_cart(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    await add(client, customer, product["id"], 1)
    response = await client.delete("/api/v1/cart", headers=customer.headers)
    assert response.status_code == 200
    assert response.json()["data"]["items"] == []


@pytest.mark.anyio
@pytest.mark.parametrize("quantity", [0, -1, 100, "two", None])
async def test_quantity_out_of_range_is_422(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any], quantity: Any
) -> None:
    response = await client.post(
        "/api/v1/cart/items",
        json={"product_id": product["id"], "quantity": quantity},
        headers=customer.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
    cart = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert cart["items"] == []


async def test_adding_past_99_is_422_and_keeps_the_quantity(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    await add(client, customer, product["id"], 90)
    response = await add(client, customer, product["id"], 10)
    assert response.status_code == 422
    cart = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert cart["items"][0]["quantity"] == 90


async def test_patch_quantity_rules(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    await add(client, customer, product["id"], 1)
    for quantity in (0, 100):
        response = await client.patch(
            f"/api/v1/cart/items/{product['id']}",
            json={"quantity": quantity},
            headers=customer.headers,
        )
        assert response.status_code == 422
    missing = await client.patch(
        f"/api/v1/cart/items/{uuid.uuid4()}", json={"quantity": 1}, headers=customer.headers
    )
    assert missing.status_code == 404


async def test_unknown_or_unpublished_product_is_404(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    assert (await add(client, customer, str(uuid.uuid4()), 1)).status_code == 404
    hidden = await create_product(client, staff.headers, is_published=False)
    assert (await add(client, customer, hidden["id"], 1)).status_code == 404


async def test_unexpected_fields_and_malformed_bodies_are_refused(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    extra = await client.post(
        "/api/v1/cart/items",
        json={"product_id": product["id"], "quantity": 1, "unit_price": 1},
        headers=customer.headers,
    )
    assert extra.status_code == 422
    malformed = await client.post(
        "/api/v1/cart/items",
        content=b"{nope",
        headers={**customer.headers, "content-type": "application/json"},
    )
    assert malformed.status_code == 400


async def test_carts_are_private(
    client: httpx.AsyncClient, customer: Account, other_customer: Account, product: dict[str, Any]
) -> None:
    await add(client, customer, product["id"], 2)
    theirs = (await client.get("/api/v1/cart", headers=other_customer.headers)).json()["data"]
    assert theirs["items"] == []
    response = await client.delete(
        f"/api/v1/cart/items/{product['id']}", headers=other_customer.headers
    )
    assert response.status_code == 404
    mine = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert mine["items"][0]["quantity"] == 2


async def test_cart_needs_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/cart")).status_code == 401


async def test_concurrent_adds_of_one_product_lose_no_unit(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    product = await create_product(client, staff.headers, stock=500)
    body = {"product_id": product["id"], "quantity": 3}
    responses = await asyncio.gather(
        *(client.post("/api/v1/cart/items", json=body, headers=customer.headers) for _ in range(10))
    )
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    cart = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(product["id"], 30)]


async def test_concurrent_adds_never_push_a_line_past_99(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    product = await create_product(client, staff.headers, stock=500)
    body = {"product_id": product["id"], "quantity": 40}
    responses = await asyncio.gather(
        *(client.post("/api/v1/cart/items", json=body, headers=customer.headers) for _ in range(4))
    )
    refused = [r for r in responses if r.status_code == 422]
    assert len(refused) == 2
    assert all(r.json()["errors"]["code"] == "VALIDATION_ERROR" for r in refused)
    cart = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert cart["items"][0]["quantity"] == 80
