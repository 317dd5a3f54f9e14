"""A cart stays consistent: refused commands change nothing, and reads never fail.

Whatever happens to the catalog after a product was added (deleted, unpublished,
repriced, sold out, or an old row priced in another currency), GET /cart answers 200
with the line flagged; checkout then refuses with 409 CART_NOT_READY naming the lines.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import update

from agora.bootstrap import Container
from agora.catalog.adapters.tables import products
from agora.platform.money import MAX_AMOUNT
from tests.e2e.ordering.conftest import place, stock_of
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


async def cart_of(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await client.get("/api/v1/cart", headers=account.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def price_directly(container: Container, product_id: str, currency: str) -> None:
    """What a row written before the shop refused other currencies looks like."""
    async with container.engine.begin() as conn:
        await conn.execute(
            update(products).where(products.c.id == UUID(product_id)).values(currency=currency)
        )


def issues(cart: dict[str, Any]) -> dict[str, str | None]:
    return {item["product_id"]: item["issue"] for item in cart["items"]}


# -- refused commands change nothing ----------------------------------------------------


async def test_an_add_whose_line_total_overflows_is_422_and_changes_nothing(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    cheap = await create_product(client, staff.headers)
    dear = await create_product(
        client, staff.headers, price={"amount": MAX_AMOUNT, "currency": "EUR"}, stock=100
    )
    assert (await add(client, customer, cheap["id"], 2)).status_code == 200
    before = await cart_of(client, customer)
    refused = await add(client, customer, dear["id"], 2)
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith("Money amount is out of range")
    assert error["details"]["lines"] == [dear["id"]]
    assert await cart_of(client, customer) == before


async def test_an_add_whose_cart_total_overflows_is_422_and_changes_nothing(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    dear = await create_product(
        client, staff.headers, price={"amount": MAX_AMOUNT, "currency": "EUR"}, stock=100
    )
    other = await create_product(
        client, staff.headers, price={"amount": 1, "currency": "EUR"}, stock=100
    )
    assert (await add(client, customer, dear["id"], 1)).status_code == 200
    before = await cart_of(client, customer)
    assert before["total"] == {"amount": MAX_AMOUNT, "currency": "EUR"}
    refused = await add(client, customer, other["id"], 1)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"]["details"]["lines"] == [other["id"]]
    again = await add(client, customer, dear["id"], 1)  # the same line, growing
    assert again.status_code == 422, again.text
    assert await cart_of(client, customer) == before


async def test_a_quantity_update_that_overflows_is_422_and_changes_nothing(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    dear = await create_product(
        client, staff.headers, price={"amount": MAX_AMOUNT // 2, "currency": "EUR"}, stock=100
    )
    assert (await add(client, customer, dear["id"], 1)).status_code == 200
    before = await cart_of(client, customer)
    refused = await client.patch(
        f"/api/v1/cart/items/{dear['id']}", json={"quantity": 3}, headers=customer.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"]["code"] == "VALIDATION_ERROR"
    assert await cart_of(client, customer) == before
    fits = await client.patch(
        f"/api/v1/cart/items/{dear['id']}", json={"quantity": 2}, headers=customer.headers
    )
    assert fits.status_code == 200, fits.text
    assert fits.json()["data"]["total"] == {"amount": 2 * (MAX_AMOUNT // 2), "currency": "EUR"}


async def test_a_product_in_another_currency_cannot_be_added(
    client: httpx.AsyncClient, container: Container, customer: Account, staff: Account
) -> None:
    legacy = await create_product(client, staff.headers)
    await price_directly(container, legacy["id"], "USD")
    refused = await add(client, customer, legacy["id"], 1)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"]["details"]["allowed"] == ["EUR"]
    assert (await cart_of(client, customer))["items"] == []


# -- reads never fail; checkout names what to fix -----------------------------------------


async def test_the_cart_stays_readable_whatever_happens_to_its_products(
    client: httpx.AsyncClient, container: Container, customer: Account, staff: Account
) -> None:
    kept = await create_product(client, staff.headers)
    deleted = await create_product(client, staff.headers)
    hidden = await create_product(client, staff.headers)
    sold_out = await create_product(client, staff.headers)
    legacy = await create_product(client, staff.headers)
    repriced = await create_product(client, staff.headers, stock=100)
    for product in (kept, deleted, hidden, sold_out, legacy, repriced):
        assert (await add(client, customer, product["id"], 2)).status_code == 200

    gone = await client.delete(f"/api/v1/products/{deleted['id']}", headers=staff.headers)
    assert gone.status_code == 204, gone.text
    unpublished = await client.post(
        f"/api/v1/products/{hidden['id']}/unpublish", headers=staff.headers
    )
    assert unpublished.status_code == 200, unpublished.text
    taken = await client.post(
        f"/api/v1/products/{sold_out['id']}/stock-adjustments",
        json={"delta": -10, "reason": "stock-take"},
        headers=staff.headers,
    )
    assert taken.status_code == 200, taken.text
    await price_directly(container, legacy["id"], "XYZ")
    dear = await client.patch(
        f"/api/v1/products/{repriced['id']}",
        json={"price": {"amount": MAX_AMOUNT, "currency": "EUR"}, "version": repriced["version"]},
        headers=staff.headers,
    )
    assert dear.status_code == 200, dear.text

    cart = await cart_of(client, customer)
    assert issues(cart) == {
        kept["id"]: None,
        deleted["id"]: "unavailable",
        hidden["id"]: "unavailable",
        sold_out["id"]: "out_of_stock",
        legacy["id"]: "currency_mismatch",
        repriced["id"]: "amount_out_of_range",
    }
    by_id = {item["product_id"]: item for item in cart["items"]}
    assert by_id[deleted["id"]]["name"] == deleted["name"]
    assert by_id[deleted["id"]]["unit_price"] is None
    assert by_id[legacy["id"]]["unit_price"] == {"amount": 1999, "currency": "XYZ"}
    assert by_id[repriced["id"]]["line_total"] is None
    assert [item["available"] for item in cart["items"]] == [True] + [False] * 5
    assert cart["total"] == {"amount": 2 * 1999, "currency": "EUR"}
    assert cart["item_count"] == 2

    refused = await place(client, customer, None)
    assert refused.status_code == 409, refused.text
    error = refused.json()["errors"]
    assert error["code"] == "CART_NOT_READY"
    assert {line["product_id"]: line["issue"] for line in error["details"]["lines"]} == {
        deleted["id"]: "unavailable",
        hidden["id"]: "unavailable",
        sold_out["id"]: "out_of_stock",
        legacy["id"]: "currency_mismatch",
        repriced["id"]: "amount_out_of_range",
    }
    assert await stock_of(client, kept["id"]) == 10
    assert await cart_of(client, customer) == cart

    for fix in (deleted, hidden, sold_out, legacy, repriced):
        removed = await client.delete(f"/api/v1/cart/items/{fix['id']}", headers=customer.headers)
        assert removed.status_code == 200, removed.text
    placed = await place(client, customer, None)
    assert placed.status_code == 201, placed.text
    assert placed.json()["data"]["total"] == {"amount": 2 * 1999, "currency": "EUR"}


async def test_explicit_items_in_another_currency_are_refused_and_change_nothing(
    client: httpx.AsyncClient, container: Container, customer: Account, staff: Account
) -> None:
    legacy = await create_product(client, staff.headers)
    await price_directly(container, legacy["id"], "USD")
    refused = await place(client, customer, [{"product_id": legacy["id"], "quantity": 1}])
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"]["details"]["allowed"] == ["EUR"]
    assert await stock_of(client, legacy["id"]) == 10
    orders = await client.get("/api/v1/orders", headers=customer.headers)
    assert orders.json()["meta"]["pagination"]["total"] == 0
