"""``AGORA_MFA_REQUIRED_FOR_STAFF_AND_ADMINS``: privileged roles act only in MFA sessions.

A second app on the same database runs with the setting on. Staff and admins signed in
with a password alone keep their profile and can enroll, but every staff or admin
action is 403 MFA_REQUIRED until they log in again with a code. Customers notice nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.platform.access import Role
from tests.conftest import make_test_settings
from tests.support.accounts import Account, create_account, register_customer
from tests.support.catalog import create_product, unique_suffix
from tests.support.mfa import code_step, enable_mfa, password_step

pytestmark = pytest.mark.anyio

PRODUCTS = "/api/v1/products"


@pytest.fixture(scope="module")
async def strict_container(database_url: str, migrated: str) -> AsyncIterator[Container]:
    built = await build_container(
        make_test_settings(database_url, mfa_required_for_staff_and_admins=True)
    )
    yield built
    await built.close()


@pytest.fixture
async def strict_client(strict_container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(strict_container.settings, container=strict_container)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _product() -> dict[str, Any]:
    suffix = unique_suffix()
    return {
        "sku": f"MFA-{suffix.upper()}",
        "slug": f"mfa-product-{suffix}",
        "name": f"MFA Product {suffix}",
        "price": {"amount": 1500, "currency": "EUR"},
        "stock": 3,
        "is_published": True,
    }


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
async def test_a_privileged_session_without_mfa_is_refused_with_mfa_required(
    strict_container: Container, strict_client: httpx.AsyncClient, role: Role
) -> None:
    account = await create_account(strict_container, strict_client, role)

    response = await strict_client.post(PRODUCTS, json=_product(), headers=account.headers)

    assert response.status_code == 403
    error = response.json()["errors"]
    assert error["code"] == "MFA_REQUIRED"
    assert "/api/v1/auth/mfa/totp/enroll" in error["message"]
    assert error["details"] == {"required": "catalog:write"}
    # Their own profile and the MFA routes stay open to them.
    profile = await strict_client.get("/api/v1/auth/profile", headers=account.headers)
    assert profile.status_code == 200
    enroll = await strict_client.post("/api/v1/auth/mfa/totp/enroll", headers=account.headers)
    assert enroll.status_code == 200


async def test_staff_act_after_logging_in_with_a_second_factor(
    strict_container: Container, strict_client: httpx.AsyncClient
) -> None:
    staff = await create_account(strict_container, strict_client, Role.STAFF)
    enabled = await enable_mfa(strict_client, staff)

    # Enrolling does not lift the restriction on the session that was opened without it.
    still = await strict_client.post(PRODUCTS, json=_product(), headers=staff.headers)
    assert still.status_code == 403
    token = await password_step(strict_client, staff)
    # The confirmation used this step's code: the app's next code completes the login.
    completed = await code_step(strict_client, token, enabled.app.code(steps_ahead=1))
    assert completed.status_code == 200, completed.text
    tokens = completed.json()["data"]

    product = await create_product(strict_client, _bearer(tokens))
    assert product["sku"].startswith("TEST-")
    # A refreshed session is still an MFA session.
    rotated = await strict_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    again = await strict_client.post(
        PRODUCTS, json=_product(), headers=_bearer(rotated.json()["data"])
    )
    assert again.status_code == 201, again.text


async def test_customers_are_not_affected(strict_client: httpx.AsyncClient) -> None:
    customer: Account = await register_customer(strict_client)

    cart = await strict_client.get("/api/v1/cart", headers=customer.headers)
    refused = await strict_client.post(PRODUCTS, json=_product(), headers=customer.headers)

    assert cart.status_code == 200
    assert refused.status_code == 403
    assert refused.json()["errors"]["code"] == "FORBIDDEN"


async def test_with_the_setting_off_staff_act_without_mfa(
    container: Container, client: httpx.AsyncClient
) -> None:
    staff = await create_account(container, client, Role.STAFF)
    response = await client.post(PRODUCTS, json=_product(), headers=staff.headers)
    assert response.status_code == 201, response.text


@pytest.fixture
async def strict_browser(strict_container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(strict_container.settings, container=strict_container)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    # https: browsers send the Secure __Host- cookies only to secure origins.
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


async def test_a_cookie_session_follows_the_same_rule_and_its_second_step_lifts_it(
    strict_container: Container,
    strict_client: httpx.AsyncClient,
    strict_browser: httpx.AsyncClient,
) -> None:
    staff = await create_account(strict_container, strict_client, Role.STAFF)
    password_only = await strict_browser.post(
        "/api/v1/auth/cookie-login", json={"email": staff.email, "password": staff.password}
    )
    assert password_only.status_code == 200, password_only.text
    csrf = {"X-CSRF-Token": password_only.json()["data"]["csrf_token"]}

    refused = await strict_browser.post(PRODUCTS, json=_product(), headers=csrf)

    assert refused.status_code == 403
    assert refused.json()["errors"]["code"] == "MFA_REQUIRED"

    mfa = await enable_mfa(strict_client, staff)
    strict_browser.cookies.clear()
    challenge = await strict_browser.post(
        "/api/v1/auth/cookie-login", json={"email": staff.email, "password": staff.password}
    )
    assert challenge.json()["data"]["mfa_required"] is True
    assert "__Host-agora_session" not in challenge.cookies
    completed = await strict_browser.post(
        "/api/v1/auth/cookie-login/mfa",
        json={"mfa_token": challenge.json()["data"]["mfa_token"], "code": mfa.app.code(1)},
    )
    assert completed.status_code == 200, completed.text
    csrf = {"X-CSRF-Token": completed.json()["data"]["csrf_token"]}

    created = await strict_browser.post(PRODUCTS, json=_product(), headers=csrf)

    assert created.status_code == 201, created.text
