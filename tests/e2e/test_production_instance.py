"""An instance built with production settings: no development route, no development secret.

The app is built in process on the suite's database (SQLite or PostgreSQL) with a
configuration that passes every production check (``tests/support/production.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.notifications.api import dev_router as dev_routes
from agora.payments.adapters.sql import SqlPaymentsUnitOfWork
from agora.payments.adapters.test_cards import sign
from agora.payments.domain import PaymentStatus
from agora.platform.production_guard import TEST_WEBHOOK_SECRET
from tests.conftest import make_test_settings
from tests.e2e.payments.test_webhooks_api import captured_reference, post, refund_event
from tests.support.accounts import Account, register_customer, unique_email
from tests.support.catalog import create_product
from tests.support.production import PRODUCTION

Production = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def production(migrated: str) -> Production:
    """A client of the app built with production settings (plus ``overrides``)."""

    @asynccontextmanager
    async def open_client(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_test_settings(migrated, **{**PRODUCTION, **overrides})
        built = await build_container(settings)
        transport = httpx.ASGITransport(
            app=create_app(settings, container=built), raise_app_exceptions=False
        )
        try:
            async with httpx.AsyncClient(transport=transport, base_url="https://test") as http:
                yield http
        finally:
            await built.close()

    return open_client


async def test_no_development_route_is_reachable_in_production(
    client: httpx.AsyncClient, production: Production
) -> None:
    development_only = sorted(route.path for route in dev_routes.routes if route.path)
    assert development_only == ["/dev/mailbox", "/dev/mailbox.json"]
    async with production() as http:
        for path in development_only:
            assert (await client.get(path)).status_code == 200, path
            response = await http.get(path)
            assert response.status_code == 404, path
            assert response.json()["errors"]["code"] == "NOT_FOUND"


async def test_readiness_names_the_test_payment_provider_chosen_for_production(
    production: Production,
) -> None:
    async with production() as http:
        ready = await http.get("/health/ready")
    assert ready.status_code == 200
    data = ready.json()["data"]
    # No mail server answers this instance: mail is degraded, the instance still ready.
    assert data["status"] == "degraded"
    assert data["checks"]["mail"]["status"] == "degraded"
    assert data["checks"]["database"]["status"] == "ok"
    assert [w["code"] for w in data["warnings"]] == ["TEST_PAYMENTS_PROVIDER"]
    # Only the code: readiness is anonymous; the explanation is in the start-up log.
    assert data["warnings"] == [{"code": "TEST_PAYMENTS_PROVIDER"}]


async def test_readiness_names_rate_limits_switched_off_in_production(
    production: Production,
) -> None:
    async with production(rate_limit_enabled=False) as http:
        data = (await http.get("/health/ready")).json()["data"]
    assert [w["code"] for w in data["warnings"]] == ["TEST_PAYMENTS_PROVIDER", "RATE_LIMITS_OFF"]


async def test_readiness_outside_production_has_no_warnings(client: httpx.AsyncClient) -> None:
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["data"]["warnings"] == []


async def test_a_webhook_signed_with_the_public_test_secret_changes_nothing_in_production(
    production: Production,
    client: httpx.AsyncClient,
    container: Container,
    customer: Account,
    staff: Account,
) -> None:
    reference = await captured_reference(client, customer, staff)
    payload = refund_event(reference)
    async with production() as http:
        response = await post(http, payload, sign(payload, TEST_WEBHOOK_SECRET))
    assert response.status_code == 401
    assert response.json()["errors"]["code"] == "UNAUTHENTICATED"
    async with SqlPaymentsUnitOfWork(container.engine, read_only=True) as unit:
        payment = await unit.payments.by_reference("test", reference)
    assert payment is not None
    assert payment.status is PaymentStatus.CAPTURED


async def test_production_checkout_waits_for_a_verified_address(
    production: Production, client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers, stock=3)
    # Signed in where the suite's signing key lives; the production app verifies the token.
    shopper = await register_customer(client, email=unique_email("unverified"))
    async with production() as http:
        refused = await http.post(
            "/api/v1/orders",
            json={
                "payment_token": "tok_success",
                "items": [{"product_id": product["id"], "quantity": 1}],
            },
            headers=shopper.headers,
        )
    assert refused.status_code == 403, refused.text
    assert refused.json()["errors"]["code"] == "EMAIL_NOT_VERIFIED"
    stock = await client.get(f"/api/v1/products/{product['id']}")
    assert stock.json()["data"]["stock"] == 3
