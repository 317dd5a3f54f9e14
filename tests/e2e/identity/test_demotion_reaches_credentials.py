"""A demoted or deactivated staff member loses staff access within seconds, on every
instance, whatever credential they hold: an access token issued before the change, a
browser cookie session, an API key. What they may do as a customer keeps working."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.platform.access import Role
from tests.conftest import make_test_settings
from tests.support.access import create_api_key, x_api_key
from tests.support.accounts import PASSWORD, Account, create_account

pytestmark = pytest.mark.anyio

STAFF_ROUTE = "/api/v1/products?include_unpublished=true"  # catalog:read_unpublished
PROFILE = "/api/v1/auth/profile"
ORDERS = "/api/v1/orders"
# The other instance re-reads what it knows this often (production default: 5 s).
POLL_SECONDS = 0.2
WITHIN = 10.0  # well under the 30 s an instance may otherwise trust a key or a cookie


@pytest.fixture
async def other_instance(migrated: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second instance of the platform on the same database, as behind a load balancer."""
    settings = make_test_settings(migrated, session_revocation_poll_seconds=POLL_SECONDS)
    container = await build_container(settings)
    try:
        app = create_app(settings, container=container)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            yield c
    finally:
        await container.close()


async def _status(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> int:
    return (await client.get(path, headers=headers)).status_code


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = WITHIN) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not within {within}s"
        await asyncio.sleep(POLL_SECONDS / 4)


async def _change(
    client: httpx.AsyncClient, admin: Account, user: Account, **change: object
) -> None:
    response = await client.patch(f"/api/v1/users/{user.id}", json=change, headers=admin.headers)
    assert response.status_code == 200, response.text


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"]["code"]
    return code


# -- in the instance that made the change: at once --------------------------------------


async def test_a_demoted_staff_members_token_is_refused_staff_routes_at_once(
    client: httpx.AsyncClient, staff: Account, admin: Account
) -> None:
    assert await _status(client, STAFF_ROUTE, staff.headers) == 200

    await _change(client, admin, staff, role="customer")

    refused = await client.get(STAFF_ROUTE, headers=staff.headers)
    assert refused.status_code == 403
    assert _code(refused) == "FORBIDDEN"
    # As a customer the same token still works.
    assert await _status(client, PROFILE, staff.headers) == 200
    assert await _status(client, ORDERS, staff.headers) == 200


async def test_a_demoted_admins_token_keeps_only_staff_permissions(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    other_admin = await create_account(container, client, Role.ADMIN)
    assert await _status(client, "/api/v1/users", other_admin.headers) == 200

    await _change(client, admin, other_admin, role="staff")

    assert await _status(client, "/api/v1/users", other_admin.headers) == 403
    assert await _status(client, "/api/v1/audit-events", other_admin.headers) == 403
    assert await _status(client, STAFF_ROUTE, other_admin.headers) == 200


async def test_a_deactivated_staff_members_token_is_401(
    client: httpx.AsyncClient, staff: Account, admin: Account
) -> None:
    await _change(client, admin, staff, is_active=False)

    assert await _status(client, STAFF_ROUTE, staff.headers) == 401
    assert await _status(client, PROFILE, staff.headers) == 401


async def test_a_demoted_staff_members_cookie_session_is_refused_staff_routes_at_once(
    app: object, client: httpx.AsyncClient, staff: Account, admin: Account
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as browser:
        login = await browser.post(
            "/api/v1/auth/cookie-login", json={"email": staff.email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        assert (await browser.get(STAFF_ROUTE)).status_code == 200  # now trusted from memory

        await _change(client, admin, staff, role="customer")

        assert (await browser.get(STAFF_ROUTE)).status_code == 403
        assert (await browser.get(PROFILE)).status_code == 200


# -- in another instance: within its poll interval ----------------------------------------


async def test_a_demotion_reaches_the_token_on_another_instance(
    client: httpx.AsyncClient,
    other_instance: httpx.AsyncClient,
    staff: Account,
    admin: Account,
) -> None:
    assert await _status(other_instance, STAFF_ROUTE, staff.headers) == 200

    await _change(client, admin, staff, role="customer")

    async def refused() -> bool:
        return await _status(other_instance, STAFF_ROUTE, staff.headers) == 403

    await _eventually(refused)
    assert await _status(other_instance, PROFILE, staff.headers) == 200


async def test_a_demotion_reaches_the_api_key_on_another_instance(
    client: httpx.AsyncClient,
    other_instance: httpx.AsyncClient,
    staff: Account,
    admin: Account,
) -> None:
    key = x_api_key((await create_api_key(client, staff, ["catalog:read_unpublished"]))["key"])
    assert await _status(other_instance, STAFF_ROUTE, key) == 200  # verified and cached there

    await _change(client, admin, staff, role="customer")

    async def refused() -> bool:
        return await _status(other_instance, STAFF_ROUTE, key) == 403

    await _eventually(refused)
    assert await _status(other_instance, PROFILE, key) == 200


async def test_a_deactivation_reaches_the_api_key_on_another_instance(
    client: httpx.AsyncClient,
    other_instance: httpx.AsyncClient,
    staff: Account,
    admin: Account,
) -> None:
    key = x_api_key((await create_api_key(client, staff, ["catalog:read_unpublished"]))["key"])
    assert await _status(other_instance, STAFF_ROUTE, key) == 200

    await _change(client, admin, staff, is_active=False)

    async def refused() -> bool:
        return await _status(other_instance, STAFF_ROUTE, key) == 401

    await _eventually(refused)
    assert await _status(other_instance, PROFILE, key) == 401
