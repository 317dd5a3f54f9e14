"""Reading orders and moving them through their life over the API."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import httpx
import orjson
import pytest

from agora.bootstrap import Container
from tests.e2e.ordering.conftest import place, stock_of
from tests.support.accounts import Account


async def paid_order(
    client: httpx.AsyncClient, account: Account, product: dict[str, Any], quantity: int = 1
) -> dict[str, Any]:
    response = await place(client, account, [{"product_id": product["id"], "quantity": quantity}])
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()["data"]
    return order


async def test_customer_lists_and_reads_their_own_orders_newest_first(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    first = await paid_order(client, customer, product)
    second = await paid_order(client, customer, product)
    listed = await client.get("/api/v1/orders", headers=customer.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert [o["id"] for o in body["data"]] == [second["id"], first["id"]]
    assert body["meta"]["pagination"] == {"page": 1, "page_size": 20, "total": 2, "pages": 1}
    one = await client.get(f"/api/v1/orders/{first['id']}", headers=customer.headers)
    assert one.json()["data"] == first | {"updated_at": one.json()["data"]["updated_at"]}


async def test_customer_cannot_see_another_customers_order(
    client: httpx.AsyncClient, customer: Account, other_customer: Account, product: dict[str, Any]
) -> None:
    order = await paid_order(client, customer, product)
    response = await client.get(f"/api/v1/orders/{order['id']}", headers=other_customer.headers)
    assert response.status_code == 404
    cancel = await client.post(
        f"/api/v1/orders/{order['id']}/cancel", headers=other_customer.headers
    )
    assert cancel.status_code == 404
    listed = await client.get(
        "/api/v1/orders", params={"customer_id": str(customer.id)}, headers=other_customer.headers
    )
    assert listed.json()["data"] == []


async def test_staff_list_all_orders_with_filters(
    client: httpx.AsyncClient,
    customer: Account,
    other_customer: Account,
    staff: Account,
    product: dict[str, Any],
) -> None:
    mine = await paid_order(client, customer, product)
    await paid_order(client, other_customer, product)
    by_customer = await client.get(
        "/api/v1/orders", params={"customer_id": str(customer.id)}, headers=staff.headers
    )
    assert [o["id"] for o in by_customer.json()["data"]] == [mine["id"]]
    by_status = await client.get(
        "/api/v1/orders",
        params={"customer_id": str(customer.id), "status": "cancelled"},
        headers=staff.headers,
    )
    assert by_status.json()["data"] == []
    window = await client.get(
        "/api/v1/orders",
        params={"customer_id": str(customer.id), "created_from": mine["created_at"]},
        headers=staff.headers,
    )
    assert [o["id"] for o in window.json()["data"]] == [mine["id"]]
    before = await client.get(
        "/api/v1/orders",
        params={"customer_id": str(customer.id), "created_to": mine["created_at"]},
        headers=staff.headers,
    )
    assert before.json()["data"] == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "params",
    [{"status": "lost"}, {"page_size": 101}, {"created_from": "yesterday"}, {"customer_id": "x"}],
)
async def test_bad_list_filters_are_422(
    client: httpx.AsyncClient, staff: Account, params: dict[str, Any]
) -> None:
    response = await client.get("/api/v1/orders", params=params, headers=staff.headers)
    assert response.status_code == 422


async def test_orders_need_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/orders")).status_code == 401
    assert (await client.get(f"/api/v1/orders/{uuid.uuid4()}")).status_code == 401


async def test_unknown_order_is_404(client: httpx.AsyncClient, customer: Account) -> None:
    response = await client.get(f"/api/v1/orders/{uuid.uuid4()}", headers=customer.headers)
    assert response.status_code == 404
    malformed = await client.get("/api/v1/orders/not-a-uuid", headers=customer.headers)
    assert malformed.status_code == 422


async def test_customer_cancels_a_paid_order_refunded_and_restocked(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    order = await paid_order(client, customer, product, quantity=3)
    response = await client.post(
        f"/api/v1/orders/{order['id']}/cancel",
        json={"reason": "ordered by mistake"},
        headers=customer.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "cancelled"
    assert data["payment"]["status"] == "refunded"
    assert await stock_of(client, product["id"]) == 10
    again = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer.headers)
    assert again.status_code == 409
    assert again.json()["errors"]["code"] == "INVALID_STATE_TRANSITION"
    assert await stock_of(client, product["id"]) == 10


async def test_concurrent_cancels_refund_and_restock_once(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    order = await paid_order(client, customer, product, quantity=2)
    url = f"/api/v1/orders/{order['id']}/cancel"
    responses = await asyncio.gather(
        *(client.post(url, headers=customer.headers) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
    assert await stock_of(client, product["id"]) == 10


async def test_staff_fulfill_ship_deliver_and_refund(
    client: httpx.AsyncClient, customer: Account, staff: Account, product: dict[str, Any]
) -> None:
    order = await paid_order(client, customer, product, quantity=2)
    for step, status in (("fulfill", "fulfilled"), ("ship", "shipped"), ("deliver", "delivered")):
        response = await client.post(f"/api/v1/orders/{order['id']}/{step}", headers=staff.headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["status"] == status
    refund = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=staff.headers)
    assert refund.status_code == 200, refund.text
    assert refund.json()["data"]["status"] == "refunded"
    assert refund.json()["data"]["payment"]["status"] == "refunded"
    assert await stock_of(client, product["id"]) == 8  # delivered goods are not restocked


async def test_illegal_transition_is_409(
    client: httpx.AsyncClient, customer: Account, staff: Account, product: dict[str, Any]
) -> None:
    order = await paid_order(client, customer, product)
    response = await client.post(f"/api/v1/orders/{order['id']}/ship", headers=staff.headers)
    assert response.status_code == 409
    assert response.json()["errors"]["code"] == "INVALID_STATE_TRANSITION"


async def test_customer_cannot_use_staff_transitions(
    client: httpx.AsyncClient, customer: Account, product: dict[str, Any]
) -> None:
    order = await paid_order(client, customer, product)
    for step in ("fulfill", "ship", "deliver", "refund"):
        response = await client.post(
            f"/api/v1/orders/{order['id']}/{step}", headers=customer.headers
        )
        assert response.status_code == 403, step
        assert response.json()["errors"]["code"] == "FORBIDDEN"


async def test_customer_cannot_cancel_once_fulfilled_but_staff_can(
    client: httpx.AsyncClient, customer: Account, staff: Account, product: dict[str, Any]
) -> None:
    order = await paid_order(client, customer, product, quantity=4)
    await client.post(f"/api/v1/orders/{order['id']}/fulfill", headers=staff.headers)
    refused = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer.headers)
    assert refused.status_code == 409
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=staff.headers)
    assert cancelled.status_code == 200
    assert await stock_of(client, product["id"]) == 10


async def test_request_still_in_progress_is_409(
    client: httpx.AsyncClient, container: Container, customer: Account, product: dict[str, Any]
) -> None:
    body = {"payment_token": "tok_success", "items": [{"product_id": product["id"], "quantity": 1}]}
    key = str(uuid.uuid4())
    request_hash = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    store = container.infrastructure.idempotency
    assert await store.claim(f"orders:{customer.id}", key, request_hash) is None
    response = await client.post(
        "/api/v1/orders", json=body, headers={**customer.headers, "Idempotency-Key": key}
    )
    assert response.status_code == 409
    assert response.json()["errors"]["code"] == "REQUEST_IN_PROGRESS"
    assert await stock_of(client, product["id"]) == 10
