"""Every ordering and payments route is documented with its envelope and error shapes."""

from __future__ import annotations

import httpx

ROUTES = {
    ("get", "/api/v1/cart"),
    ("post", "/api/v1/cart/items"),
    ("patch", "/api/v1/cart/items/{product_id}"),
    ("delete", "/api/v1/cart/items/{product_id}"),
    ("delete", "/api/v1/cart"),
    ("post", "/api/v1/orders"),
    ("get", "/api/v1/orders"),
    ("get", "/api/v1/orders/{order_id}"),
    ("post", "/api/v1/orders/{order_id}/cancel"),
    ("post", "/api/v1/orders/{order_id}/fulfill"),
    ("post", "/api/v1/orders/{order_id}/ship"),
    ("post", "/api/v1/orders/{order_id}/deliver"),
    ("post", "/api/v1/orders/{order_id}/refund"),
    ("post", "/api/v1/payments/webhooks/test"),
}


async def test_ordering_routes_document_success_and_errors(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for method, path in ROUTES:
        operation = paths[path][method]
        success = "201" if (method, path) == ("post", "/api/v1/orders") else "200"
        schema = operation["responses"][success]["content"]["application/json"]["schema"]
        assert schema["$ref"].startswith("#/components/schemas/Envelope"), path
        assert any(code.startswith("4") for code in operation["responses"]), path
    checkout = paths["/api/v1/orders"]["post"]
    assert {"402", "409", "422"} <= set(checkout["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in checkout["parameters"])
