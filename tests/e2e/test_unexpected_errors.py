"""An error nothing mapped is still an answer of ours: envelope, request ID, security headers.

The failing routes are added to an app of their own (never to the shared one), so the
rest of the suite and the OpenAPI document do not see them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import StreamingResponse

from agora.app import create_app
from agora.bootstrap import Container

SECRET = "connection string with password hunter2"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}

failing = APIRouter(include_in_schema=False)


@failing.get("/api/v1/test-only/boom")
async def boom() -> None:
    raise RuntimeError(SECRET)


@failing.get("/test-only/page-boom")
async def page_boom() -> None:
    raise KeyError(SECRET)


@failing.get("/api/v1/test-only/half-sent")
async def half_sent() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError(SECRET)

    return StreamingResponse(chunks(), media_type="text/plain")


@pytest.fixture
def failing_app(container: Container) -> FastAPI:
    app = create_app(container.settings, container=container)
    app.include_router(failing)
    return app


@pytest.fixture
async def failing_client(failing_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def assert_our_answer(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    body = response.json()
    assert body["success"] is False
    assert body["errors"]["code"] == code
    assert body["meta"]["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/api/v1/test-only/boom", "/test-only/page-boom"])
async def test_an_unexpected_error_is_a_generic_500_with_request_id_and_headers(
    failing_client: httpx.AsyncClient, path: str
) -> None:
    response = await failing_client.get(path)
    assert_our_answer(response, 500, "INTERNAL_ERROR")
    assert "request ID" in response.json()["errors"]["message"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_an_unexpected_error_keeps_the_request_id_the_client_sent(
    failing_client: httpx.AsyncClient,
) -> None:
    response = await failing_client.get(
        "/api/v1/test-only/boom", headers={"X-Request-ID": "support-ticket-42"}
    )
    assert_our_answer(response, 500, "INTERNAL_ERROR")
    assert response.headers["x-request-id"] == "support-ticket-42"


async def test_an_error_after_the_first_byte_ends_the_response_without_a_trace(
    failing_app: FastAPI, failing_client: httpx.AsyncClient
) -> None:
    response = await failing_client.get("/api/v1/test-only/half-sent")
    assert response.status_code == 200
    assert response.headers["x-request-id"]
    # Exactly what was sent before the error: no envelope glued on, no trace.
    assert response.text == "partial"
    # The error reaches the server, which cuts the connection: the client sees a broken
    # response rather than one that looks complete.
    strict = httpx.ASGITransport(app=failing_app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=strict, base_url="http://testserver") as http:
        with pytest.raises(RuntimeError, match="hunter2"):
            await http.get("/api/v1/test-only/half-sent")
    # The shared app still serves the next request.
    assert (await failing_client.get("/health/live")).status_code == 200
