"""Checkout through the API: the saga, its compensation, and idempotent retries."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.ordering.conftest import place, stock_of
from tests.support.accounts import Account
from tests.support.catalog import create_product


async def test_checkout_with_explicit_items_creates_a_paid_order(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    response = await place(client, customer, [{"product_id": product["id"], "quantity": 3}])
    assert response.status_code == 201, response.text
    order = response.json()["data"]
    assert order["status"] == "paid"
    assert order["number"].startswith("AG-")
    assert order["total"] == {"amount": 3 * 1999, "currency": "EUR"}
    assert order["items"] == [
        {
            "product_id": product["id"],
            "sku": product["sku"],
            "name": product["name"],
            "unit_price": {"amount": 1999, "currency": "EUR"},
            "quantity": 3,
            "line_total": {"amount": 3 * 1999, "currency": "EUR"},
        }
    ]
    assert order["payment"]["status"] == "captured"
    assert order["payment"]["reference"].startswith("pay_test_")
    assert await stock_of(client, product["id"]) == 7


async def test_duplicate_lines_are_merged(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    line = {"product_id": product["id"], "quantity": 2}
    response = await place(client, customer, [line, line])
    assert response.status_code == 201, response.text
    assert response.json()["data"]["items"][0]["quantity"] == 4


async def test_checkout_uses_the_cart_and_empties_it(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    added = await client.post(
        "/api/v1/cart/items",
        json={"product_id": product["id"], "quantity": 2},
        headers=customer.headers,
    )
    assert added.status_code == 200, added.text
    response = await place(client, customer, None)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["items"][0]["quantity"] == 2
    cart = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert cart["items"] == []


async def test_checkout_with_an_empty_cart_is_422(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await place(client, customer, None)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_declined", "card_declined"),
        ("tok_insufficient_funds", "insufficient_funds"),
        ("tok_processing_error", "processing_error"),
    ],
)
async def test_failed_payment_is_402_and_restores_stock(
    client: httpx.AsyncClient,
    customer: Account,
    product: dict[str, Any],
    token: str,
    reason: str,
) -> None:
    response = await place(client, customer, [{"product_id": product["id"], "quantity": 4}], token)
    assert response.status_code == 402, response.text
    error = response.json()["errors"]
    assert error["code"] == "PAYMENT_DECLINED"
    assert error["details"]["reason"] == reason
    assert await stock_of(client, product["id"]) == 10
    order = await client.get(
        f"/api/v1/orders/{error['details']['order_id']}", headers=customer.headers
    )
    assert order.json()["data"]["status"] == "payment_failed"


async def test_out_of_stock_is_409_and_changes_nothing(
    client: httpx.AsyncClient, customer: Account, staff: Account, product: dict[str, Any]
) -> None:
    scarce = await create_product(client, staff.headers, stock=1)
    before = (await client.get("/api/v1/orders", headers=customer.headers)).json()
    response = await place(
        client,
        customer,
        [{"product_id": product["id"], "quantity": 2}, {"product_id": scarce["id"], "quantity": 2}],
    )
    assert response.status_code == 409, response.text
    assert response.json()["errors"]["code"] == "OUT_OF_STOCK"
    assert await stock_of(client, product["id"]) == 10
    assert await stock_of(client, scarce["id"]) == 1
    after = (await client.get("/api/v1/orders", headers=customer.headers)).json()
    assert after["meta"]["pagination"]["total"] == before["meta"]["pagination"]["total"]


async def test_unknown_product_is_404(client: httpx.AsyncClient, customer: Account) -> None:
    response = await place(client, customer, [{"product_id": str(uuid.uuid4()), "quantity": 1}])
    assert response.status_code == 404
    assert response.json()["errors"]["code"] == "NOT_FOUND"


async def test_unpublished_product_cannot_be_ordered(
    client: httpx.AsyncClient, customer: Account, staff: Account
) -> None:
    hidden = await create_product(client, staff.headers, is_published=False)
    response = await place(client, customer, [{"product_id": hidden["id"], "quantity": 1}])
    assert response.status_code == 404


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        {"payment_token": "tok_success", "items": [{"product_id": "P", "quantity": 0}]},
        {"payment_token": "tok_success", "items": [{"product_id": "P", "quantity": 100}]},
        {"payment_token": "tok_success", "items": [{"product_id": "not-a-uuid", "quantity": 1}]},
        {"payment_token": "tok_success", "items": []},
        {"payment_token": "", "items": [{"product_id": "P", "quantity": 1}]},
        {"items": [{"product_id": "P", "quantity": 1}]},
        {"payment_token": "tok_success", "items": [{"product_id": "P", "quantity": 1}], "total": 1},
        {"payment_token": "tok_success", "items": [{"product_id": "P", "quantity": 1, "price": 1}]},
    ],
)
async def test_bad_order_bodies_are_422_and_change_nothing(
    client: httpx.AsyncClient,
    customer: Account,
    product: dict[str, Any],
    body: dict[str, Any],
) -> None:
    for item in body.get("items", []):
        if item["product_id"] == "P":
            item["product_id"] = product["id"]
    response = await client.post("/api/v1/orders", json=body, headers=customer.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
    assert await stock_of(client, product["id"]) == 10


async def test_unknown_payment_token_is_422_and_changes_nothing(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    response = await place(
        client, customer, [{"product_id": product["id"], "quantity": 1}], "4242424242424242"
    )
    assert response.status_code == 422
    assert response.json()["errors"]["details"]["field"] == "payment_token"
    assert await stock_of(client, product["id"]) == 10


async def test_malformed_json_is_400(client: httpx.AsyncClient, customer: Account) -> None:
    response = await client.post(
        "/api/v1/orders",
        content=b'{"payment_token": ',
        headers={**customer.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"]["code"] == "MALFORMED_JSON"


async def test_checkout_needs_authentication(
    client: httpx.AsyncClient, product: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/v1/orders",
        json={
            "payment_token": "tok_success",
            "items": [{"product_id": product["id"], "quantity": 1}],
        },
    )
    assert response.status_code == 401
    assert await stock_of(client, product["id"]) == 10


async def test_same_idempotency_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    items = [{"product_id": product["id"], "quantity": 1}]
    key = str(uuid.uuid4())
    first = await place(client, customer, items, key=key)
    again = await place(client, customer, items, key=key)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await stock_of(client, product["id"]) == 9


async def test_declined_outcome_is_replayed_too(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    items = [{"product_id": product["id"], "quantity": 1}]
    key = str(uuid.uuid4())
    first = await place(client, customer, items, "tok_declined", key=key)
    again = await place(client, customer, items, "tok_declined", key=key)
    assert first.status_code == again.status_code == 402
    assert again.content == first.content
    orders = await client.get("/api/v1/orders", headers=customer.headers)
    assert orders.json()["meta"]["pagination"]["total"] == 1


async def test_same_idempotency_key_with_another_body_is_422(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    key = str(uuid.uuid4())
    first = await place(client, customer, [{"product_id": product["id"], "quantity": 1}], key=key)
    assert first.status_code == 201
    other = await place(client, customer, [{"product_id": product["id"], "quantity": 2}], key=key)
    assert other.status_code == 422
    assert other.json()["errors"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await stock_of(client, product["id"]) == 9


async def test_idempotency_keys_are_scoped_per_customer(
    client: httpx.AsyncClient, customer: Account, other_customer: Account, product: dict[str, Any]
) -> None:
    items = [{"product_id": product["id"], "quantity": 1}]
    key = str(uuid.uuid4())
    mine = await place(client, customer, items, key=key)
    theirs = await place(client, other_customer, items, key=key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]


async def test_invalid_idempotency_key_is_422(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    response = await place(
        client, customer, [{"product_id": product["id"], "quantity": 1}], key=" "
    )
    assert response.status_code == 422
