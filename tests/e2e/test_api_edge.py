"""The API edge: envelope, request IDs, limits, content types, docs, health."""

from __future__ import annotations

import httpx
from starlette.types import Message, Receive, Scope, Send

from agora.http.middleware import RequestContextMiddleware


async def test_liveness_answers_in_the_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["data"] == {"status": "ok"}
    assert body["meta"]["version"] == "v1"
    assert body["meta"]["request_id"] == response.headers["x-request-id"]


async def test_readiness_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["data"]["checks"]["database"]["status"] == "ok"


async def test_request_id_is_echoed_when_valid_and_replaced_when_not(
    client: httpx.AsyncClient,
) -> None:
    echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    replaced = await client.get("/health/live", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_unknown_route_is_a_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["errors"]["code"] == "NOT_FOUND"


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_oversized_body_is_rejected_with_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"x": "' + b"a" * 70_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_non_json_body_is_rejected_with_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"email=a", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["errors"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_openapi_is_3_1_and_docs_need_no_internet(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "https://" not in page.text
    assert "http://" not in page.text
    for asset in ("/docs/static/swagger-ui/swagger-ui-bundle.js", "/docs/static/init.js"):
        assert (await client.get(asset)).status_code == 200


async def test_a_body_cut_short_by_a_disconnect_never_runs() -> None:
    """A form cut mid-body (``...&password=long`` of ``longpass``) must not be executed."""
    ran: list[bytes] = []

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        ran.append((await receive()).get("body", b""))

    middleware = RequestContextMiddleware(application, max_body_bytes=65_536, access_log=False)
    incoming: list[Message] = [
        {"type": "http.request", "body": b"token=abc&password=long", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/account/reset-password",
        "raw_path": b"/account/reset-password",
        "query_string": b"",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("127.0.0.1", 5000),
    }
    await middleware(scope, receive, send)
    assert ran == []
    assert sent == []  # nobody is listening any more
