"""Object-level access and mass assignment, across every customer-writable endpoint.

Another customer's objects answer 404 (never 403, which would confirm they exist), and
no request body lets a customer set what only the shop decides: role, verification,
activation, stock, price, status, ownership.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.support.access import create_api_key
from tests.support.accounts import PASSWORD, Account, login, unique_email
from tests.support.catalog import create_product

pytestmark = pytest.mark.anyio


@pytest.fixture
async def product(client: httpx.AsyncClient, staff: Account) -> dict[str, Any]:
    return await create_product(client, staff.headers)


async def state(client: httpx.AsyncClient, customer: Account, product_id: str) -> dict[str, Any]:
    """Everything a forbidden field could have changed, as the shop sees it."""
    profile = (await client.get("/api/v1/auth/profile", headers=customer.headers)).json()["data"]
    cart = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    orders = (await client.get("/api/v1/orders", headers=customer.headers)).json()
    product = (await client.get(f"/api/v1/products/{product_id}")).json()["data"]
    keys = (await client.get("/api/v1/api-keys", headers=customer.headers)).json()["data"]
    return {
        "profile": profile,
        "cart": cart,
        "orders": orders["meta"]["pagination"]["total"],
        "product": {k: product[k] for k in ("price", "stock", "is_published", "version")},
        "keys": keys,
    }


Forbidden = dict[str, Any]
FORBIDDEN_FIELDS: list[Forbidden] = [
    {"role": "admin"},
    {"is_active": True},
    {"email_verified": True},
    {"email_verified_at": "2026-01-01T00:00:00Z"},
    {"stock": 1_000_000},
    {"price": {"amount": 1, "currency": "EUR"}},
    {"unit_price": {"amount": 1, "currency": "EUR"}},
    {"status": "paid"},
    {"payment_status": "captured"},
    {"user_id": str(uuid.UUID(int=7))},
    {"customer_id": str(uuid.UUID(int=7))},
]


def endpoints(product_id: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Each customer-writable endpoint with a body that is valid before tampering."""
    return {
        "profile": ("PATCH", "/api/v1/auth/profile", {"name": "Still Me"}),
        "cart add": ("POST", "/api/v1/cart/items", {"product_id": product_id, "quantity": 1}),
        "cart quantity": ("PATCH", f"/api/v1/cart/items/{product_id}", {"quantity": 2}),
        "checkout": (
            "POST",
            "/api/v1/orders",
            {"payment_token": "tok_success", "items": [{"product_id": product_id, "quantity": 1}]},
        ),
        "checkout item": (
            "POST",
            "/api/v1/orders",
            {"payment_token": "tok_success", "items": [{"product_id": product_id, "quantity": 1}]},
        ),
        "api key": ("POST", "/api/v1/api-keys", {"name": "integration", "scopes": []}),
    }


@pytest.mark.parametrize("extra", FORBIDDEN_FIELDS, ids=lambda extra: next(iter(extra)))
@pytest.mark.parametrize(
    "endpoint", ["profile", "cart add", "cart quantity", "checkout", "checkout item", "api key"]
)
async def test_no_body_lets_a_customer_set_what_the_shop_decides(
    client: httpx.AsyncClient,
    customer: Account,
    product: dict[str, Any],
    endpoint: str,
    extra: Forbidden,
) -> None:
    await client.post(
        "/api/v1/cart/items",
        json={"product_id": product["id"], "quantity": 1},
        headers=customer.headers,
    )
    method, url, body = endpoints(product["id"])[endpoint]
    if endpoint == "checkout item":
        body = {**body, "items": [{**body["items"][0], **extra}]}
    else:
        body = {**body, **extra}
    before = await state(client, customer, product["id"])
    response = await client.request(method, url, json=body, headers=customer.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
    assert await state(client, customer, product["id"]) == before


@pytest.mark.parametrize("extra", FORBIDDEN_FIELDS, ids=lambda extra: next(iter(extra)))
async def test_registration_takes_no_privileged_fields(
    client: httpx.AsyncClient, extra: Forbidden
) -> None:
    email = unique_email("tamper")
    body = {"email": email, "password": PASSWORD, "name": "Mallory", **extra}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
    # Nothing was created: the same email can still sign up, and only as a customer.
    clean = {"email": email, "password": PASSWORD, "name": "Mallory"}
    created = await client.post("/api/v1/auth/register", json=clean)
    assert created.status_code == 201
    data = created.json()["data"]
    assert (data["role"], data["email_verified"]) == ("customer", False)
    await login(client, email, PASSWORD)


async def test_another_customers_cart_orders_and_keys_answer_404(
    client: httpx.AsyncClient, customer: Account, other_customer: Account, product: dict[str, Any]
) -> None:
    cart_line = f"/api/v1/cart/items/{product['id']}"
    await client.post(
        "/api/v1/cart/items",
        json={"product_id": product["id"], "quantity": 2},
        headers=customer.headers,
    )
    order = await client.post(
        "/api/v1/orders",
        json={
            "payment_token": "tok_success",
            "items": [{"product_id": product["id"], "quantity": 1}],
        },
        headers=customer.headers,
    )
    assert order.status_code == 201
    order_id = order.json()["data"]["id"]
    key = await create_api_key(client, customer)

    attempts: list[Callable[[], Awaitable[httpx.Response]]] = [
        lambda: client.patch(cart_line, json={"quantity": 5}, headers=other_customer.headers),
        lambda: client.delete(cart_line, headers=other_customer.headers),
        lambda: client.get(f"/api/v1/orders/{order_id}", headers=other_customer.headers),
        lambda: client.post(f"/api/v1/orders/{order_id}/cancel", headers=other_customer.headers),
        lambda: client.delete(f"/api/v1/api-keys/{key['id']}", headers=other_customer.headers),
    ]
    for attempt in attempts:
        response = await attempt()
        assert response.status_code == 404, response.text
        assert response.json()["errors"]["code"] == "NOT_FOUND"

    listed = await client.get(
        "/api/v1/orders", params={"customer_id": str(customer.id)}, headers=other_customer.headers
    )
    assert listed.json()["data"] == []
    assert (await client.get("/api/v1/api-keys", headers=other_customer.headers)).json()[
        "data"
    ] == []
    mine = (await client.get("/api/v1/cart", headers=customer.headers)).json()["data"]
    assert mine["items"][0]["quantity"] == 2
    mine_order = await client.get(f"/api/v1/orders/{order_id}", headers=customer.headers)
    assert mine_order.json()["data"]["status"] == "paid"


async def test_every_request_body_refuses_unknown_fields(client: httpx.AsyncClient) -> None:
    """The schema guard behind mass assignment: each body model forbids extra fields."""
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def open_objects(schema: dict[str, Any], path: str) -> list[str]:
        schema = resolve(schema)
        found = []
        if "properties" in schema and schema.get("additionalProperties") is not False:
            found.append(path)
        for name, prop in schema.get("properties", {}).items():
            found += open_objects(prop, f"{path}.{name}")
        for key in ("anyOf", "oneOf", "allOf"):
            for i, option in enumerate(schema.get(key, [])):
                found += open_objects(option, f"{path}[{i}]")
        if "items" in schema:
            found += open_objects(schema["items"], f"{path}[]")
        return found

    open_bodies = []
    for url, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                open_bodies += open_objects(media["schema"], f"{method.upper()} {url}")
    assert open_bodies == []
